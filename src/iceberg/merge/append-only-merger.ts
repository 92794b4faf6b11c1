import type { ObjectStore } from '../../storage/object-store.js'
import type { DataFile } from '../manifest.js'
import { sameSpecShape } from '../partition-spec.js'
import { liveEntries, manifestEntries, snapshotManifests } from '../scan-planner.js'
import { sameSchemaShape } from '../schema.js'
import { type LoadedTable, loadTable } from '../table-loader.js'
import { currentSchema, type Snapshot, specById, type TableMetadata } from '../table-metadata.js'
import { commitSnapshot, type IcebergTableState, type WriterDeps } from '../writer/snapshot-producer.js'

/**
 * The arguments the catalog passes to a table merge hook.
 *
 * @example
 * ```ts
 * const args: TableMergeArgs = { key: 'tarn.orders', base, ours, theirs }
 * ```
 */
export interface TableMergeArgs {
  readonly key: string
  readonly base: IcebergTableState | undefined
  readonly ours: IcebergTableState
  readonly theirs: IcebergTableState
}

/**
 * The outcome of a table merge: a merged state, or a conflict with a reason.
 *
 * @example
 * ```ts
 * if (outcome.kind === 'conflict') console.log(outcome.reason)
 * ```
 */
export type TableMergeOutcome =
  | { readonly kind: 'merged'; readonly state: IcebergTableState }
  | { readonly kind: 'conflict'; readonly reason: string }

/**
 * A content-aware table merge hook.
 *
 * @example
 * ```ts
 * const merge: TableMerger = appendOnlyTableMerger(store, deps)
 * ```
 */
export type TableMerger = (args: TableMergeArgs) => Promise<TableMergeOutcome>

/**
 * The snapshots of a table after `baseId` on its current lineage (oldest first), or undefined when `baseId` is not an
 * ancestor of the current snapshot.
 *
 * @example
 * ```ts
 * snapshotsSince(metadata, 4951213507629824583n)?.map((s) => s.summary.operation) // ['delete', 'overwrite']
 * ```
 */
export function snapshotsSince(m: TableMetadata, baseId: bigint | null): Snapshot[] | undefined {
  const byId = new Map(m.snapshots.map((s) => [s['snapshot-id'], s]))
  const out: Snapshot[] = []
  let cur = m['current-snapshot-id']
  while (cur !== null && cur !== baseId) {
    const s = byId.get(cur)
    if (!s) return undefined
    out.unshift(s)
    cur = s['parent-snapshot-id'] ?? null
  }
  return cur === baseId ? out : undefined
}

async function addedDataFiles(table: LoadedTable, since: readonly Snapshot[]): Promise<DataFile[] | string> {
  const head = since[since.length - 1]
  if (!head) return []
  const ids = new Set(since.map((s) => s['snapshot-id']))
  const out: DataFile[] = []
  for (const mf of await snapshotManifests(table, head)) {
    if (!ids.has(mf.addedSnapshotId) && mf.addedFilesCount === 0) continue
    for (const e of await manifestEntries(table, mf)) {
      if (e.status !== 1 || !ids.has(e.snapshotId)) continue
      if (e.dataFile.content !== 0) return 'a delete file was added'
      out.push(e.dataFile)
    }
  }
  return out
}

/**
 * The content-aware merge of one table changed on both sides: when both sides only appended data files since the
 * merge base (same schema and partition spec as the base), the result is a new snapshot on top of `ours` that adds
 * the data files `theirs` appended (no data is copied); anything else is a conflict with a reason.
 *
 * @example
 * ```ts
 * const merge = appendOnlyTableMerger(store, { clock: systemClock, random: systemRandom })
 * const outcome = await merge({ key: 'tarn.orders', base, ours, theirs })
 * ```
 */
export function appendOnlyTableMerger(
  store: ObjectStore,
  deps: WriterDeps & { readonly localPathOf?: (uri: string) => Promise<string> },
): TableMerger {
  const conflict = (reason: string): TableMergeOutcome => ({ kind: 'conflict', reason })
  const load = (loc: string): Promise<LoadedTable> =>
    loadTable(store, loc, deps.localPathOf ? { localPathOf: deps.localPathOf } : {})
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
    for (const [side, x] of [
      ['ours', o],
      ['theirs', t],
    ] as const) {
      if (!sameSchemaShape(currentSchema(x.metadata), currentSchema(b.metadata))) {
        return conflict(`${key}: the schema changed on ${side}`)
      }
      if (!sameSpecShape(specById(x.metadata), specById(b.metadata))) {
        return conflict(`${key}: the partition spec changed on ${side}`)
      }
    }
    const baseId = b.metadata['current-snapshot-id']
    const oursNew = snapshotsSince(o.metadata, baseId)
    const theirsNew = snapshotsSince(t.metadata, baseId)
    if (!oursNew || !theirsNew)
      return conflict(`${key}: a side does not descend from the merge base snapshot`)
    for (const [side, snaps] of [
      ['ours', oursNew],
      ['theirs', theirsNew],
    ] as const) {
      const other = snaps.find((s) => s.summary.operation !== 'append')
      if (other) return conflict(`${key}: ${side} made a non-append change (${other.summary.operation})`)
    }
    if (theirsNew.length === 0) return { kind: 'merged', state: ours }
    if (oursNew.length === 0) return { kind: 'merged', state: theirs }
    const added = await addedDataFiles(t, theirsNew)
    if (typeof added === 'string') return conflict(`${key}: ${added} on theirs`)
    const oursAdded = await addedDataFiles(o, oursNew)
    if (typeof oursAdded === 'string') return conflict(`${key}: ${oursAdded} on ours`)
    // guard against the same file appearing on both sides (e.g. a cherry-picked snapshot)
    const oursPaths = new Set(
      (await liveEntries(o, oursNew[oursNew.length - 1] as Snapshot)).map((e) => e.dataFile.filePath),
    )
    const fresh = added.filter((f) => !oursPaths.has(f.filePath))
    const result = await commitSnapshot(
      o,
      {
        operation: 'append',
        added: fresh,
        removed: [],
        summary: {
          'tarn.merged-from-snapshot': theirsNew[theirsNew.length - 1]?.['snapshot-id'].toString() ?? '',
        },
      },
      deps,
    )
    return { kind: 'merged', state: result.state }
  }
}
