import type { DuckDBConnection } from '@duckdb/node-api'
import { quoteIdent, sqlString } from '../duckdb/sql-quote.js'
import {
  duckdbTypeOf,
  type LoadedTable,
  parquetTopLevelColumns,
  type ScanPlan,
  scanSql,
} from '../iceberg/index.js'
import type { ParquetColumn } from '../iceberg/table-reader.js'
import { BoundedMap } from './bounded-map.js'

/**
 * Parquet footers already read, by local path (files are immutable, so entries never go stale). Bounded.
 */
export class FooterCache {
  readonly #map: BoundedMap<string, ParquetColumn[]>

  constructor(max: number) {
    this.#map = new BoundedMap(max)
  }

  /**
   * Top-level columns of each path, reading only the footers not seen before (in one DuckDB query).
   */
  async columns(conn: DuckDBConnection, paths: readonly string[]): Promise<Map<string, ParquetColumn[]>> {
    const missing = [...new Set(paths.filter((p) => !this.#map.has(p)))]
    if (missing.length > 0) {
      const read = await parquetTopLevelColumns(conn, missing)
      for (const [p, cols] of read) this.#map.set(p, cols)
    }
    return new Map(paths.map((p) => [p, this.#map.get(p) ?? []]))
  }
}

/**
 * The DuckDB SQL that reads a planned scan. When no kept file has deletes, the schema is flat and every file maps
 * field ids to the same physical columns, it is one multi-file `read_parquet` (DuckDB then parallelises and prunes
 * row groups as it does for plain Parquet); otherwise the Iceberg reader's per-file SQL (`scanSql`, deletes applied,
 * columns mapped by field id file by file).
 */
export async function scanViewSql(
  table: LoadedTable,
  plan: ScanPlan,
  conn: DuckDBConnection,
  footers: FooterCache,
): Promise<string> {
  const fields = plan.schema.fields
  const simple =
    plan.tasks.length > 0 &&
    plan.tasks.every((t) => t.deletes.length === 0) &&
    fields.every((f) => typeof f.type === 'string')
  if (simple) {
    const paths = await Promise.all(plan.tasks.map((t) => table.io.localPath(t.dataFile.dataFile.filePath)))
    const cols = await footers.columns(conn, paths)
    const layout = (p: string): string =>
      JSON.stringify((cols.get(p) ?? []).map((c) => [c.fieldId ?? null, c.name]))
    const first = cols.get(paths[0] as string) ?? []
    const sameLayout = paths.every((p) => layout(p) === layout(paths[0] as string))
    const byId = new Map(
      first.filter((c) => c.fieldId !== undefined).map((c) => [c.fieldId as number, c.name]),
    )
    if (sameLayout && byId.size > 0) {
      const proj = fields.map((f) => {
        const phys = byId.get(f.id)
        const type = duckdbTypeOf(f.type)
        return phys === undefined
          ? `CAST(NULL AS ${type}) AS ${quoteIdent(f.name)}`
          : `CAST(${quoteIdent(phys)} AS ${type}) AS ${quoteIdent(f.name)}`
      })
      const list = paths.map(sqlString).join(', ')
      return `SELECT ${proj.join(', ')} FROM read_parquet([${list}], hive_partitioning = false)`
    }
  }
  return scanSql(table, plan, conn)
}
