import type { Commit } from '../catalog/types.js'
import type { LoadedTable, ScanPlan } from '../iceberg/index.js'
import type { HiddenNames } from './duckdb-error.js'
import type { QueryPlan, TableScanPlan } from './query-plan.js'
import type { TableReference } from './sql-analysis.js'

/**
 * One table of a prepared query: its plan row, the loaded table, the pruned scan and the references it serves.
 */
export interface PreparedScan {
  readonly plan: TableScanPlan
  readonly table: LoadedTable
  readonly scan: ScanPlan
  /** References (by index) this table serves. */
  readonly references: readonly TableReference[]
}

/**
 * A query planned at a ref and ready to run: its plan, one scan per table, the commit the ref resolved to, and
 * whether it reads DuckDB's catalog.
 */
export interface PreparedQuery {
  readonly plan: QueryPlan
  readonly scans: readonly PreparedScan[]
  /** The commit the ref resolved to. */
  readonly commit: Commit
  /** The query reads DuckDB's catalog (SHOW TABLES, information_schema, duckdb_tables()). */
  readonly catalogQuery: boolean
}

/**
 * The local paths of the files a query reads, by table, so errors name the table instead of a cache path.
 */
export async function hiddenNamesOf(scans: readonly PreparedScan[]): Promise<HiddenNames> {
  const files = new Map<string, string>()
  for (const s of scans) {
    const paths = await Promise.all(
      s.scan.tasks.map((t) => s.table.io.localPath(t.dataFile.dataFile.filePath)),
    )
    for (const p of paths) files.set(p, s.plan.table)
  }
  return { files }
}
