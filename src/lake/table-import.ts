import type { DuckDBConnection } from '@duckdb/node-api'
import type { Schema } from '../iceberg/schema.js'
import type { LoadedTable } from '../iceberg/table-loader.js'
import type { ObjectStore } from '../storage/object-store.js'
import { messageOf, TarnError } from '../util/errors.js'
import type { SourceFile } from './import-sources.js'

/**
 * The modules of table writes from files (DuckDB, the Parquet writer, the import sources), loaded on the first
 * import rather than when the lake opens.
 */
export async function importModules() {
  const [reader, schema, writer, sources] = await Promise.all([
    import('../duckdb/with-connection.js'),
    import('../iceberg/writer/duckdb-schema.js'),
    import('../iceberg/writer/table-writer.js'),
    import('./import-sources.js'),
  ])
  return {
    withConnection: reader.withConnection,
    schemaFromQuery: schema.schemaFromQuery,
    createTable: writer.createTable,
    appendRows: writer.appendRows,
    overwriteRows: writer.overwriteRows,
    resolveSources: sources.resolveSources,
    sourcesQuery: sources.sourcesQuery,
    validateSources: sources.validateSources,
  }
}

/**
 * The files an import reads: local paths, globs or `s3://` URIs, relative ones against `cwd` (default: the process's).
 */
export async function importSources(
  options: { readonly from: string | readonly string[]; readonly cwd?: string },
  store: ObjectStore,
  conn: DuckDBConnection,
): Promise<SourceFile[]> {
  const from = typeof options.from === 'string' ? [options.from] : options.from
  const { resolveSources } = await importModules()
  return resolveSources(from, { cwd: options.cwd ?? process.cwd(), store, conn })
}

/**
 * The Iceberg schema DuckDB infers from the files to import; `INVALID_FILE` when they cannot be read.
 */
export async function readImportSchema(
  conn: DuckDBConnection,
  files: readonly SourceFile[],
): Promise<Schema> {
  const { schemaFromQuery, sourcesQuery } = await importModules()
  try {
    return await schemaFromQuery(conn, sourcesQuery(files))
  } catch (e) {
    throw new TarnError(
      'INVALID_FILE',
      `cannot read the files to import: ${messageOf(e)}`,
      { files: files.map((f) => f.source) },
      { cause: e },
    )
  }
}

/**
 * The snapshot summary that records which files an import read (their fingerprints).
 */
export function importSummary(files: readonly SourceFile[]): Record<string, string> {
  return { 'tarn.import-fingerprints': files.map((f) => f.fingerprint).join(',') }
}

/**
 * Throws `ALREADY_IMPORTED` when a snapshot of `table` recorded one of these files (same location, size and time).
 */
export function refuseImportedAgain(table: LoadedTable, key: string, files: readonly SourceFile[]): void {
  const seen = new Set(
    table.metadata.snapshots.flatMap((sn) =>
      (sn.summary['tarn.import-fingerprints'] ?? '').split(',').filter(Boolean),
    ),
  )
  const again = files.filter((f) => seen.has(f.fingerprint))
  if (again.length > 0) {
    throw new TarnError(
      'ALREADY_IMPORTED',
      `already imported into ${key}: ${again.map((f) => f.source).join(', ')} (use --force to import again)`,
      { table: key, files: again.map((f) => f.source) },
    )
  }
}
