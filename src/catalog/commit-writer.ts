import type { Clock } from '../util/clock.js'
import { TarnError } from '../util/errors.js'
import { isAncestor } from './ancestry.js'
import type { CatalogBackend } from './backend.js'
import { makeCommit, shortHash } from './commit.js'
import type { CommitCache } from './commit-cache.js'
import type { LakeStates } from './lake-state.js'
import type { ProtectedBranches } from './protected-branches.js'
import type { Refs } from './refs.js'
import { type ChangeMap, checkIntegrity, toTreeChanges } from './tree-changes.js'
import type { Change, Commit, StoredObject } from './types.js'

/**
 * A request to commit changes to a branch.
 *
 * @example
 * ```ts
 * await catalog.commit({ branch: 'main', changes: [{ type: 'dropTable', key: 'orders' }], message: 'drop orders' })
 * ```
 */
export interface CommitRequest {
  readonly branch: string
  readonly changes: readonly Change[]
  readonly message: string
  readonly author?: string
  readonly properties?: Readonly<Record<string, string>>
  /**
   * The head the changes were based on. When the branch has moved since, the commit is retried on the new head only
   * if the commits in between touched none of the same tables or namespaces; otherwise `BRANCH_HEAD_CHANGED`.
   */
  readonly expectedHead?: string
  /** With `expectedHead`: fail with `BRANCH_HEAD_CHANGED` as soon as the head moved, never rebase. */
  readonly strict?: boolean
}

/**
 * What a commit records besides its changes; `parents` defaults to the head it is written on.
 */
export interface CommitMeta {
  readonly message: string
  readonly author?: string
  readonly properties?: Readonly<Record<string, string>>
  readonly parents?: readonly string[]
}

/**
 * What one attempt at moving a branch returns when another writer moved the branch first.
 */
export const RACE_LOST = 'moved'

/**
 * The outcome of one attempt: a value, or {@link RACE_LOST}.
 */
export type Attempt<T> = T | typeof RACE_LOST

/**
 * Writes commits: one compare-and-swap attempt at moving a branch ({@link advance}), the one retry-on-race loop that
 * commits, merges and reverts share ({@link retryOnRace}), and plain commits built on both.
 */
export class CommitWriter {
  readonly #backend: CatalogBackend
  readonly #states: LakeStates
  readonly #commits: CommitCache
  readonly #refs: Refs
  readonly #protected: ProtectedBranches
  readonly #clock: Clock
  readonly #author: string
  readonly #maxAttempts: number
  /** Commit requests per branch that wait while a group of that branch is written. */
  readonly #queues = new Map<string, Waiting[]>()

  constructor(parts: {
    readonly backend: CatalogBackend
    readonly states: LakeStates
    readonly commits: CommitCache
    readonly refs: Refs
    readonly protectedBranches: ProtectedBranches
    readonly clock: Clock
    readonly author: string
    readonly maxAttempts: number
  }) {
    this.#backend = parts.backend
    this.#states = parts.states
    this.#commits = parts.commits
    this.#refs = parts.refs
    this.#protected = parts.protectedBranches
    this.#clock = parts.clock
    this.#author = parts.author
    this.#maxAttempts = parts.maxAttempts
  }

  /**
   * One attempt: checks the changes against `head`, writes the commit and moves `branch` from `head` to it.
   * {@link RACE_LOST} when the branch no longer points at `head`; `BRANCH_SEALED`, `NOT_A_BRANCH` or
   * `BRANCH_NOT_FOUND` when it cannot move at all.
   */
  async advance(
    branch: string,
    head: Commit,
    changes: ChangeMap,
    meta: CommitMeta,
    operation: string,
  ): Promise<Attempt<Commit>> {
    await checkIntegrity(this.#states, head, changes)
    const { state, created } = await this.#states.apply(head, changes)
    const parents = [...(meta.parents ?? [head.hash])]
    const parentCommits = await this.#commits.get(parents)
    const commit = makeCommit(
      {
        parents,
        ...state,
        author: meta.author ?? this.#author,
        message: meta.message,
        timestamp: Math.max(this.#clock.now(), head.timestamp),
        properties: meta.properties ?? {},
      },
      1 + Math.max(...parentCommits.map((p) => p.generation)),
    )
    const outcome = await this.#backend.updateBranch({
      name: branch,
      expectedHead: head.hash,
      newHead: commit.hash,
      commit,
      objects: created,
      at: this.#clock.now(),
      operation,
    })
    if (outcome === 'ok') {
      this.#commits.remember(commit)
      return commit
    }
    if (outcome === 'moved') return RACE_LOST
    if (outcome === 'sealed') {
      throw new TarnError('BRANCH_SEALED', `branch ${JSON.stringify(branch)} is sealed`, { branch })
    }
    if (outcome === 'not-branch')
      throw new TarnError('NOT_A_BRANCH', `${JSON.stringify(branch)} is not a branch`, { ref: branch })
    throw new TarnError('BRANCH_NOT_FOUND', `branch ${JSON.stringify(branch)} does not exist`, { branch })
  }

  /**
   * Runs `attempt` until it returns something other than {@link RACE_LOST}, backing off a little more each time; after
   * the configured number of attempts, `BRANCH_HEAD_CHANGED` ("gave up `doing` after n races"). Each attempt must
   * re-read the branch head it builds on.
   */
  async retryOnRace<T>(
    doing: string,
    branch: string,
    attempt: (n: number) => Promise<Attempt<T>>,
  ): Promise<T> {
    for (let n = 1; ; n++) {
      const result = await attempt(n)
      if (result !== RACE_LOST) return result
      if (n >= this.#maxAttempts) {
        throw new TarnError('BRANCH_HEAD_CHANGED', `gave up ${doing} after ${n} races`, { branch })
      }
      await new Promise((r) => setTimeout(r, Math.min(50, n * 2)))
    }
  }

  /**
   * Commits changes to a branch with compare-and-swap on its head. A commit that loses a race is retried on the new
   * head when the commits it raced with touched none of the same keys; otherwise `BRANCH_HEAD_CHANGED`.
   *
   * Commits to one branch that arrive while another is being written are written together (a group commit): each
   * becomes its own commit, the first-parent child of the one before, checked as if committed alone on that state,
   * and the branch moves once for all of them in one backend transaction (the reflog still records one movement per
   * commit). A request that fails its checks fails alone; the others go on without it.
   */
  commit(request: CommitRequest): Promise<Commit> {
    if (request.changes.length === 0) {
      return Promise.reject(
        new TarnError('NOTHING_TO_COMMIT', 'a commit needs at least one change', { branch: request.branch }),
      )
    }
    return new Promise<Commit>((resolve, reject) => {
      const waiting = { request, resolve, reject }
      const queue = this.#queues.get(request.branch)
      if (queue !== undefined) {
        queue.push(waiting)
        return
      }
      const fresh: Waiting[] = [waiting]
      this.#queues.set(request.branch, fresh)
      void this.#drain(request.branch, fresh)
    })
  }

  /** Writes the queued commits of `branch`, a group at a time, until none is left. */
  async #drain(branch: string, queue: Waiting[]): Promise<void> {
    try {
      while (queue.length > 0) await this.#commitGroup(branch, queue.splice(0, MAX_GROUP))
    } finally {
      this.#queues.delete(branch)
    }
  }

  /** Writes a group of commit requests to `branch`; settles every one of them, never throws. */
  async #commitGroup(branch: string, group: readonly Waiting[]): Promise<void> {
    let outcome: GroupOutcome
    try {
      await this.#protected.refuse(branch, 'committed to directly')
      /** The head each request was based on: its `expectedHead`, or the branch head first read for it. */
      const bases = new Map<Waiting, string>()
      for (const w of group) if (w.request.expectedHead !== undefined) bases.set(w, w.request.expectedHead)
      // A request that names the head it was based on is first tried on that head without reading the branch:
      // when no other commit landed meanwhile (the usual case) the compare-and-swap succeeds at once.
      let guess = group.find((w) => w.request.expectedHead?.length === 64)?.request.expectedHead
      outcome = await this.retryOnRace(`committing to ${branch}`, branch, async () => {
        const guessed =
          guess === undefined ? undefined : await this.#commits.getOne(guess).catch(() => undefined)
        guess = undefined
        if (guessed !== undefined) {
          const tried = await this.#tryGroup(branch, guessed, group, bases)
          if (tried !== RACE_LOST) return tried
        }
        // Reading the branch throws BRANCH_SEALED, NOT_A_BRANCH or BRANCH_NOT_FOUND when it cannot move.
        const head = await this.#commits.getOne((await this.#refs.writableBranch(branch)).head)
        for (const w of group) if (!bases.has(w)) bases.set(w, head.hash)
        return this.#tryGroup(branch, head, group, bases)
      })
    } catch (e) {
      outcome = { done: new Map(), failed: new Map(group.map((w) => [w, e])) }
    }
    for (const w of group) {
      const commit = outcome.done.get(w)
      if (commit !== undefined) w.resolve(commit)
      else w.reject(outcome.failed.get(w))
    }
  }

  /**
   * One attempt at a group: builds the chain of commits on `head` (a request that fails its checks is left out) and
   * moves the branch from `head` to its tip. {@link RACE_LOST} when the branch is not at `head` (or cannot move).
   */
  async #tryGroup(
    branch: string,
    head: Commit,
    group: readonly Waiting[],
    bases: ReadonlyMap<Waiting, string>,
  ): Promise<Attempt<GroupOutcome>> {
    const done = new Map<Waiting, Commit>()
    const failed = new Map<Waiting, unknown>()
    const chain: Commit[] = []
    const created: StoredObject[] = []
    /** Keys changed by the commits of the chain so far (for the overlap check of the ones after). */
    const chainKeys = new Set<string>()
    let tip = head
    for (const w of group) {
      try {
        const base = bases.get(w) ?? head.hash
        const changes = await toTreeChanges(this.#states, tip, w.request.changes)
        if (base !== tip.hash) await this.#refuseOverlap(w.request, base, head, tip, changes, chainKeys)
        await checkIntegrity(this.#states, tip, changes)
        const next = await this.#states.apply(tip, changes)
        const commit = makeCommit(
          {
            parents: [tip.hash],
            ...next.state,
            author: w.request.author ?? this.#author,
            message: w.request.message,
            timestamp: Math.max(this.#clock.now(), tip.timestamp),
            properties: w.request.properties ?? {},
          },
          1 + tip.generation,
        )
        chain.push(commit)
        created.push(...next.created)
        for (const k of changes.keys()) chainKeys.add(k)
        done.set(w, commit)
        tip = commit
      } catch (e) {
        failed.set(w, e)
      }
    }
    if (chain.length === 0) return { done, failed }
    const outcome = await this.#backend.updateBranch({
      name: branch,
      expectedHead: head.hash,
      newHead: tip.hash,
      ...(chain.length === 1 ? { commit: tip } : { chain }),
      objects: created,
      at: this.#clock.now(),
      operation: 'commit',
    })
    if (outcome !== 'ok') return RACE_LOST
    for (const c of chain) this.#commits.remember(c)
    return { done, failed }
  }

  /**
   * Throws `BRANCH_HEAD_CHANGED` unless the commits between `baseHash` and `tip` touched none of the keys the
   * request changes (and the request is not `strict`, and the branch's `head` descends from the base). `tip` is
   * `head` or a commit of the group being written on it, whose keys `chainKeys` holds.
   */
  async #refuseOverlap(
    request: CommitRequest,
    baseHash: string,
    head: Commit,
    tip: Commit,
    ours: ChangeMap,
    chainKeys: ReadonlySet<string>,
  ): Promise<void> {
    const base = await this.#refs.commitForHash(baseHash)
    const movedKeys = new Set((await this.#states.diff(base, head)).map((d) => d.key))
    for (const k of chainKeys) movedKeys.add(k)
    const moved = [...movedKeys].filter((k) => ours.has(k)).sort()
    if (!request.strict && moved.length === 0 && (await isAncestor(this.#commits.load, base, head))) return
    throw new TarnError(
      'BRANCH_HEAD_CHANGED',
      `branch ${request.branch} moved from ${shortHash(baseHash)} to ${shortHash(tip.hash)}` +
        (moved.length > 0 ? ` and changed ${moved.map((k) => k.slice(2)).join(', ')} meanwhile` : ''),
      {
        branch: request.branch,
        expectedHead: baseHash,
        actualHead: tip.hash,
        keys: moved.map((k) => k.slice(2)),
      },
    )
  }
}

/** A commit request waiting for its group to be written. */
interface Waiting {
  readonly request: CommitRequest
  readonly resolve: (commit: Commit) => void
  readonly reject: (error: unknown) => void
}

/** What a group attempt settled: the commit of each request written, the error of each refused. */
interface GroupOutcome {
  readonly done: ReadonlyMap<Waiting, Commit>
  readonly failed: ReadonlyMap<Waiting, unknown>
}

/** Most commits written as one group (one backend transaction). */
const MAX_GROUP = 64
