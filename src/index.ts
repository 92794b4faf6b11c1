/**
 * tarn's public SDK: open a {@link Lake}, branch it, commit to it, merge it.
 *
 * @example
 * ```ts
 * import { Lake } from 'tarn'
 * const lake = await Lake.init({ home: '/tmp/lake' })
 * await lake.createBranch('alice.dev')
 * await lake.close()
 * ```
 */
export * from './catalog/index.js'
export { main as runCli } from './cli/main.js'
export { Lake, type LakeInfo, type LakeOptions, type RefWithCommit, type TableEntry } from './lake/lake.js'
export { type LakeConfig, type LakeLocation, resolveLakeConfig } from './lake/lake-config.js'
export { openCatalogBackend } from './lake/open-backend.js'
export * from './storage/index.js'
export { type Clock, fixedClock, systemClock } from './util/clock.js'
export { type ErrorCode, type ErrorContext, exitCodeFor, isTarnError, TarnError } from './util/errors.js'
export { type Random, seededRandom, systemRandom } from './util/random.js'
