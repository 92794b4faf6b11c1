import type { Expression } from '../iceberg/index.js'

/**
 * The scan of one table a query reads (our `EXPLAIN SCANS` row): where the table comes from at the ref, which
 * columns the query mentions, the filter pushed into the scan, and the files kept after pruning by partition values
 * and column bounds. Plain data.
 *
 * @example
 * ```ts
 * const s: TableScanPlan = {
 *   table: 'tarn.events', names: ['events'], metadataLocation: 'file:///w/tarn/events/metadata/v2.metadata.json',
 *   snapshotId: '123', columns: ['ts', 'n'], filter: { op: 'gte', column: 'ts', value: '2024-03-01' },
 *   filesKept: 1, filesTotal: 365, deleteFiles: 0, rowsToRead: 1000, bytesToRead: 8192, files: ['file:///w/...parquet'],
 * }
 * ```
 */
export interface TableScanPlan {
  /** The qualified table key, `namespace.table`. */
  readonly table: string
  /** The names the SQL uses for it (`events`, `tarn.events`). */
  readonly names: readonly string[]
  readonly metadataLocation: string
  /** The snapshot read, or null for a table without snapshots. */
  readonly snapshotId: string | null
  /** Columns the query mentions (all columns when it selects `*`). */
  readonly columns: readonly string[]
  /** The filter pushed into the scan (undefined: none). */
  readonly filter: Expression | undefined
  readonly filesKept: number
  readonly filesTotal: number
  /** Delete files applied to the kept data files. */
  readonly deleteFiles: number
  readonly rowsToRead: number
  /** Bytes of the projected columns in the kept files (whole files when column sizes are unknown), plus deletes. */
  readonly bytesToRead: number
  /** URIs of the kept data files. */
  readonly files: readonly string[]
}

/**
 * The plan of a query at a ref: the commit it reads and one scan per table. Plain data; `tarn query --explain`
 * prints it without running the query.
 *
 * @example
 * ```ts
 * const plan: QueryPlan = { sql: 'SELECT 1', ref: 'main', commit: 'ab12...', tables: [] }
 * ```
 */
export interface QueryPlan {
  readonly sql: string
  readonly ref: string
  /** The commit hash the ref resolved to. */
  readonly commit: string
  readonly tables: readonly TableScanPlan[]
}
