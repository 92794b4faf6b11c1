import type { TableState } from './types.js'

/**
 * What the catalog asks when both sides of a merge changed one table.
 *
 * @example
 * ```ts
 * const req: TableMergeRequest = { key: 'tarn.orders', base, ours, theirs }
 * ```
 */
export interface TableMergeRequest {
  /** `namespace.table` */
  readonly key: string
  /** The table at the merge base, if it existed there. */
  readonly base: TableState | undefined
  /** The table on the target branch. */
  readonly ours: TableState
  /** The table on the source ref. */
  readonly theirs: TableState
}

/**
 * A table-merge answer: a new table state that holds both sides' changes, or why that is impossible.
 *
 * @example
 * ```ts
 * const no: TableMergeOutcome = { kind: 'conflict', reason: 'overwritten on both sides' }
 * ```
 */
export type TableMergeOutcome =
  | { readonly kind: 'merged'; readonly state: TableState }
  | { readonly kind: 'conflict'; readonly reason: string }

/**
 * The hook for content-aware merges: called when both sides changed the same table. The Iceberg layer provides one
 * that combines append-only changes; without a merger every such table is a conflict.
 *
 * @example
 * ```ts
 * const neverMerge: TableMerger = async () => ({ kind: 'conflict', reason: 'both sides changed the table' })
 * ```
 */
export type TableMerger = (request: TableMergeRequest) => Promise<TableMergeOutcome>
