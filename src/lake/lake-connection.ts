import { mkdirSync } from 'node:fs'
import { userInfo } from 'node:os'
import type { CatalogBackend } from '../catalog/backend.js'
import { Catalog } from '../catalog/catalog.js'
import type { TableMerger } from '../catalog/table-merger.js'
import { appendOnlyTableMerger } from '../iceberg/merge/append-only-merger.js'
import { appendOnlyTableReverter } from '../iceberg/merge/append-only-reverter.js'
import { MetadataCache } from '../iceberg/metadata-cache.js'
import { runMergeGuard } from '../pipeline/run/run-merge-guard.js'
import type { ObjectStore } from '../storage/object-store.js'
import { openObjectStore } from '../storage/open.js'
import { RoutingObjectStore } from '../storage/routing.js'
import { type Clock, systemClock } from '../util/clock.js'
import { TarnError } from '../util/errors.js'
import { type Random, systemRandom } from '../util/random.js'
import { type LakeConfig, type LakeLocation, resolveLakeConfig } from './lake-config.js'
import { openCatalogBackend } from './open-backend.js'

/**
 * Options of {@link Lake.open} and {@link Lake.init}.
 *
 * @example
 * ```ts
 * await Lake.open({ home: '/tmp/lake', author: 'alice', clock: fixedClock(0), random: seededRandom(1) })
 * ```
 */
export interface LakeOptions extends LakeLocation {
  /** Environment to read `TARN_*` variables from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly cwd?: string
  readonly clock?: Clock
  readonly random?: Random
  /** Author of commits (default `TARN_USER`, else the OS user name). */
  readonly author?: string
  /** A ready backend (tests and embedders); overrides the catalog URL. */
  readonly backend?: CatalogBackend
  /**
   * A ready warehouse store (tests and embedders, e.g. fault injection); overrides the store opened from the
   * warehouse URI. Absolute URIs outside it are still routed to their own stores.
   */
  readonly store?: ObjectStore
  /** Content-aware table merge used by merges (the Iceberg layer's append-only merger by default, once wired). */
  readonly tableMerger?: TableMerger
}

/**
 * An open lake's parts, before the `Lake` façade wraps them.
 */
export interface LakeConnection {
  readonly config: LakeConfig
  readonly catalog: Catalog
  readonly store: ObjectStore
  readonly clock: Clock
  readonly random: Random
  readonly author: string
  readonly env: Readonly<Record<string, string | undefined>>
  /** The lake's parsed Iceberg metadata files (its own: two lakes in one process do not share one). */
  readonly metadataCache: MetadataCache
}

/**
 * Opens (with `create`, first creates: idempotent) a lake's catalog and warehouse. The catalog gets the Iceberg
 * append-only table merger and reverter and the pipeline's run merge guard. Without `create`, `LAKE_NOT_FOUND`
 * (with how to create one) when there is no lake; whatever was opened is closed again on failure.
 */
export async function connectLake(options: LakeOptions, create: boolean): Promise<LakeConnection> {
  const env = options.env ?? process.env
  const config = resolveLakeConfig(options, env, options.cwd)
  const clock = options.clock ?? systemClock
  const random = options.random ?? systemRandom
  const author = options.author ?? defaultAuthor(env)
  // A warehouse that cannot be used (an S3 bucket without a region) fails init before anything is created.
  if (create && options.store === undefined) await (await openObjectStore(config.warehouse)).close()
  if (create) mkdirSync(config.home, { recursive: true })
  const backend = options.backend ?? openCatalogBackend(config.catalogUrl, { mustExist: !create })
  let warehouse = config.warehouse
  const metadataCache = new MetadataCache()
  let store: RoutingObjectStore
  try {
    await backend.migrate()
    warehouse = create
      ? await backend.initMeta('warehouse', config.warehouse)
      : ((await backend.getMeta('warehouse')) ?? config.warehouse)
    store = new RoutingObjectStore(options.store ?? (await openObjectStore(warehouse)))
  } catch (e) {
    await backend.close()
    throw e
  }
  const catalog = new Catalog(backend, {
    clock,
    author,
    tableMerger: options.tableMerger ?? appendOnlyTableMerger(store, { clock, random, metadataCache }),
    tableReverter: appendOnlyTableReverter(store, { clock, random, metadataCache }),
    mergeGuard: runMergeGuard,
  })
  try {
    if (create) await catalog.init()
    else if (!(await catalog.isInitialized())) {
      throw new TarnError('LAKE_NOT_FOUND', `no lake in ${backend.location}; create one with \`tarn init\``, {
        catalog: backend.location,
      })
    }
  } catch (e) {
    await Promise.allSettled([backend.close(), store.close()])
    throw e
  }
  return { config: { ...config, warehouse }, catalog, store, clock, random, author, env, metadataCache }
}

function defaultAuthor(env: Readonly<Record<string, string | undefined>>): string {
  if (env.TARN_USER) return env.TARN_USER
  try {
    return userInfo().username
  } catch {
    return 'tarn'
  }
}
