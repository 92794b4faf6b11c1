import { combineAppends, onlyAppended, sameTable } from './table-value.js'
import type { TableName, TableValue } from './types.js'

/**
 * A table map of a commit.
 *
 * @example
 * ```ts
 * const tables: Tables = { t1: { gen: 'g0', files: [] } }
 * ```
 */
export type Tables = Readonly<Record<TableName, TableValue>>

/**
 * The result of merging table maps: the merged tables, or the tables both sides changed incompatibly.
 *
 * @example
 * ```ts
 * const r: TableMergeResult = { ok: false, conflicts: ['t1'] }
 * ```
 */
export type TableMergeResult =
  | { readonly ok: true; readonly tables: Tables }
  | { readonly ok: false; readonly conflicts: readonly TableName[] }

/**
 * Three-way merge of table maps, table by table (PRODUCT.md "Merge"): take the side that changed a table; when both
 * changed it, conflict — unless both made the same change, or both only appended data files since the base, in
 * which case the table holds both sides' files, each once. `checkConflicts: false` is the bad variant that skips
 * the conflict check and keeps our side.
 *
 * @example
 * ```ts
 * threeWayMerge(base.tables, ours.tables, theirs.tables)
 * ```
 */
export function threeWayMerge(
  base: Tables,
  ours: Tables,
  theirs: Tables,
  checkConflicts = true,
): TableMergeResult {
  const names = [...new Set([...Object.keys(base), ...Object.keys(ours), ...Object.keys(theirs)])].sort()
  const out: Record<TableName, TableValue> = {}
  const conflicts: TableName[] = []
  for (const t of names) {
    const b = base[t]
    const o = ours[t]
    const s = theirs[t]
    let v: TableValue | undefined
    if (sameTable(s, b) || sameTable(o, s)) v = o
    else if (sameTable(o, b)) v = s
    else if (o !== undefined && s !== undefined && onlyAppended(b, o) && onlyAppended(b, s))
      v = combineAppends(o, s)
    else if (checkConflicts) conflicts.push(t)
    else v = o
    if (v !== undefined) out[t] = v
  }
  return conflicts.length > 0 ? { ok: false, conflicts } : { ok: true, tables: out }
}
