import type { ObjectStore } from '../../storage/object-store.js'
import { type LoadedTable, loadTable } from '../table-loader.js'
import { commitSnapshot, type IcebergTableState, type WriterDeps } from '../writer/snapshot-producer.js'
import { appendOnlyChange } from './append-lineage.js'

/**
 * The arguments the catalog passes to a table merge hook.
 */
export interface TableMergeArgs {
  readonly key: string
  readonly base: IcebergTableState | undefined
  readonly ours: IcebergTableState
  readonly theirs: IcebergTableState
}

/**
 * The outcome of a table merge: a merged state, or a conflict with a reason.
 */
export type TableMergeOutcome =
  | { readonly kind: 'merged'; readonly state: IcebergTableState }
  | { readonly kind: 'conflict'; readonly reason: string }

/**
 * A content-aware table merge hook.
 */
export type TableMerger = (args: TableMergeArgs) => Promise<TableMergeOutcome>

/**
 * The content-aware merge of one table changed on both sides: when both sides only appended data files since the
 * merge base (same schema and partition spec as the base), the result is a new snapshot on top of `ours` that adds
 * the data files `theirs` appended (no data is copied); anything else is a conflict with a reason.
 */
export function appendOnlyTableMerger(
  store: ObjectStore,
  deps: WriterDeps & { readonly localPathOf?: (uri: string) => Promise<string> },
): TableMerger {
  const conflict = (reason: string): TableMergeOutcome => ({ kind: 'conflict', reason })
  const load = (loc: string): Promise<LoadedTable> =>
    loadTable(store, loc, {
      ...(deps.localPathOf ? { localPathOf: deps.localPathOf } : {}),
      ...(deps.metadataCache ? { metadataCache: deps.metadataCache } : {}),
    })
  return async ({ key, base, ours, theirs }) => {
    if (ours.metadataLocation === theirs.metadataLocation) return { kind: 'merged', state: ours }
    if (!base) return conflict(`${key}: created on both sides`)
    if (ours.tableUuid !== base.tableUuid || theirs.tableUuid !== base.tableUuid) {
      return conflict(`${key}: the table was dropped and re-created on one side`)
    }
    const [b, o, t] = await Promise.all([
      load(base.metadataLocation),
      load(ours.metadataLocation),
      load(theirs.metadataLocation),
    ])
    const [oursChange, theirsChange] = await Promise.all([appendOnlyChange(b, o), appendOnlyChange(b, t)])
    if (!oursChange.appendOnly) return conflict(`${key}: ours made ${oursChange.reason} since the merge base`)
    if (!theirsChange.appendOnly)
      return conflict(`${key}: theirs made ${theirsChange.reason} since the merge base`)
    if (theirsChange.added.length === 0) return { kind: 'merged', state: ours }
    if (oursChange.added.length === 0) return { kind: 'merged', state: theirs }
    // the same file may have been appended on both sides (e.g. an earlier merge): keep it once
    const oursPaths = new Set(oursChange.added.map((e) => e.dataFile.filePath))
    const fresh = theirsChange.added.filter((e) => !oursPaths.has(e.dataFile.filePath)).map((e) => e.dataFile)
    const theirsHead = t.metadata['current-snapshot-id']
    const result = await commitSnapshot(
      o,
      {
        operation: 'append',
        added: fresh,
        removed: [],
        summary: { 'tarn.merged-from-snapshot': theirsHead === null ? '' : theirsHead.toString() },
      },
      deps,
    )
    return { kind: 'merged', state: result.state }
  }
}
