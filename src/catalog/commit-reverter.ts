import { TarnError } from '../util/errors.js'
import { summarizeChanges } from './change-summary.js'
import { shortHash } from './commit.js'
import type { CommitCache } from './commit-cache.js'
import { type CommitWriter, RACE_LOST } from './commit-writer.js'
import { DEFAULT_NAMESPACE } from './defaults.js'
import { asTableState, entryKey, sameEntryValue, tableValue } from './entries.js'
import { commitChanges } from './lake-diff.js'
import type { LakeStates } from './lake-state.js'
import { parseTableKey } from './names.js'
import type { ProtectedBranches } from './protected-branches.js'
import type { Refs } from './refs.js'
import type { RevertPlan, RevertResult, RevertStep } from './results.js'
import type { TableReverter } from './table-merger.js'
import type { TreeDiffEntry } from './tree.js'
import type { ChangeMap } from './tree-changes.js'
import type { Commit } from './types.js'

/** The commit to revert and the diff entries to undo (all, or one table's), with the multi-table warning. */
interface RevertTarget {
  readonly commit: Commit
  readonly diff: readonly TreeDiffEntry[]
  readonly warning?: string
}

/**
 * Undoes commits with new commits: every table and namespace a commit changed goes back to its state before it
 * (or only one table's), with the table reverter for tables that changed again since. Plans without writing too.
 */
export class CommitReverter {
  readonly #states: LakeStates
  readonly #commits: CommitCache
  readonly #refs: Refs
  readonly #writer: CommitWriter
  readonly #protected: ProtectedBranches
  readonly #reverter: TableReverter | undefined

  constructor(parts: {
    readonly states: LakeStates
    readonly commits: CommitCache
    readonly refs: Refs
    readonly writer: CommitWriter
    readonly protectedBranches: ProtectedBranches
    readonly tableReverter?: TableReverter | undefined
  }) {
    this.#states = parts.states
    this.#commits = parts.commits
    this.#refs = parts.refs
    this.#writer = parts.writer
    this.#protected = parts.protectedBranches
    this.#reverter = parts.tableReverter
  }

  /** What {@link revert} would do on branch `on`, without writing anything; throws what the revert would throw. */
  async plan(ref: string, options: { on: string; table?: string }): Promise<RevertPlan> {
    const branch = await this.#refs.writableBranch(options.on)
    await this.#protected.refuse(options.on, 'reverted on directly')
    const { commit, diff, warning } = await this.#target(ref, options.table)
    const head = await this.#commits.getOne(branch.head)
    const { steps } = await this.#undo(commit, diff, head, options.on, true)
    const changed = steps.filter((s) => s.action !== 'already-undone')
    const names = (kind: RevertStep['kind']): string[] =>
      changed
        .filter((s) => s.kind === kind)
        .map((s) => s.name)
        .sort()
    return {
      reverted: commit.hash,
      branch: options.on,
      head: head.hash,
      tables: names('table'),
      namespaces: names('namespace'),
      steps,
      ...(warning ? { warning } : {}),
    }
  }

  /**
   * Undoes a commit with a new commit on branch `on` (only `table`, when given). What cannot be undone is a
   * `REVERT_CONFLICT` naming the tables, and nothing changes; when everything is undone already, `NOTHING_TO_COMMIT`.
   */
  async revert(
    ref: string,
    options: { on: string; table?: string; message?: string; author?: string },
  ): Promise<RevertResult> {
    const first = await this.#refs.writableBranch(options.on)
    await this.#protected.refuse(options.on, 'reverted on directly')
    const { commit, diff, warning } = await this.#target(ref, options.table)
    return this.#writer.retryOnRace(`reverting on ${options.on}`, options.on, async (attempt) => {
      const branch = attempt > 1 ? await this.#refs.writableBranch(options.on) : first
      const head = await this.#commits.getOne(branch.head)
      const { changes, steps } = await this.#undo(commit, diff, head, options.on, false)
      const written = await this.#writer.advance(
        options.on,
        head,
        changes,
        {
          message: options.message ?? `Revert "${commit.message}" (${shortHash(commit.hash)})`,
          ...(options.author !== undefined ? { author: options.author } : {}),
          properties: {
            'tarn.revert_of': commit.hash,
            ...(options.table ? { 'tarn.revert_table': options.table } : {}),
          },
        },
        `revert ${shortHash(commit.hash)}`,
      )
      if (written === RACE_LOST) return RACE_LOST
      const s = summarizeChanges([...changes.keys()], [])
      return {
        commit: written,
        reverted: commit.hash,
        tables: s.tables,
        namespaces: s.namespaces,
        steps,
        ...(warning ? { warning } : {}),
      }
    })
  }

  async #target(ref: string, table: string | undefined): Promise<RevertTarget> {
    const { commit } = await this.#refs.resolve(ref)
    if (commit.parents.length === 0) {
      throw new TarnError('INVALID_ARGUMENT', 'the first commit of a lake cannot be reverted', {
        commit: commit.hash,
      })
    }
    let diff = await commitChanges(this.#states, this.#commits, commit)
    const tableKeys = diff.filter((d) => d.key.startsWith('t/'))
    let warning: string | undefined
    if (table !== undefined) {
      const k = entryKey.table(parseTableKey(table, DEFAULT_NAMESPACE).key)
      diff = diff.filter((d) => d.key === k)
      if (diff.length === 0) {
        throw new TarnError(
          'TABLE_NOT_CHANGED',
          `commit ${shortHash(commit.hash)} did not change table ${k.slice(2)}`,
          { commit: commit.hash, table: k.slice(2) },
        )
      }
      if (tableKeys.length > 1) {
        warning = `commit ${shortHash(commit.hash)} changed ${tableKeys.length} tables; reverting only ${k.slice(2)} gives a state that no run produced`
      }
    }
    if (diff.length === 0) {
      throw new TarnError('NOTHING_TO_COMMIT', `commit ${shortHash(commit.hash)} changed nothing`, {
        commit: commit.hash,
      })
    }
    return { commit, diff, ...(warning ? { warning } : {}) }
  }

  /**
   * The changes that undo `diff` on `head`, one step per key. Throws `REVERT_CONFLICT` naming every table that cannot
   * be undone, and `NOTHING_TO_COMMIT` when everything is undone already. With `dryRun` the table reverter writes
   * nothing and the changes are left empty for the tables it would handle.
   */
  async #undo(
    commit: Commit,
    diff: readonly TreeDiffEntry[],
    head: Commit,
    branch: string,
    dryRun: boolean,
  ): Promise<{ changes: ChangeMap; steps: RevertStep[] }> {
    const changes: ChangeMap = new Map()
    const steps: RevertStep[] = []
    const conflicts: { name: string; reason: string }[] = []
    for (const d of diff) {
      const now = await this.#states.get(head, d.key)
      const kind = d.key.startsWith('t/') ? 'table' : 'namespace'
      const name = d.key.slice(2)
      if (sameEntryValue(now, d.after)) {
        changes.set(d.key, d.before ?? null)
        steps.push({ kind, name, action: d.before === undefined ? 'drop' : 'restore' })
      } else if (sameEntryValue(now, d.before)) {
        steps.push({ kind, name, action: 'already-undone' })
      } else if (kind === 'table' && now !== undefined && d.after !== undefined && this.#reverter) {
        const outcome = await this.#reverter({
          key: name,
          before: d.before === undefined ? undefined : asTableState(d.before),
          after: asTableState(d.after),
          now: asTableState(now),
          ...(dryRun ? { dryRun: true } : {}),
        })
        if (outcome.kind === 'conflict') conflicts.push({ name, reason: outcome.reason })
        else {
          if (outcome.kind === 'reverted') changes.set(d.key, tableValue(outcome.state))
          steps.push({
            kind,
            name,
            action: 'remove-appended-files',
            ...(outcome.removedFiles !== undefined ? { removedFiles: outcome.removedFiles } : {}),
            ...(outcome.removedRecords !== undefined ? { removedRecords: outcome.removedRecords } : {}),
          })
        }
      } else conflicts.push({ name, reason: `${name} changed again since` })
    }
    if (conflicts.length > 0) {
      throw new TarnError(
        'REVERT_CONFLICT',
        `cannot revert ${shortHash(commit.hash)} on ${branch}: ${conflicts.map((c) => c.reason).join('; ')}`,
        { commit: commit.hash, branch, tables: conflicts.map((c) => c.name), conflicts },
      )
    }
    if (steps.every((s) => s.action === 'already-undone')) {
      throw new TarnError(
        'NOTHING_TO_COMMIT',
        `commit ${shortHash(commit.hash)} is already undone on ${branch}`,
        {
          commit: commit.hash,
          branch,
        },
      )
    }
    return { changes, steps }
  }
}
