import type { Commit } from './types.js'

/**
 * Loads commits by hash (cached by the caller).
 */
export type CommitLoader = (hashes: readonly string[]) => Promise<readonly Commit[]>

const FROM_A = 1
const FROM_B = 2
const STALE = 4

/** A max-heap of commits by generation, ties broken by hash (or by `before`) so traversal order is deterministic. */
class GenerationQueue {
  readonly #items: Commit[] = []
  readonly #before: (x: Commit, y: Commit) => boolean
  constructor(before: (x: Commit, y: Commit) => boolean = GenerationQueue.before) {
    this.#before = before
  }
  get size(): number {
    return this.#items.length
  }
  push(c: Commit): void {
    const a = this.#items
    a.push(c)
    let i = a.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.#before(a[i] as Commit, a[p] as Commit)) break
      ;[a[i], a[p]] = [a[p] as Commit, a[i] as Commit]
      i = p
    }
  }
  pop(): Commit | undefined {
    const a = this.#items
    const top = a[0]
    const last = a.pop()
    if (a.length > 0 && last) {
      a[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < a.length && this.#before(a[l] as Commit, a[m] as Commit)) m = l
        if (r < a.length && this.#before(a[r] as Commit, a[m] as Commit)) m = r
        if (m === i) break
        ;[a[i], a[m]] = [a[m] as Commit, a[i] as Commit]
        i = m
      }
    }
    return top
  }
  static before(x: Commit, y: Commit): boolean {
    return x.generation > y.generation || (x.generation === y.generation && x.hash < y.hash)
  }
  /** Newest first: by generation (children before parents), then later timestamp, then hash. */
  static newer(x: Commit, y: Commit): boolean {
    if (x.generation !== y.generation) return x.generation > y.generation
    if (x.timestamp !== y.timestamp) return x.timestamp > y.timestamp
    return x.hash < y.hash
  }
}

/**
 * The best common ancestor of two commits, or undefined when they share no history. Walks both histories at once in
 * generation order and stops as soon as every commit still queued is below a common ancestor, so the cost is
 * proportional to the commits since the fork, not to the length of the history. With several best candidates
 * (criss-cross merges) the one with the highest generation wins, ties broken by hash.
 */
export async function mergeBase(load: CommitLoader, a: Commit, b: Commit): Promise<Commit | undefined> {
  if (a.hash === b.hash) return a
  const flags = new Map<string, number>([
    [a.hash, FROM_A],
    [b.hash, FROM_B],
  ])
  const queue = new GenerationQueue()
  queue.push(a)
  queue.push(b)
  let live = 2
  const results: Commit[] = []
  while (queue.size > 0 && live > 0) {
    const c = queue.pop() as Commit
    let f = flags.get(c.hash) ?? 0
    if (!(f & STALE)) live--
    if ((f & (FROM_A | FROM_B)) === (FROM_A | FROM_B) && !(f & STALE)) {
      results.push(c)
      f |= STALE
      flags.set(c.hash, f)
    }
    if (c.parents.length === 0) continue
    const parents = await load(c.parents)
    for (const p of parents) {
      const pf = flags.get(p.hash)
      const nf = (pf ?? 0) | f
      if (pf === nf) continue
      flags.set(p.hash, nf)
      if (pf === undefined) {
        queue.push(p)
        if (!(nf & STALE)) live++
      } else if (!(pf & STALE) && nf & STALE) {
        live--
      } else if (pf & STALE && !(nf & STALE)) {
        live++
      }
    }
  }
  // A result is never an ancestor of another: every path from a result down is marked stale before it is reached.
  results.sort((x, y) => (GenerationQueue.before(x, y) ? -1 : 1))
  return results[0]
}

/**
 * True when `ancestor` is `descendant` or one of its ancestors. Prunes every path below the ancestor's generation.
 */
export async function isAncestor(load: CommitLoader, ancestor: Commit, descendant: Commit): Promise<boolean> {
  if (ancestor.hash === descendant.hash) return true
  const seen = new Set<string>([descendant.hash])
  let frontier = [descendant]
  while (frontier.length > 0) {
    const next: string[] = []
    for (const c of frontier) {
      for (const p of c.parents) {
        if (p === ancestor.hash) return true
        if (!seen.has(p)) {
          seen.add(p)
          next.push(p)
        }
      }
    }
    frontier = (await load(next)).filter((c) => c.generation > ancestor.generation)
  }
  return false
}

/**
 * Commits reachable from `heads`, newest first (by generation, then timestamp, then hash), stopping after `limit`
 * commits that satisfy `accept`.
 */
export async function walkHistory(
  load: CommitLoader,
  heads: readonly Commit[],
  limit: number,
  accept: (c: Commit) => boolean,
): Promise<Commit[]> {
  const out: Commit[] = []
  const seen = new Set<string>(heads.map((h) => h.hash))
  const queue = new GenerationQueue(GenerationQueue.newer)
  for (const h of heads) queue.push(h)
  while (queue.size > 0 && out.length < limit) {
    const c = queue.pop() as Commit
    if (accept(c)) out.push(c)
    const fresh = c.parents.filter((p) => !seen.has(p))
    for (const p of fresh) seen.add(p)
    for (const p of await load(fresh)) queue.push(p)
  }
  return out
}

/**
 * The first-parent chain from `head`, newest first, stopping after `limit` commits that satisfy `accept`.
 */
export async function firstParentHistory(
  load: CommitLoader,
  head: Commit,
  limit: number,
  accept: (c: Commit) => boolean,
): Promise<Commit[]> {
  const out: Commit[] = []
  let c: Commit | undefined = head
  while (c && out.length < limit) {
    if (accept(c)) out.push(c)
    const parent: string | undefined = c.parents[0]
    c = parent === undefined ? undefined : (await load([parent]))[0]
  }
  return out
}

/**
 * The commits a merge of `theirs` brings in over `base`: those reachable from `theirs` whose generation is above the
 * base's (every commit when there is no base), newest first (children before their parents). Walks only those.
 */
export async function incomingCommits(
  load: CommitLoader,
  theirs: Commit,
  base: Commit | undefined,
): Promise<Commit[]> {
  const floor = base?.generation ?? 0
  return walkHistory(
    async (hashes) => (await load(hashes)).filter((c) => c.generation > floor),
    theirs.generation > floor ? [theirs] : [],
    Number.POSITIVE_INFINITY,
    () => true,
  )
}
