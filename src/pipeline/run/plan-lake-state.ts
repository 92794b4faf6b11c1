import type { Commit } from '../../catalog/types.js'
import type { LakeTableInfo, PlanLakeState } from '../lake-state.js'
import { loadRunTable } from './load-run-table.js'
import type { RunLake } from './run-lake.js'

/**
 * The lake as a plan needs it at a commit: columns and partition columns of the tables it names, which of the
 * namespaces it writes exist, and for each missing table the same-named tables of other namespaces (for
 * suggestions; the whole lake state is read only when a table is missing).
 */
export async function planLakeStateAt(
  lake: RunLake,
  commit: Commit,
  tables: readonly string[],
  namespaces: readonly string[] = [],
): Promise<PlanLakeState> {
  const state: Record<string, LakeTableInfo> = {}
  const elsewhere: Record<string, string[]> = {}
  let keys: string[] | undefined
  for (const key of tables) {
    const t = await lake.catalog.getTable(commit, key)
    if (!t) {
      keys ??= Object.keys((await lake.catalog.stateOf(commit)).tables)
      const name = key.slice(key.indexOf('.') + 1).toLowerCase()
      const found = keys.filter((k) => k !== key && k.slice(k.indexOf('.') + 1).toLowerCase() === name)
      if (found.length > 0) elsewhere[key] = found.sort()
      continue
    }
    const loaded = await loadRunTable(lake, t.metadataLocation)
    const m = loaded.metadata
    const schema = m.schemas.find((s) => s['schema-id'] === m['current-schema-id'])
    const spec = m['partition-specs'].find((p) => p['spec-id'] === m['default-spec-id'])
    const byId = new Map((schema?.fields ?? []).map((f) => [f.id, f.name]))
    state[key] = {
      columns: (schema?.fields ?? []).map((f) => f.name),
      partitionColumns: (spec?.fields ?? []).map((f) => byId.get(f['source-id']) ?? ''),
    }
  }
  const present: string[] = []
  for (const ns of namespaces) if (await lake.catalog.getNamespace(commit, ns)) present.push(ns)
  return { tables: state, namespaces: present, elsewhere }
}
