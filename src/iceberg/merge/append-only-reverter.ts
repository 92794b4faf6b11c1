import type { ObjectStore } from '../../storage/object-store.js'
import { type LoadedTable, loadTable } from '../table-loader.js'
import { commitSnapshot, type IcebergTableState, type WriterDeps } from '../writer/snapshot-producer.js'
import { appendOnlyChange } from './append-lineage.js'

/**
 * What the catalog passes to a table revert hook: the table before and after the commit being reverted, and now
 * (on the branch the revert is made on), which differs from `after` — the table changed again since the commit.
 */
export interface TableRevertArgs {
  readonly key: string
  readonly before: IcebergTableState | undefined
  readonly after: IcebergTableState
  readonly now: IcebergTableState
  /** Only say what would be done; write nothing. */
  readonly dryRun?: boolean
}

/**
 * The outcome of a table revert: the reverted state, or why the commit cannot be undone on this table.
 */
export type TableRevertOutcome =
  | {
      readonly kind: 'reverted'
      readonly state: IcebergTableState
      readonly removedFiles?: number
      readonly removedRecords?: number
    }
  | { readonly kind: 'would-revert'; readonly removedFiles: number; readonly removedRecords: number }
  | { readonly kind: 'conflict'; readonly reason: string }

/**
 * A content-aware table revert hook.
 */
export type TableReverter = (args: TableRevertArgs) => Promise<TableRevertOutcome>

/**
 * Undoes a commit that only appended data files to a table which has only grown since: a new snapshot (operation
 * `delete`) on the current table removes exactly the files that commit added, keeping every later append. No data is
 * copied. Anything else (the commit or a later change overwrote, deleted or evolved the table) is a conflict.
 */
export function appendOnlyTableReverter(
  store: ObjectStore,
  deps: WriterDeps & { readonly localPathOf?: (uri: string) => Promise<string> },
): TableReverter {
  const conflict = (reason: string): TableRevertOutcome => ({ kind: 'conflict', reason })
  const load = (loc: string): Promise<LoadedTable> =>
    loadTable(store, loc, {
      ...(deps.localPathOf ? { localPathOf: deps.localPathOf } : {}),
      ...(deps.metadataCache ? { metadataCache: deps.metadataCache } : {}),
    })
  return async ({ key, before, after, now, dryRun }) => {
    if (before === undefined) return conflict(`${key}: the commit created the table, which changed since`)
    const [b, a, n] = await Promise.all([
      load(before.metadataLocation),
      load(after.metadataLocation),
      load(now.metadataLocation),
    ])
    const made = await appendOnlyChange(b, a)
    if (!made.appendOnly) return conflict(`${key}: the commit made ${made.reason}`)
    const since = await appendOnlyChange(a, n)
    if (!since.appendOnly) {
      const undoneBy = n.metadata.snapshots.find(
        (s) => s.summary['tarn.reverted-snapshot'] === String(a.metadata['current-snapshot-id']),
      )
      return conflict(
        undoneBy
          ? `${key}: the commit was already reverted (snapshot ${undoneBy['snapshot-id']} removed its files)`
          : `${key}: a later change made ${since.reason}`,
      )
    }
    const removedFiles = made.added.length
    const removedRecords = made.added.reduce((n, e) => n + e.dataFile.recordCount, 0)
    if (dryRun) return { kind: 'would-revert', removedFiles, removedRecords }
    if (made.added.length === 0) return { kind: 'reverted', state: now, removedFiles, removedRecords }
    // `since` proved every file the commit added is still live now: the snapshot removes exactly those.
    const result = await commitSnapshot(
      n,
      {
        operation: 'delete',
        added: [],
        removed: made.added,
        summary: { 'tarn.reverted-snapshot': a.metadata['current-snapshot-id']?.toString() ?? '' },
      },
      deps,
    )
    return { kind: 'reverted', state: result.state, removedFiles, removedRecords }
  }
}
