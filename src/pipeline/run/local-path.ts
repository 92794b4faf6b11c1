import { fileURLToPath } from 'node:url'
import { lakeQueryEngine } from '../../engine/lake-engine.js'
import type { RunLake } from './run-lake.js'

/**
 * How a run turns a warehouse file into a path DuckDB can read: local files in place, remote ones (S3) through the
 * lake's content-addressed file cache (`<home>/cache/files`, shared with queries).
 *
 * @example
 * ```ts
 * const loaded = await loadTable(lake.store, location, { localPathOf: runLocalPathOf(lake) })
 * ```
 */
export function runLocalPathOf(lake: RunLake): (uri: string) => Promise<string> {
  return async (uri) => {
    if (uri.startsWith('file://')) return fileURLToPath(uri)
    const engine = await lakeQueryEngine(lake)
    return engine.cache.localPath(lake.store, uri)
  }
}
