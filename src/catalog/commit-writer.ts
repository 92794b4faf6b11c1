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
import type { Change, Commit } from './types.js'

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
   */
  async commit(request: CommitRequest): Promise<Commit> {
    if (request.changes.length === 0) {
      throw new TarnError('NOTHING_TO_COMMIT', 'a commit needs at least one change', {
        branch: request.branch,
      })
    }
    await this.#protected.refuse(request.branch, 'committed to directly')
    let baseHash = request.expectedHead
    return this.retryOnRace(`committing to ${request.branch}`, request.branch, async () => {
      const ref = await this.#refs.writableBranch(request.branch)
      const head = await this.#commits.getOne(ref.head)
      baseHash ??= head.hash
      if (baseHash !== head.hash) await this.#refuseOverlap(request, baseHash, head)
      const changes = await toTreeChanges(this.#states, head, request.changes)
      return this.advance(
        request.branch,
        head,
        changes,
        {
          message: request.message,
          ...(request.author !== undefined ? { author: request.author } : {}),
          ...(request.properties !== undefined ? { properties: request.properties } : {}),
        },
        'commit',
      )
    })
  }

  /**
   * Throws `BRANCH_HEAD_CHANGED` unless the commits between `baseHash` and `head` touched none of the keys the
   * request changes (and the request is not `strict`, and `head` descends from the base).
   */
  async #refuseOverlap(request: CommitRequest, baseHash: string, head: Commit): Promise<void> {
    const base = await this.#refs.commitForHash(baseHash)
    const ours = await toTreeChanges(this.#states, head, request.changes)
    const moved = (await this.#states.diff(base, head)).map((d) => d.key).filter((k) => ours.has(k))
    if (!request.strict && moved.length === 0 && (await isAncestor(this.#commits.load, base, head))) return
    throw new TarnError(
      'BRANCH_HEAD_CHANGED',
      `branch ${request.branch} moved from ${shortHash(baseHash)} to ${shortHash(head.hash)}` +
        (moved.length > 0 ? ` and changed ${moved.map((k) => k.slice(2)).join(', ')} meanwhile` : ''),
      {
        branch: request.branch,
        expectedHead: baseHash,
        actualHead: head.hash,
        keys: moved.map((k) => k.slice(2)),
      },
    )
  }
}
