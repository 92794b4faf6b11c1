import { type LoadedTable, loadTable } from '../../iceberg/table-loader.js'
import { isTarnError, TarnError } from '../../util/errors.js'
import type { RunLake } from './run-lake.js'

/**
 * Loads a table for a run. Its data files are read by DuckDB from local paths: local warehouse files in place,
 * others (S3, local files outside the warehouse) through the lake's content-addressed file cache
 * (`<home>/cache/files`, shared with queries). An
 * unreadable metadata file is reported with its location (`file` in the context).
 */
export async function loadRunTable(lake: RunLake, metadataLocation: string): Promise<LoadedTable> {
  try {
    return await loadTable(lake.store, metadataLocation, {
      // the engine's policy, as its sandboxed DuckDB reads them: files of a local warehouse in place, any other
      // (S3, or local files outside the warehouse, e.g. of a registered or copied table) through its cache
      localPathOf: async (uri) => (await lake.queryEngine()).cache.localPath(lake.store, uri),
      ...(lake.metadataCache ? { metadataCache: lake.metadataCache } : {}),
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
