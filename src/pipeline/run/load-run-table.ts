import { fileURLToPath } from 'node:url'
import { type LoadedTable, loadTable } from '../../iceberg/table-loader.js'
import { isTarnError, TarnError } from '../../util/errors.js'
import type { RunLake } from './run-lake.js'

/**
 * Loads a table for a run. Its data files are read by DuckDB from local paths: local warehouse files in place,
 * remote ones (S3) through the lake's content-addressed file cache (`<home>/cache/files`, shared with queries). An
 * unreadable metadata file is reported with its location (`file` in the context).
 *
 * @example
 * ```ts
 * const loaded = await loadRunTable(lake, state.metadataLocation)
 * ```
 */
export async function loadRunTable(lake: RunLake, metadataLocation: string): Promise<LoadedTable> {
  try {
    return await loadTable(lake.store, metadataLocation, {
      localPathOf: async (uri) => {
        if (uri.startsWith('file://')) return fileURLToPath(uri)
        const engine = await lake.queryEngine()
        return engine.cache.localPath(lake.store, uri)
      },
    })
  } catch (e) {
    if (!isTarnError(e) || e.context.file !== undefined) throw e
    throw new TarnError(
      e.code,
      `table metadata ${metadataLocation}: ${e.message}`,
      { ...e.context, file: metadataLocation },
      { cause: e },
    )
  }
}
