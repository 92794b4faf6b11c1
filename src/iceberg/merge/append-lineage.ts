import type { ResolvedEntry } from '../manifest.js'
import { sameSpecShape } from '../partition-spec.js'
import { liveEntries, manifestEntries, snapshotManifests } from '../scan-planner.js'
import { sameSchemaShape } from '../schema.js'
import type { LoadedTable } from '../table-loader.js'
import { currentSchema, type Snapshot, specById } from '../table-metadata.js'

/**
 * How a table went from an earlier state to a later one when the later one only added data files: the live entries
 * of the data files it added (empty when nothing changed), or why the change was more than appends.
 */
export type AppendOnlyChange =
  | { readonly appendOnly: true; readonly added: readonly ResolvedEntry[] }
  | { readonly appendOnly: false; readonly reason: string }

function current(table: LoadedTable): Snapshot | undefined {
  const id = table.metadata['current-snapshot-id']
  return id === null ? undefined : table.metadata.snapshots.find((s) => s['snapshot-id'] === id)
}

/**
 * The snapshots of `later`'s current lineage that `earlier` does not know (newest first), or undefined when the
 * lineage never reaches a snapshot `earlier` knows although `earlier` has one. Walking back to *any* snapshot of
 * `earlier` (not only its current one) keeps repeated merges working: after a merge the merged snapshot descends
 * from our side only, yet it holds their files too.
 */
function unknownSnapshots(earlier: LoadedTable, later: LoadedTable): Snapshot[] | undefined {
  const known = new Set(earlier.metadata.snapshots.map((s) => s['snapshot-id']))
  const byId = new Map(later.metadata.snapshots.map((s) => [s['snapshot-id'], s]))
  const out: Snapshot[] = []
  let cur = later.metadata['current-snapshot-id']
  while (cur !== null && !known.has(cur)) {
    const s = byId.get(cur)
    if (!s) return undefined
    out.push(s)
    cur = s['parent-snapshot-id'] ?? null
  }
  if (cur === null && earlier.metadata['current-snapshot-id'] !== null) return undefined
  return out
}

/**
 * Decides whether `later` only appended data files to `earlier` (two states of one table): same schema and partition
 * spec, every snapshot since the last one `earlier` knows is an `append`, every live file of `earlier` is still live
 * in `later`, and no delete file was added. Then returns the entries of the data files `later` added. This is the
 * append rule of merges (both sides only appended since the base) and of reverts (a commit that only appended can be
 * undone while the table only grew since). Reads manifests only where the two states differ.
 */
export async function appendOnlyChange(earlier: LoadedTable, later: LoadedTable): Promise<AppendOnlyChange> {
  const no = (reason: string): AppendOnlyChange => ({ appendOnly: false, reason })
  if (earlier.metadata['table-uuid'] !== later.metadata['table-uuid'])
    return no('a drop and re-create of the table')
  if (!sameSchemaShape(currentSchema(later.metadata), currentSchema(earlier.metadata)))
    return no('a schema change')
  if (!sameSpecShape(specById(later.metadata), specById(earlier.metadata)))
    return no('a partition spec change')
  const since = unknownSnapshots(earlier, later)
  if (since === undefined) return no('a history that does not descend from the earlier state')
  const other = since.find((s) => s.summary.operation !== 'append')
  if (other) return no(`a non-append change (${other.summary.operation})`)
  const before = current(earlier)
  const after = current(later)
  if (after === undefined)
    return before === undefined ? { appendOnly: true, added: [] } : no('a removal of every snapshot')
  if (before?.['snapshot-id'] === after['snapshot-id']) return { appendOnly: true, added: [] }
  const beforeManifests = before ? await snapshotManifests(earlier, before) : []
  const afterManifests = await snapshotManifests(later, after)
  const afterPaths = new Set(afterManifests.map((m) => m.manifestPath))
  let beforeLive: ResolvedEntry[] | undefined
  if (!beforeManifests.every((m) => afterPaths.has(m.manifestPath))) {
    // Manifests were rewritten: compare file by file.
    beforeLive = before ? await liveEntries(earlier, before) : []
  }
  const beforePaths = new Set(beforeManifests.map((m) => m.manifestPath))
  const fresh = afterManifests.filter((m) => !beforePaths.has(m.manifestPath))
  const candidates = (await Promise.all(fresh.map((m) => manifestEntries(later, m))))
    .flat()
    .filter((e) => e.status !== 2)
  if (beforeLive !== undefined) {
    const live = new Set((await liveEntries(later, after)).map((e) => e.dataFile.filePath))
    if (beforeLive.some((e) => !live.has(e.dataFile.filePath))) return no('a removal of data files')
  }
  const old = new Set((beforeLive ?? []).map((e) => e.dataFile.filePath))
  const added = candidates.filter((e) => !old.has(e.dataFile.filePath))
  if (added.some((e) => e.dataFile.content !== 0)) return no('a delete file')
  return { appendOnly: true, added }
}
