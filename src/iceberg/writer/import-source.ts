import { sqlString } from '../../duckdb/sql-quote.js'
import { TarnError } from '../../util/errors.js'

/**
 * The DuckDB query that reads files being imported (Parquet, CSV or JSON, chosen by extension unless given), for
 * `createTable({ source })` or `appendRows`. Paths and globs are quoted, never spliced raw.
 */
export function importSourceSql(paths: readonly string[], format?: 'parquet' | 'csv' | 'json'): string {
  if (paths.length === 0) throw new TarnError('INVALID_ARGUMENT', 'No files to import')
  const ext = (p: string): string =>
    p
      .toLowerCase()
      .replace(/\.(gz|zst)$/, '')
      .split('.')
      .pop() ?? ''
  const fmt =
    format ??
    (ext(paths[0] ?? '') === 'csv'
      ? 'csv'
      : ['json', 'jsonl', 'ndjson'].includes(ext(paths[0] ?? ''))
        ? 'json'
        : 'parquet')
  const list = `[${paths.map(sqlString).join(', ')}]`
  if (fmt === 'csv') return `SELECT * FROM read_csv(${list}, auto_detect = true)`
  if (fmt === 'json') return `SELECT * FROM read_json_auto(${list})`
  return `SELECT * FROM read_parquet(${list})`
}
