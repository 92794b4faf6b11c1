import type { LakeState } from '../model/types.js'

/**
 * The canonical text of a state, for deduplication. Commits are content-addressed, so the refs and runs (which
 * name commits by content hash) determine every reachable commit; commits no ref or run reaches can never be used
 * again and are left out.
 *
 * @example
 * ```ts
 * stateKey(a) === stateKey(b) // a and b behave the same from now on
 * ```
 */
export function stateKey(state: LakeState): string {
  const branches = [...state.branches]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, b]) => `${name}=${b.head}${b.sealed ? '!' : ''}`)
  const tags = [...state.tags].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, id]) => `${name}=${id}`)
  const runs = state.runs.map(
    (r) =>
      `${r.id}:${r.status}:${r.target}:${r.branch}:${r.plan.map((p) => p.table + p.mode).join('+')}:${r.commits.join('+')}`,
  )
  return `${branches.join(' ')}|${tags.join(' ')}|${runs.join(' ')}`
}
