import type { LogOptions } from '../catalog/catalog.js'
import { DEFAULT_BRANCH } from '../catalog/defaults.js'
import type { MergeResult, RevertPlan, RevertResult } from '../catalog/results.js'
import type { Commit, RefInfo } from '../catalog/types.js'
import { TarnError } from '../util/errors.js'
import type { LakeConnection } from './lake-connection.js'
import { LakeHandle } from './lake-handle.js'
import { describeDiff, type RefDiff } from './ref-diff.js'
import { refuseReservedBranchName } from './reserved-branch.js'
import { RunBranchGuard } from './run-branch-guard.js'
import { deleteSealedBranches, type SealedBranchCleanup } from './sealed-branches.js'

/**
 * A branch or tag with its head commit.
 *
 * @example
 * ```ts
 * const { head, commit } = await lake.getBranch('main'); commit.message
 * ```
 */
export interface RefWithCommit extends RefInfo {
  readonly commit: Commit
}

/**
 * A commit with its diff against its first parent (`lake.log(ref, { patch: true })`).
 *
 * @example
 * ```ts
 * const [c] = await lake.log('main', { limit: 1, patch: true }); c?.diff.tableChanges
 * ```
 */
export interface CommitWithDiff extends Commit {
  readonly diff: RefDiff
}

/**
 * The part of the SDK's `Lake` that works on refs: branches (with the run-branch guards), tags, protection, diff,
 * merge, history and revert, each defaulting to the active branch.
 */
export abstract class LakeRefs extends LakeHandle {
  readonly #runBranches: RunBranchGuard

  protected constructor(connection: LakeConnection, root?: LakeHandle) {
    super(connection, root)
    this.#runBranches = new RunBranchGuard(connection.catalog, connection.store)
  }

  // ---------------------------------------------------------------- branches and tags

  /** Every branch. */
  listBranches(): Promise<RefInfo[]> {
    return this.catalog.listBranches()
  }

  /** A branch with its head commit. */
  async getBranch(name: string): Promise<RefWithCommit> {
    const ref = await this.catalog.getBranch(name)
    return { ...ref, commit: await this.catalog.getCommit(ref.head) }
  }

  /**
   * Creates a branch (O(1)) from `from` (default: the active branch). A branch forked from a sealed branch, or from a
   * commit that shows part of a run (running, failed, or not its last commit), is a sealed, read-only copy.
   *
   * @example
   * ```ts
   * await lake.createBranch('dev', { from: 'main' })
   * ```
   */
  async createBranch(name: string, options: { from?: string } = {}): Promise<RefInfo> {
    refuseReservedBranchName(name)
    return this.catalog.createBranch(name, {
      from: options.from ?? this.activeBranch(),
      seal: this.#runBranches.sealsFork,
    })
  }

  /**
   * Deletes a branch. The active branch is refused (`BRANCH_ACTIVE`, as Git refuses to delete the checked-out branch);
   * with `force` it is deleted and the active branch falls back to `main` (`activeReset` in the result says so). The
   * branch of a run that is still running, or of a failed run (kept sealed for debugging), is protected
   * (`BRANCH_PROTECTED`); `force` deletes it anyway (a running run then fails without touching its target).
   *
   * @example
   * ```ts
   * await lake.deleteBranch('dev')
   * await lake.deleteBranch('run/job-1a2b3c4d5e6f', { force: true }) // clean up a failed run
   * ```
   */
  async deleteBranch(
    name: string,
    options: { force?: boolean } = {},
  ): Promise<RefInfo & { readonly activeReset?: boolean }> {
    const active = this.activeBranch() === name && name !== DEFAULT_BRANCH
    if (options.force !== true) {
      if (active) {
        await this.catalog.getBranch(name)
        throw new TarnError(
          'BRANCH_ACTIVE',
          `branch ${name} is the active branch; \`tarn checkout\` another branch first (--force deletes it and switches to ${DEFAULT_BRANCH})`,
          { branch: name },
        )
      }
      await this.#runBranches.refuse(name, 'deleted')
    }
    const ref = await this.catalog.deleteBranch(name)
    if (!active) return ref
    await this.checkout(DEFAULT_BRANCH)
    return { ...ref, activeReset: true }
  }

  /**
   * Deletes every sealed branch (failed runs' branches and their sealed forks), optionally only those created more
   * than `olderThanMs` ago; the active branch is kept. With `dryRun`, lists what would go and deletes nothing.
   *
   * @example
   * ```ts
   * const { deleted } = await lake.deleteSealedBranches({ olderThanMs: 7 * 86_400_000, dryRun: true })
   * ```
   */
  deleteSealedBranches(
    options: { olderThanMs?: number; dryRun?: boolean } = {},
  ): Promise<SealedBranchCleanup> {
    return deleteSealedBranches(this.catalog, { now: this.clock.now(), active: this.activeBranch() }, options)
  }

  /**
   * Renames a branch (and follows it if it was the active one). The branch of a running or failed run cannot be
   * renamed (`BRANCH_PROTECTED`).
   *
   * @example
   * ```ts
   * await lake.renameBranch('dev', 'feature/x')
   * ```
   */
  async renameBranch(from: string, to: string): Promise<RefInfo> {
    refuseReservedBranchName(to)
    await this.#runBranches.refuse(from, 'renamed')
    const ref = await this.catalog.renameBranch(from, to)
    if (this.activeBranch() === from) await this.checkout(to)
    return ref
  }

  /**
   * Protects a branch: it then takes only merges (no direct commit or revert) and cannot be deleted or renamed.
   *
   * @example
   * ```ts
   * await lake.protectBranch('main')
   * ```
   */
  protectBranch(name: string): Promise<RefInfo> {
    return this.catalog.protectBranch(name)
  }

  /** Lifts a branch's protection. */
  unprotectBranch(name: string): Promise<RefInfo> {
    return this.catalog.unprotectBranch(name)
  }

  /** Names of the protected branches. */
  protectedBranches(): Promise<string[]> {
    return this.catalog.protectedBranches()
  }

  /** Every tag. */
  listTags(): Promise<RefInfo[]> {
    return this.catalog.listTags()
  }

  /** Creates a tag at `from` (default: the active branch). */
  createTag(name: string, options: { from?: string } = {}): Promise<RefInfo> {
    return this.catalog.createTag(name, { from: options.from ?? this.activeBranch() })
  }

  /** Deletes a tag. */
  deleteTag(name: string): Promise<RefInfo> {
    return this.catalog.deleteTag(name)
  }

  /**
   * What `ref` has that `against` (default: the active branch) lacks. By default three-dot, as lakeFS and Nessie
   * show it: the changes made on `ref` since its merge base with `against` (what merging `ref` into `against` would
   * bring); with `twoWay`, the plain comparison of the two states. Every added, removed or changed table is described
   * from its Iceberg metadata and manifests (schema changes by field id, partition spec, files and records added and
   * removed); with `rows`, up to that many rows of the added and of the removed data files are read too.
   *
   * @example
   * ```ts
   * const d = await lake.diff('dev', 'main')                       // what dev would bring into main
   * const s = await lake.diff('dev', 'main', { twoWay: true })     // how the two states differ
   * const r = await lake.diff('dev', 'main', { rows: 5 })          // with sample rows
   * for (const t of d.tableChanges) console.log(t.table, t.records.added, t.records.removed)
   * ```
   */
  async diff(
    ref: string,
    against?: string,
    options: { twoWay?: boolean; rows?: number } = {},
  ): Promise<RefDiff> {
    if (options.rows !== undefined && (!Number.isInteger(options.rows) || options.rows < 0)) {
      throw new TarnError('INVALID_ARGUMENT', `rows must be a non-negative integer, got ${options.rows}`, {
        rows: options.rows,
      })
    }
    const d = await this.catalog.diff(ref, against ?? this.activeBranch(), {
      mode: options.twoWay ? 'two-way' : 'three-dot',
    })
    return describeDiff(this.store, d, options.rows === undefined ? {} : { rows: options.rows })
  }

  /** Merges `source` into `into` (default: the active branch). See `Catalog.merge`. */
  merge(
    source: string,
    options: { into?: string; message?: string; dryRun?: boolean } = {},
  ): Promise<MergeResult> {
    return this.catalog.merge(source, {
      into: options.into ?? this.activeBranch(),
      author: this.author,
      ...(options.message !== undefined ? { message: options.message } : {}),
      ...(options.dryRun !== undefined ? { dryRun: options.dryRun } : {}),
    })
  }

  /**
   * Commit history from `ref` (default: the active branch), newest first; `firstParent` follows only first parents.
   * With `patch`, each commit comes with its diff against its first parent (tables described as in {@link diff}).
   *
   * @example
   * ```ts
   * const last = await lake.log('main', { limit: 5, firstParent: true })
   * const withChanges = await lake.log('main', { limit: 3, patch: true })
   * withChanges[0]?.diff?.tableChanges
   * ```
   */
  log(ref?: string, options?: LogOptions & { patch?: false }): Promise<Commit[]>
  log(
    ref: string | undefined,
    options: LogOptions & { patch: true; rows?: number },
  ): Promise<CommitWithDiff[]>
  async log(
    ref?: string,
    options: LogOptions & { patch?: boolean; rows?: number } = {},
  ): Promise<Commit[] | CommitWithDiff[]> {
    const { patch, rows, ...filters } = options
    const commits = await this.catalog.log(ref ?? this.activeBranch(), filters)
    if (!patch) return commits
    const out: CommitWithDiff[] = []
    for (const c of commits)
      out.push({ ...c, diff: await this.commitDiff(c, rows === undefined ? {} : { rows }) })
    return out
  }

  /**
   * The changes one commit made against its first parent (the whole state, for the first commit), described as in
   * {@link diff}.
   *
   * @example
   * ```ts
   * const d = await lake.commitDiff((await lake.log('main', { limit: 1 }))[0]!)
   * ```
   */
  async commitDiff(commit: Commit, options: { rows?: number } = {}): Promise<RefDiff> {
    return describeDiff(this.store, await this.catalog.diffCommit(commit), options)
  }

  /**
   * Undoes a commit with a new commit on `on` (default: the active branch). With `dryRun`, nothing is written and the
   * result is the plan: which tables and namespaces would be restored or dropped, and for tables that only grew since,
   * how many appended files and records would be removed.
   *
   * @example
   * ```ts
   * const plan = await lake.revert('main~1', { dryRun: true }); plan.steps
   * await lake.revert('main~1', { message: 'undo the bad import' })
   * ```
   */
  revert(
    commit: string,
    options?: { on?: string; table?: string; message?: string; dryRun?: false },
  ): Promise<RevertResult>
  revert(commit: string, options: { on?: string; table?: string; dryRun: true }): Promise<RevertPlan>
  revert(
    commit: string,
    options: { on?: string; table?: string; message?: string; dryRun?: boolean } = {},
  ): Promise<RevertResult | RevertPlan> {
    const on = options.on ?? this.activeBranch()
    const table = options.table !== undefined ? { table: options.table } : {}
    if (options.dryRun) return this.catalog.planRevert(commit, { on, ...table })
    return this.catalog.revert(commit, {
      on,
      author: this.author,
      ...table,
      ...(options.message !== undefined ? { message: options.message } : {}),
    })
  }
}
