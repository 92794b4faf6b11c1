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

/**
 * What the catalog asks when a commit being reverted changed a table that changed again since: the table before and
 * after that commit, and now on the branch the revert is made on.
 *
 * @example
 * ```ts
 * const req: TableRevertRequest = { key: 'tarn.orders', before, after, now }
 * ```
 */
export interface TableRevertRequest {
  /** `namespace.table` */
  readonly key: string
  /** The table before the commit, if it existed. */
  readonly before: TableState | undefined
  /** The table as the commit left it. */
  readonly after: TableState
  /** The table on the branch now. */
  readonly now: TableState
  /** Only say what would be done (`would-revert` or `conflict`); write nothing. */
  readonly dryRun?: boolean
}

/**
 * A table-revert answer: the table with only that commit's change undone, or why that is impossible.
 *
 * @example
 * ```ts
 * const no: TableRevertOutcome = { kind: 'conflict', reason: 'overwritten since' }
 * ```
 */
export type TableRevertOutcome =
  | {
      readonly kind: 'reverted'
      readonly state: TableState
      readonly removedFiles?: number
      readonly removedRecords?: number
    }
  | { readonly kind: 'would-revert'; readonly removedFiles: number; readonly removedRecords: number }
  | { readonly kind: 'conflict'; readonly reason: string }

/**
 * The hook for content-aware reverts: called when a table the reverted commit changed has changed again since. The
 * Iceberg layer provides one that removes exactly the files an append-only commit added; without a reverter every
 * such table is a conflict.
 *
 * @example
 * ```ts
 * const never: TableReverter = async () => ({ kind: 'conflict', reason: 'changed again since' })
 * ```
 */
export type TableReverter = (request: TableRevertRequest) => Promise<TableRevertOutcome>
