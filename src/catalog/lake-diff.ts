import type { CommitCache } from './commit-cache.js'
import { asNamespaceState, asTableState, parseEntryKey } from './entries.js'
import { EMPTY_STATE, type LakeStates } from './lake-state.js'
import type { DiffMode, LakeDiff } from './results.js'
import type { TreeDiffEntry } from './tree.js'
import type { Commit, NamespaceState, TableState } from './types.js'

/**
 * The tree changes one commit made against its first parent (against the empty lake for the first commit).
 */
export async function commitChanges(
  states: LakeStates,
  commits: CommitCache,
  commit: Commit,
): Promise<TreeDiffEntry[]> {
  const parent = commit.parents[0]
  const before = parent === undefined ? EMPTY_STATE : await commits.getOne(parent)
  return states.diff(before, commit)
}

/**
 * Sorts tree diff entries into the tables and namespaces added, removed and changed, with their states.
 */
export function toLakeDiff(
  entries: readonly TreeDiffEntry[],
  mode: DiffMode,
  before: string | null,
  from: LakeDiff['from'],
  to: LakeDiff['to'],
): LakeDiff {
  const tables = {
    added: [] as { table: string; state: TableState }[],
    removed: [] as { table: string; state: TableState }[],
    changed: [] as { table: string; from: TableState; to: TableState }[],
  }
  const namespaces = {
    added: [] as { namespace: string; state: NamespaceState }[],
    removed: [] as { namespace: string; state: NamespaceState }[],
    changed: [] as { namespace: string; from: NamespaceState; to: NamespaceState }[],
  }
  for (const d of entries) {
    const e = parseEntryKey(d.key)
    if (e.kind === 'table') {
      if (d.before === undefined && d.after !== undefined)
        tables.added.push({ table: e.key, state: asTableState(d.after) })
      else if (d.after === undefined && d.before !== undefined)
        tables.removed.push({ table: e.key, state: asTableState(d.before) })
      else if (d.before !== undefined && d.after !== undefined)
        tables.changed.push({ table: e.key, from: asTableState(d.before), to: asTableState(d.after) })
    } else {
      if (d.before === undefined && d.after !== undefined)
        namespaces.added.push({ namespace: e.name, state: asNamespaceState(d.after) })
      else if (d.after === undefined && d.before !== undefined)
        namespaces.removed.push({ namespace: e.name, state: asNamespaceState(d.before) })
      else if (d.before !== undefined && d.after !== undefined)
        namespaces.changed.push({
          namespace: e.name,
          from: asNamespaceState(d.before),
          to: asNamespaceState(d.after),
        })
    }
  }
  return { mode, from, to, before, tables, namespaces }
}
