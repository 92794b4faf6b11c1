import type { CanonicalValue } from '../util/canonical.js'
import { TarnError } from '../util/errors.js'
import { DEFAULT_NAMESPACE } from './defaults.js'
import { entryKey, namespaceValue, parseEntryKey, tableValue } from './entries.js'
import type { LakeStates } from './lake-state.js'
import { assertIdentifier, parseTableKey } from './names.js'
import type { Change, Commit } from './types.js'

/**
 * Changes to a lake state by tree key: the new value, or null to remove the key.
 */
export type ChangeMap = Map<string, CanonicalValue | null>

/**
 * Turns a commit request's changes into tree changes, validating them against the state at `commit`:
 * `NAMESPACE_EXISTS`, `NAMESPACE_NOT_FOUND`, `TABLE_NOT_FOUND` and bad identifiers are refused here.
 */
export async function toTreeChanges(
  states: LakeStates,
  commit: Commit,
  changes: readonly Change[],
): Promise<ChangeMap> {
  const out: ChangeMap = new Map()
  const has = async (k: string): Promise<boolean> =>
    out.has(k) ? out.get(k) !== null : (await states.get(commit, k)) !== undefined
  for (const c of changes) {
    switch (c.type) {
      case 'createNamespace': {
        assertIdentifier(c.name, 'namespace')
        const k = entryKey.namespace(c.name)
        if (await has(k)) {
          throw new TarnError('NAMESPACE_EXISTS', `namespace ${JSON.stringify(c.name)} already exists`, {
            namespace: c.name,
          })
        }
        out.set(k, namespaceValue({ properties: c.properties ?? {} }))
        break
      }
      case 'dropNamespace': {
        const k = entryKey.namespace(c.name)
        if (!(await has(k))) {
          throw new TarnError('NAMESPACE_NOT_FOUND', `namespace ${JSON.stringify(c.name)} does not exist`, {
            namespace: c.name,
          })
        }
        out.set(k, null)
        break
      }
      case 'putTable': {
        const key = parseTableKey(c.key, DEFAULT_NAMESPACE)
        out.set(entryKey.table(key.key), tableValue(c.state))
        break
      }
      case 'dropTable': {
        const key = parseTableKey(c.key, DEFAULT_NAMESPACE)
        const k = entryKey.table(key.key)
        if (!(await has(k)))
          throw new TarnError('TABLE_NOT_FOUND', `table ${key.key} does not exist`, { table: key.key })
        out.set(k, null)
        break
      }
    }
  }
  return out
}

/**
 * Refuses a namespace or table that would exist next to another whose name differs only in letter case
 * (`TABLE_EXISTS` / `NAMESPACE_EXISTS`): DuckDB resolves identifiers case-insensitively, so one query could not tell
 * them apart. Reads the whole lake state, but only when the changes create a name.
 */
export async function checkCaseClashes(
  states: LakeStates,
  commit: Commit,
  changes: ChangeMap,
): Promise<void> {
  const created: string[] = []
  for (const [k, v] of changes) {
    if (v !== null && (await states.get(commit, k)) === undefined) created.push(k)
  }
  if (created.length === 0) return
  const byFolded = new Map<string, string>()
  for (const [k] of await states.entries(commit)) {
    if (changes.get(k) !== null) byFolded.set(k.toLowerCase(), k)
  }
  for (const [k, v] of changes) {
    if (v !== null && !created.includes(k)) byFolded.set(k.toLowerCase(), k)
  }
  for (const k of created) {
    const other = byFolded.get(k.toLowerCase())
    if (other !== undefined && other !== k) {
      const e = parseEntryKey(k)
      const o = parseEntryKey(other)
      const name = e.kind === 'table' ? e.key : e.name
      const otherName = o.kind === 'table' ? o.key : o.name
      const what = e.kind === 'table' ? 'table' : 'namespace'
      throw new TarnError(
        e.kind === 'table' ? 'TABLE_EXISTS' : 'NAMESPACE_EXISTS',
        `${what} ${name} clashes with the existing ${what} ${otherName}: names that differ only in case are not allowed`,
        { [what]: name, existing: otherName },
      )
    }
    byFolded.set(k.toLowerCase(), k)
  }
}

/**
 * Checks that tree changes keep the lake whole at `commit`: no case clashes, every table in an existing namespace
 * (`NAMESPACE_NOT_FOUND`), no namespace dropped while it holds tables (`NAMESPACE_NOT_EMPTY`).
 */
export async function checkIntegrity(states: LakeStates, commit: Commit, changes: ChangeMap): Promise<void> {
  await checkCaseClashes(states, commit, changes)
  for (const [k, v] of changes) {
    const e = parseEntryKey(k)
    if (e.kind === 'table' && v !== null) {
      const ns = e.key.slice(0, e.key.indexOf('.'))
      const nk = entryKey.namespace(ns)
      const present = changes.has(nk)
        ? changes.get(nk) !== null
        : (await states.get(commit, nk)) !== undefined
      if (!present) {
        throw new TarnError('NAMESPACE_NOT_FOUND', `namespace ${JSON.stringify(ns)} does not exist`, {
          namespace: ns,
          table: e.key,
        })
      }
    }
    if (e.kind === 'namespace' && v === null) {
      const prefix = entryKey.table(`${e.name}.`)
      const remaining = (await states.entries(commit, prefix)).filter(([tk]) => changes.get(tk) !== null)
      const added = [...changes].filter(([tk, tv]) => tk.startsWith(prefix) && tv !== null)
      if (remaining.length + added.length > 0) {
        throw new TarnError('NAMESPACE_NOT_EMPTY', `namespace ${JSON.stringify(e.name)} still holds tables`, {
          namespace: e.name,
          tables: [...remaining, ...added].map(([tk]) => tk.slice(2)),
        })
      }
    }
  }
}
