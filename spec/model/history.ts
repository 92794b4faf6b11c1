import { shortHash, tableKey } from './table-value.js'
import type { Commit, LakeState, TableName, TableValue } from './types.js'

/**
 * Makes a content-addressed commit: the id hashes parents, tables and properties, so equal content means equal id.
 *
 * @example
 * ```ts
 * const root = makeCommit([], { t1: { gen: 'g0', files: [] } }, new Map())
 * ```
 */
export function makeCommit(
  parents: readonly string[],
  tables: Readonly<Record<TableName, TableValue>>,
  commits: ReadonlyMap<string, Commit>,
  props: { readonly run?: string; readonly partial?: true } = {},
): Commit {
  const names = Object.keys(tables).sort()
  const content = [
    parents.join(','),
    names.map((t) => `${t}=${tableKey(tables[t])}`).join(';'),
    props.run ?? '',
    props.partial ? 'partial' : '',
  ].join('|')
  const generation = 1 + Math.max(-1, ...parents.map((p) => commits.get(p)?.generation ?? 0))
  return {
    id: shortHash(content),
    parents,
    tables,
    generation,
    ...(props.run === undefined ? {} : { run: props.run }),
    ...(props.partial ? { partial: true as const } : {}),
  }
}

const ancestorCache = new WeakMap<Commit, ReadonlySet<string>>()

/**
 * Every commit reachable from `id` through parents, `id` included. Memoised per (immutable) commit.
 *
 * @example
 * ```ts
 * ancestors(state.commits, state.branches.get('main')!.head).has(rootId) // true
 * ```
 */
export function ancestors(commits: ReadonlyMap<string, Commit>, id: string): ReadonlySet<string> {
  const commit = commits.get(id)
  if (commit === undefined) return new Set()
  const cached = ancestorCache.get(commit)
  if (cached) return cached
  const out = new Set<string>([id])
  for (const p of commit.parents) for (const a of ancestors(commits, p)) out.add(a)
  ancestorCache.set(commit, out)
  return out
}

/**
 * The merge base of two commits: among their best common ancestors (those no other common ancestor descends from)
 * the one with the highest generation, ties broken by the smaller id — the rule of src/catalog/ancestry.ts.
 *
 * @example
 * ```ts
 * mergeBase(state.commits, featureHead, mainHead)
 * ```
 */
export function mergeBase(commits: ReadonlyMap<string, Commit>, a: string, b: string): Commit | undefined {
  const fromB = ancestors(commits, b)
  const common = [...ancestors(commits, a)].filter((c) => fromB.has(c))
  const best = common.filter((c) => !common.some((o) => o !== c && ancestors(commits, o).has(c)))
  const sorted = best
    .map((c) => commits.get(c) as Commit)
    .sort((x, y) => y.generation - x.generation || (x.id < y.id ? -1 : 1))
  return sorted[0]
}

/**
 * The commit `back` first-parent steps behind a ref's commit (`main~2`), if the history is that long.
 *
 * @example
 * ```ts
 * firstParentBack(state, 'main', 0) // the head of main
 * ```
 */
export function firstParentBack(state: LakeState, ref: string, back: number): Commit | undefined {
  let id = resolveRef(state, ref)
  for (let i = 0; i < back && id !== undefined; i++) id = state.commits.get(id)?.parents[0]
  return id === undefined ? undefined : state.commits.get(id)
}

/**
 * The commit a branch or tag points to.
 *
 * @example
 * ```ts
 * resolveRef(state, 'main')
 * ```
 */
export function resolveRef(state: LakeState, ref: string): string | undefined {
  return state.branches.get(ref)?.head ?? state.tags.get(ref)
}
