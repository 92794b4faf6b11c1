import { fileURLToPath } from 'node:url'
import { lakeQueryEngine } from '../../engine/lake-engine.js'
import { type LoadedTable, loadTable } from '../../iceberg/table-loader.js'
import type { RunLake } from './run-lake.js'

/**
 * Loads a table for a run. Its data files are read by DuckDB from local paths: local warehouse files in place,
 * remote ones (S3) through the lake's content-addressed file cache (`<home>/cache/files`, shared with queries).
 *
 * @example
 * ```ts
 * const loaded = await loadRunTable(lake, state.metadataLocation)
 * ```
 */
export function loadRunTable(lake: RunLake, metadataLocation: string): Promise<LoadedTable> {
  return loadTable(lake.store, metadataLocation, {
    localPathOf: async (uri) => {
      if (uri.startsWith('file://')) return fileURLToPath(uri)
      const engine = await lakeQueryEngine(lake)
      return engine.cache.localPath(lake.store, uri)
    },
  })
}
