import { type Clock, systemClock } from '../util/clock.js'
import { firstParentHistory, mergeBase, walkHistory } from './ancestry.js'
import type { CatalogBackend } from './backend.js'
import { BranchMerger, type MergeOptions } from './branch-merger.js'
import { makeCommit } from './commit.js'
import { CommitCache } from './commit-cache.js'
import { CommitReverter } from './commit-reverter.js'
import { type CommitRequest, CommitWriter } from './commit-writer.js'
import { DEFAULT_BRANCH, DEFAULT_NAMESPACE } from './defaults.js'
import { asNamespaceState, asTableState, entryKey, namespaceValue, parseEntryKey } from './entries.js'
import { commitChanges, toLakeDiff } from './lake-diff.js'
import { EMPTY_STATE, LakeStates } from './lake-state.js'
import type { MergeGuard } from './merge-guard.js'
import { parseTableKey } from './names.js'
import { ProtectedBranches } from './protected-branches.js'
import { Refs } from './refs.js'
import type { DiffMode, LakeDiff, MergeResult, ResolvedRef, RevertPlan, RevertResult } from './results.js'
import type { TableMerger, TableReverter } from './table-merger.js'
import { Tree, type TreeDiffEntry } from './tree.js'
import { type ChangeMap, checkCaseClashes } from './tree-changes.js'
import type { Commit, LakeState, NamespaceState, RefInfo, TableState } from './types.js'

export type { CommitRequest } from './commit-writer.js'
export { DEFAULT_BRANCH, DEFAULT_NAMESPACE } from './defaults.js'

/**
 * Options of {@link Catalog}.
 *
 * @example
 * ```ts
 * new Catalog(backend, { clock: fixedClock(0), author: 'alice', tableMerger })
 * ```
 */
export interface CatalogOptions {
  readonly clock?: Clock
  /** Default author of commits. */
  readonly author?: string
  /** Asked when both sides of a merge changed one table. */
  readonly tableMerger?: TableMerger
  /** Asked when a table the reverted commit changed has changed again since. */
  readonly tableReverter?: TableReverter
  /**
   * Run before every merge, with the commits it would bring in; throws to refuse it. The lake installs the
   * pipeline's guard, which keeps the commits of runs that have not landed out of other branches (`RUN_INCOMPLETE`).
   */
  readonly mergeGuard?: MergeGuard
  /** How many times a commit or merge that lost a race is retried. */
  readonly maxAttempts?: number
}

/**
 * Filters of {@link Catalog.log}.
 *
 * @example
 * ```ts
 * await catalog.log('main', { limit: 10, property: { key: 'tarn.operation', value: 'import' } })
 * ```
 */
export interface LogOptions {
  readonly limit?: number
  /** Case-insensitive substring of the message. */
  readonly message?: string
  /** Case-insensitive substring of the author. */
  readonly author?: string
  /** A property that must be present, optionally with this value. */
  readonly property?: { readonly key: string; readonly value?: string }
  /** Follow only first parents (the branch's own line of commits and its merge commits). */
  readonly firstParent?: boolean
}

/**
 * The Git-for-data core: content-addressed commits of the whole lake, branches and tags, ref resolution, diff,
 * three-way merge with a table-merge hook, and revert — over any {@link CatalogBackend}. Commit cost depends only on
 * the number of changed tables (the lake state is a persistent hash trie), and ancestry queries use generation
 * numbers so they do not walk whole histories. A façade: refs, the commit writer, the merger, the reverter and the
 * protected branches each live in their own module.
 *
 * @example
 * ```ts
 * const catalog = new Catalog(SqliteBackend.open(':memory:'))
 * await catalog.init()
 * await catalog.createBranch('alice.dev', { from: 'main' })
 * await catalog.commit({ branch: 'alice.dev', changes: [{ type: 'createNamespace', name: 'sales' }], message: 'add sales' })
 * const result = await catalog.merge('alice.dev', { into: 'main' })
 * ```
 */
export class Catalog {
  readonly backend: CatalogBackend
  readonly #states: LakeStates
  readonly #clock: Clock
  readonly #author: string
  readonly #commits: CommitCache
  readonly #protected: ProtectedBranches
  readonly #refs: Refs
  readonly #writer: CommitWriter
  readonly #merger: BranchMerger
  readonly #reverter: CommitReverter

  constructor(backend: CatalogBackend, options: CatalogOptions = {}) {
    this.backend = backend
    this.#states = new LakeStates(new Tree(backend))
    this.#clock = options.clock ?? systemClock
    this.#author = options.author ?? 'tarn'
    this.#commits = new CommitCache(backend)
    this.#protected = new ProtectedBranches(backend, this.#clock)
    this.#refs = new Refs(backend, this.#commits, this.#clock, this.#protected)
    const parts = {
      backend,
      states: this.#states,
      commits: this.#commits,
      refs: this.#refs,
      protectedBranches: this.#protected,
      clock: this.#clock,
    }
    this.#writer = new CommitWriter({
      ...parts,
      author: this.#author,
      maxAttempts: options.maxAttempts ?? 100,
    })
    this.#merger = new BranchMerger({
      ...parts,
      writer: this.#writer,
      tableMerger: options.tableMerger,
      mergeGuard: options.mergeGuard,
    })
    this.#reverter = new CommitReverter({
      ...parts,
      writer: this.#writer,
      tableReverter: options.tableReverter,
    })
  }

  /** Creates the schema, the root commit (with namespace `tarn`) and branch `main` when missing. Idempotent. */
  async init(): Promise<RefInfo> {
    await this.backend.migrate()
    const existing = await this.backend.getRef(DEFAULT_BRANCH)
    if (existing) return existing
    const { state, created } = await this.#states.apply(
      EMPTY_STATE,
      new Map([[entryKey.namespace(DEFAULT_NAMESPACE), namespaceValue({ properties: {} })]]),
    )
    const now = this.#clock.now()
    const commit = makeCommit(
      {
        parents: [],
        ...state,
        author: this.#author,
        message: 'Initialize lake',
        timestamp: now,
        properties: {},
      },
      1,
    )
    await this.backend.putCommit(commit, [Tree.emptyNode, ...created])
    await this.backend.createRef(
      { name: DEFAULT_BRANCH, kind: 'branch', head: commit.hash, sealed: false, createdAt: now },
      'init',
    )
    return (await this.backend.getRef(DEFAULT_BRANCH)) as RefInfo
  }

  /** True when {@link init} has run on this catalog. */
  async isInitialized(): Promise<boolean> {
    try {
      return (
        (await this.backend.getRef(DEFAULT_BRANCH)) !== undefined ||
        (await this.backend.listRefs()).length > 0
      )
    } catch {
      return false
    }
  }

  // ---------------------------------------------------------------- commits and refs

  /** Loads commits (cached: commits never change). Throws `COMMIT_NOT_FOUND` for an unknown hash. */
  getCommits(hashes: readonly string[]): Promise<Commit[]> {
    return this.#commits.get(hashes)
  }

  /** One commit by full hash. */
  getCommit(hash: string): Promise<Commit> {
    return this.#commits.getOne(hash)
  }

  /** The ref named `name` (branch or tag), or undefined. */
  getRef(name: string): Promise<RefInfo | undefined> {
    return this.#refs.get(name)
  }

  /** The branch named `name`; `BRANCH_NOT_FOUND` or `NOT_A_BRANCH` otherwise. */
  getBranch(name: string): Promise<RefInfo> {
    return this.#refs.branch(name)
  }

  /** Every branch, sorted by name. */
  listBranches(): Promise<RefInfo[]> {
    return this.#refs.list('branch')
  }

  /** Every tag, sorted by name. */
  listTags(): Promise<RefInfo[]> {
    return this.#refs.list('tag')
  }

  /**
   * Creates a branch at the commit `from` resolves to (O(1), copies nothing). The branch is sealed when `from` is a
   * sealed branch, or when `seal` says so of the commit (the lake seals forks of part of a run).
   */
  createBranch(
    name: string,
    options: { from: string; seal?: (commit: Commit) => Promise<boolean> },
  ): Promise<RefInfo> {
    return this.#refs.create('branch', name, options.from, options.seal)
  }

  /** Creates a tag at the commit `from` resolves to. */
  createTag(name: string, options: { from: string }): Promise<RefInfo> {
    return this.#refs.create('tag', name, options.from)
  }

  /** Deletes a branch. `main` cannot be deleted. */
  deleteBranch(name: string): Promise<RefInfo> {
    return this.#refs.deleteBranch(name)
  }

  /** Deletes a tag. */
  deleteTag(name: string): Promise<RefInfo> {
    return this.#refs.deleteTag(name)
  }

  /** Renames a branch. `main` cannot be renamed. */
  renameBranch(from: string, to: string): Promise<RefInfo> {
    return this.#refs.renameBranch(from, to)
  }

  /** Seals a branch: it stays readable, but commits and merges from or into it are refused (`BRANCH_SEALED`). */
  sealBranch(name: string): Promise<RefInfo> {
    return this.#refs.sealBranch(name)
  }

  /**
   * Resolves a ref expression (`main`, `v1`, `main@3fa1c2`, `@3fa1c2`, `main~2`, `main*2026-01-31T10:00:00Z`) to a
   * commit. A bare hex string that names no branch or tag is read as a commit hash prefix. Throws `INVALID_REF` for
   * malformed text, `REF_NOT_FOUND`/`COMMIT_NOT_FOUND` for unknown names and hashes, `AMBIGUOUS_REF` for a hash
   * prefix that matches several commits.
   */
  resolve(text: string): Promise<ResolvedRef> {
    return this.#refs.resolve(text)
  }

  // ---------------------------------------------------------------- reading state

  /** The whole lake state at a ref: its namespaces and tables. Costs O(tables). */
  async state(ref: string): Promise<LakeState> {
    const { commit } = await this.resolve(ref)
    return this.stateOf(commit)
  }

  /** The whole lake state of a commit. */
  async stateOf(commit: Commit): Promise<LakeState> {
    const namespaces: Record<string, NamespaceState> = {}
    const tables: Record<string, TableState> = {}
    for (const [k, v] of await this.#states.entries(commit)) {
      const e = parseEntryKey(k)
      if (e.kind === 'namespace') namespaces[e.name] = asNamespaceState(v)
      else tables[e.key] = asTableState(v)
    }
    return { commit, namespaces, tables }
  }

  /** One table at a ref, or undefined. Costs O(log tables). */
  async getTable(ref: string | Commit, table: string): Promise<TableState | undefined> {
    const commit = typeof ref === 'string' ? (await this.resolve(ref)).commit : ref
    const v = await this.#states.get(commit, entryKey.table(parseTableKey(table, DEFAULT_NAMESPACE).key))
    return v === undefined ? undefined : asTableState(v)
  }

  /** One namespace at a ref, or undefined. */
  async getNamespace(ref: string | Commit, name: string): Promise<NamespaceState | undefined> {
    const commit = typeof ref === 'string' ? (await this.resolve(ref)).commit : ref
    const v = await this.#states.get(commit, entryKey.namespace(name))
    return v === undefined ? undefined : asNamespaceState(v)
  }

  // ---------------------------------------------------------------- writing

  /**
   * Throws `TABLE_EXISTS` / `NAMESPACE_EXISTS` when creating these tables or namespaces at `commit` would put them
   * next to one whose name differs only in letter case (checked before writing any data; commits check it too).
   *
   * @example
   * ```ts
   * await catalog.checkNewNames(head, { tables: ['tarn.ZONES2'] }) // TABLE_EXISTS when tarn.zones2 exists
   * ```
   */
  async checkNewNames(
    commit: Commit,
    names: { readonly tables?: readonly string[]; readonly namespaces?: readonly string[] },
  ): Promise<void> {
    const changes: ChangeMap = new Map()
    for (const t of names.tables ?? []) changes.set(entryKey.table(t), {})
    for (const n of names.namespaces ?? []) changes.set(entryKey.namespace(n), {})
    await checkCaseClashes(this.#states, commit, changes)
  }

  /**
   * Commits changes to a branch with compare-and-swap on its head. A commit that loses a race is retried on the new
   * head when the commits it raced with touched none of the same keys; otherwise `BRANCH_HEAD_CHANGED`.
   */
  commit(request: CommitRequest): Promise<Commit> {
    return this.#writer.commit(request)
  }

  // ---------------------------------------------------------------- history and comparison

  /**
   * Commit history reachable from `ref`, newest first (children before parents; commits of parallel lines of the same
   * depth by time), filtered. With `firstParent`, only the first-parent chain: the branch's own commits and the
   * merge commits that landed other work on it, as `git log --first-parent` shows.
   */
  async log(ref: string, options: LogOptions = {}): Promise<Commit[]> {
    const { commit } = await this.resolve(ref)
    const msg = options.message?.toLowerCase()
    const author = options.author?.toLowerCase()
    const prop = options.property
    const accept = (c: Commit): boolean => {
      if (msg !== undefined && !c.message.toLowerCase().includes(msg)) return false
      if (author !== undefined && !c.author.toLowerCase().includes(author)) return false
      if (prop !== undefined) {
        const v = c.properties[prop.key]
        if (v === undefined || (prop.value !== undefined && v !== prop.value)) return false
      }
      return true
    }
    const limit = options.limit ?? Number.POSITIVE_INFINITY
    if (options.firstParent) return firstParentHistory(this.#commits.load, commit, limit, accept)
    return walkHistory(this.#commits.load, [commit], limit, accept)
  }

  /** The best common ancestor of two refs, or undefined. */
  async mergeBase(a: string, b: string): Promise<Commit | undefined> {
    const [ca, cb] = await Promise.all([this.resolve(a), this.resolve(b)])
    return mergeBase(this.#commits.load, ca.commit, cb.commit)
  }

  /**
   * What `to` has that `from` lacks: namespaces and tables added, removed and changed, with both states. `two-way`
   * (the default here) compares the two states; `three-dot` lists only the changes made on `to` since its merge base
   * with `from` (what merging `to` into `from` would bring), so changes `from` made on its own never show up.
   */
  async diff(to: string, from: string, options: { mode?: DiffMode } = {}): Promise<LakeDiff> {
    const mode = options.mode ?? 'two-way'
    const [rt, rf] = await Promise.all([this.resolve(to), this.resolve(from)])
    const before = mode === 'two-way' ? rf.commit : await mergeBase(this.#commits.load, rt.commit, rf.commit)
    const entries = await this.#states.diff(before ?? EMPTY_STATE, rt.commit)
    return toLakeDiff(
      entries,
      mode,
      before?.hash ?? null,
      { ref: from, hash: rf.commit.hash },
      { ref: to, hash: rt.commit.hash },
    )
  }

  /**
   * The changes one commit made against its first parent (against the empty lake for the first commit), as a diff
   * whose `to` is the commit and `from` its first parent.
   */
  async diffCommit(commit: Commit): Promise<LakeDiff> {
    const parent = commit.parents[0]
    const entries = await this.changesOf(commit)
    const self = { ref: `@${commit.hash}`, hash: commit.hash }
    const from = parent === undefined ? { ref: '(empty)', hash: '' } : { ref: `@${parent}`, hash: parent }
    return toLakeDiff(entries, 'two-way', parent ?? null, from, self)
  }

  /** The changes a single commit made relative to its first parent. */
  changesOf(commit: Commit): Promise<TreeDiffEntry[]> {
    return commitChanges(this.#states, this.#commits, commit)
  }

  // ---------------------------------------------------------------- merge and revert

  /**
   * Merges `source` (any ref) into the branch `into`: fast-forward when the target has not moved since the fork;
   * otherwise a three-way merge against the merge base, table by table. A table both sides changed goes to the table
   * merger (when configured); what it cannot combine is a conflict. Conflicts throw `MERGE_CONFLICT` naming every
   * conflicting table and leave the target unchanged; with `dryRun` the result lists them instead and nothing moves.
   * The merge guard (when configured) sees every merge first and may refuse it. With `job`, the merge lands that
   * job's run: always a merge commit, marked `tarn.landed_job`.
   */
  merge(source: string, options: MergeOptions): Promise<MergeResult> {
    return this.#merger.merge(source, options)
  }

  /**
   * What {@link revert} would do on branch `on`, without writing anything: one step per table and namespace (restore,
   * drop, or remove exactly the files an append-only commit added). Throws what the revert would throw
   * (`REVERT_CONFLICT`, `NOTHING_TO_COMMIT`, ...).
   */
  planRevert(ref: string, options: { on: string; table?: string }): Promise<RevertPlan> {
    return this.#reverter.plan(ref, options)
  }

  /**
   * Undoes a commit with a new commit on branch `on`: every table and namespace it changed goes back to its state
   * before it. With `table`, only that table is reverted (and a warning says the result is a state no run produced
   * when the commit changed more). A table changed again since the commit goes to the table reverter (the Iceberg
   * one removes exactly the files an append-only commit added); what it cannot undo is a `REVERT_CONFLICT` naming the
   * tables, and nothing changes. Keys already back at their old state are left alone; when all are,
   * `NOTHING_TO_COMMIT`.
   */
  revert(
    ref: string,
    options: { on: string; table?: string; message?: string; author?: string },
  ): Promise<RevertResult> {
    return this.#reverter.revert(ref, options)
  }

  // ---------------------------------------------------------------- protected branches

  /**
   * Protects a branch: it then takes only merges (no direct commit or revert) and cannot be deleted or renamed until
   * {@link unprotectBranch}. Idempotent.
   */
  async protectBranch(name: string): Promise<RefInfo> {
    const ref = await this.getBranch(name)
    await this.#protected.protect(name)
    return ref
  }

  /** Lifts the protection of a branch. Idempotent. */
  async unprotectBranch(name: string): Promise<RefInfo> {
    const ref = await this.getBranch(name)
    await this.#protected.unprotect(name)
    return ref
  }

  /** Names of the protected branches, sorted. */
  protectedBranches(): Promise<string[]> {
    return this.#protected.list()
  }

  /** Releases the backend. */
  async close(): Promise<void> {
    await this.backend.close()
  }
}
