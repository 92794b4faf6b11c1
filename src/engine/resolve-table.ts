import { type Catalog, DEFAULT_NAMESPACE } from '../catalog/catalog.js'
import type { Commit } from '../catalog/types.js'
import { TarnError } from '../util/errors.js'
import type { TableReference } from './sql-analysis.js'

/** Schemas DuckDB itself answers for when the ref has no namespace of that name. */
const PASS_THROUGH_SCHEMAS = new Set(['information_schema', 'pg_catalog', 'main', 'system', 'temp'])

/**
 * A lake table a reference resolves to at a commit: its key and catalog entry.
 */
export interface ResolvedTable {
  readonly key: string
  readonly state: NonNullable<Awaited<ReturnType<Catalog['getTable']>>>
}

/**
 * The lake table a query's table reference names at a commit, or undefined when DuckDB answers it (a CTE, a
 * three-part name, a system view, a pass-through schema). Unqualified names look in the default namespace; names
 * match exactly first, then in lower case. Throws `TABLE_NOT_FOUND` naming same-named tables of other namespaces.
 */
export async function resolveTable(
  catalog: Catalog,
  commit: Commit,
  ref: string,
  r: TableReference,
  cteNames: ReadonlySet<string>,
  systemNames: ReadonlySet<string>,
): Promise<ResolvedTable | undefined> {
  const shown = [r.catalog, r.schema, r.name].filter((x) => x !== '').join('.')
  const missing = async (): Promise<TarnError> => {
    // Only on the error path: the whole state is read to suggest same-named tables of other namespaces.
    const name = r.name.toLowerCase()
    const others = Object.keys((await catalog.stateOf(commit)).tables)
      .filter((k) => k.slice(k.indexOf('.') + 1).toLowerCase() === name && k !== shown)
      .sort()
    const hint = others.length > 0 ? ` (did you mean ${others.join(' or ')}?)` : ''
    return new TarnError('TABLE_NOT_FOUND', `table ${shown} does not exist at ${ref}${hint}`, {
      table: shown,
      ref,
      commit: commit.hash,
      ...(others.length > 0 ? { suggestions: others } : {}),
    })
  }
  if (r.catalog !== '') return undefined
  const lookup = async (ns: string): Promise<ResolvedTable | undefined> => {
    for (const name of [r.name, r.name.toLowerCase()]) {
      const key = `${ns}.${name}`
      const state = await catalog.getTable(commit, key)
      if (state) return { key, state }
    }
    return undefined
  }
  if (r.schema === '') {
    if (cteNames.has(r.name.toLowerCase())) return undefined
    const found = await lookup(DEFAULT_NAMESPACE)
    if (found) return found
    if (systemNames.has(r.name.toLowerCase())) return undefined
    throw await missing()
  }
  for (const ns of [r.schema, r.schema.toLowerCase()]) {
    if (await catalog.getNamespace(commit, ns)) {
      const found = await lookup(ns)
      if (found) return found
      throw await missing()
    }
  }
  if (PASS_THROUGH_SCHEMAS.has(r.schema.toLowerCase())) return undefined
  throw await missing()
}

/**
 * Refuses a query that names two tables whose keys differ only in letter case (a lake made before such names were
 * refused): DuckDB would resolve both names to one view and silently read one table twice.
 */
export function refuseCaseTwins(keys: readonly string[], ref: string): void {
  const seen = new Map<string, string>()
  for (const key of keys) {
    const other = seen.get(key.toLowerCase())
    if (other !== undefined && other !== key) {
      throw new TarnError(
        'AMBIGUOUS_TABLE',
        `tables ${other} and ${key} differ only in letter case and cannot be told apart in one query at ${ref}; read them in separate queries`,
        { tables: [other, key], ref },
      )
    }
    seen.set(key.toLowerCase(), key)
  }
}
