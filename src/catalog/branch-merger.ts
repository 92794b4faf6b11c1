import type { Clock } from '../util/clock.js'
import { TarnError } from '../util/errors.js'
import { incomingCommits, mergeBase } from './ancestry.js'
import type { CatalogBackend } from './backend.js'
import { summarizeChanges } from './change-summary.js'
import type { CommitCache } from './commit-cache.js'
import { type Attempt, type CommitWriter, RACE_LOST } from './commit-writer.js'
import { asTableState, parseEntryKey, sameEntryValue, tableValue } from './entries.js'
import { EMPTY_STATE, type LakeStates } from './lake-state.js'
import { LANDED_JOB_PROPERTY, type MergeGuard } from './merge-guard.js'
import type { Refs } from './refs.js'
import type { MergeConflict, MergeResult } from './results.js'
import type { TableMerger } from './table-merger.js'
import type { TreeDiffEntry } from './tree.js'
import { type ChangeMap, checkIntegrity } from './tree-changes.js'
import type { Commit } from './types.js'

/**
 * Options of {@link BranchMerger.merge} (and `Catalog.merge`).
 */
export interface MergeOptions {
  readonly into: string
  readonly message?: string
  readonly author?: string
  readonly properties?: Readonly<Record<string, string>>
  readonly dryRun?: boolean
  /**
   * The job whose run this merge lands. It is shown to the merge guard, and the merge always makes a merge commit
   * (never a fast-forward) marked `tarn.landed_job`, so the whole run is one commit on the target.
   */
  readonly job?: string
}

/** The three-way combination of both sides' changes since the merge base. */
interface Combination {
  readonly changes: ChangeMap
  readonly conflicts: MergeConflict[]
  readonly combined: string[]
}

/**
 * Merges a ref into a branch: fast-forward when the target has not moved since the fork; otherwise a three-way merge
 * against the merge base, table by table, with the table merger for tables both sides changed. Lost races are
 * retried through the commit writer's one retry loop.
 */
export class BranchMerger {
  readonly #backend: CatalogBackend
  readonly #states: LakeStates
  readonly #commits: CommitCache
  readonly #refs: Refs
  readonly #writer: CommitWriter
  readonly #clock: Clock
  readonly #merger: TableMerger | undefined
  readonly #guard: MergeGuard | undefined

  constructor(parts: {
    readonly backend: CatalogBackend
    readonly states: LakeStates
    readonly commits: CommitCache
    readonly refs: Refs
    readonly writer: CommitWriter
    readonly clock: Clock
    readonly tableMerger?: TableMerger | undefined
    readonly mergeGuard?: MergeGuard | undefined
  }) {
    this.#backend = parts.backend
    this.#states = parts.states
    this.#commits = parts.commits
    this.#refs = parts.refs
    this.#writer = parts.writer
    this.#clock = parts.clock
    this.#merger = parts.tableMerger
    this.#guard = parts.mergeGuard
  }

  /**
   * Merges `source` (any ref) into the branch `options.into`. Conflicts throw `MERGE_CONFLICT` naming every
   * conflicting table and leave the target unchanged; with `dryRun` the result lists them instead and nothing moves.
   */
  merge(source: string, options: MergeOptions): Promise<MergeResult> {
    return this.#writer.retryOnRace(`merging into ${options.into}`, options.into, () =>
      this.#attempt(source, options),
    )
  }

  async #attempt(source: string, options: MergeOptions): Promise<Attempt<MergeResult>> {
    const dryRun = options.dryRun ?? false
    const src = await this.#refs.resolve(source)
    const target = await this.#refs.writableBranch(options.into)
    if (src.named?.kind === 'branch' && src.named.sealed) {
      throw new TarnError(
        'BRANCH_SEALED',
        `branch ${JSON.stringify(src.named.name)} is sealed and cannot be merged`,
        {
          branch: src.named.name,
        },
      )
    }
    const ours = await this.#commits.getOne(target.head)
    const theirs = src.commit
    const base = await mergeBase(this.#commits.load, ours, theirs)
    const result = (
      kind: MergeResult['kind'],
      after: string,
      changes: MergeResult['changes'],
      conflicts: MergeConflict[] = [],
      commit?: Commit,
    ): MergeResult => ({
      kind,
      dryRun,
      source: { ref: source, hash: theirs.hash },
      target: { branch: options.into, before: ours.hash, after },
      base: base?.hash ?? null,
      ...(commit ? { commit } : {}),
      changes,
      conflicts,
    })
    if (base?.hash === theirs.hash) return result('up-to-date', ours.hash, summarizeChanges([], []))
    await this.#guard?.({
      source,
      into: options.into,
      ...(options.job !== undefined ? { job: options.job } : {}),
      incoming: () => incomingCommits(this.#commits.load, theirs, base),
    })
    const theirDiff = await this.#states.diff(base ?? EMPTY_STATE, theirs)
    if (base?.hash === ours.hash && options.job === undefined) {
      const changes = summarizeChanges(
        theirDiff.map((d) => d.key),
        [],
      )
      if (dryRun) return result('fast-forward', theirs.hash, changes)
      const outcome = await this.#backend.updateBranch({
        name: options.into,
        expectedHead: ours.hash,
        newHead: theirs.hash,
        at: this.#clock.now(),
        operation: `merge ${source} (fast-forward)`,
      })
      return outcome === 'ok' ? result('fast-forward', theirs.hash, changes) : RACE_LOST
    }
    const { changes, conflicts, combined } = await this.#combine(ours, theirDiff, base)
    const summary = summarizeChanges([...changes.keys()], combined)
    if (conflicts.length > 0) {
      if (dryRun) return result('conflict', ours.hash, summary, conflicts)
      throw new TarnError(
        'MERGE_CONFLICT',
        `cannot merge ${source} into ${options.into}: ${conflicts.map((c) => `${c.kind} ${c.name}`).join(', ')} changed on both sides`,
        {
          source,
          target: options.into,
          base: base?.hash ?? null,
          tables: conflicts.filter((c) => c.kind === 'table').map((c) => c.name),
          namespaces: conflicts.filter((c) => c.kind === 'namespace').map((c) => c.name),
          conflicts,
        },
      )
    }
    if (dryRun) return result('merge', ours.hash, summary)
    const commit = await this.#writer.advance(
      options.into,
      ours,
      changes,
      {
        message: options.message ?? `Merge ${source} into ${options.into}`,
        ...(options.author !== undefined ? { author: options.author } : {}),
        properties: {
          ...(options.properties ?? {}),
          ...(options.job !== undefined ? { [LANDED_JOB_PROPERTY]: options.job } : {}),
        },
        parents: [ours.hash, theirs.hash],
      },
      `merge ${source}`,
    )
    return commit === RACE_LOST ? RACE_LOST : result('merge', commit.hash, summary, [], commit)
  }

  /**
   * Combines their changes since the base with ours: taken as is where only they changed a key, asked of the table
   * merger where both changed a table, a conflict otherwise (and where the result would break the lake's integrity).
   */
  async #combine(
    ours: Commit,
    theirDiff: readonly TreeDiffEntry[],
    base: Commit | undefined,
  ): Promise<Combination> {
    const ourDiff = new Map((await this.#states.diff(base ?? EMPTY_STATE, ours)).map((d) => [d.key, d]))
    const changes: ChangeMap = new Map()
    const conflicts: MergeConflict[] = []
    const combined: string[] = []
    for (const t of theirDiff) {
      const o = ourDiff.get(t.key)
      const e = parseEntryKey(t.key)
      const name = e.kind === 'table' ? e.key : e.name
      if (!o) {
        changes.set(t.key, t.after ?? null)
      } else if (sameEntryValue(o.after, t.after)) {
        // both sides made the same change
      } else if (e.kind === 'table' && o.after !== undefined && t.after !== undefined && this.#merger) {
        const outcome = await this.#merger({
          key: e.key,
          base: t.before === undefined ? undefined : asTableState(t.before),
          ours: asTableState(o.after),
          theirs: asTableState(t.after),
        })
        if (outcome.kind === 'merged') {
          changes.set(t.key, tableValue(outcome.state))
          combined.push(e.key)
        } else {
          conflicts.push({ kind: 'table', name, reason: outcome.reason })
        }
      } else {
        conflicts.push({ kind: e.kind, name, reason: describeConflict(o, t) })
      }
    }
    if (conflicts.length === 0) {
      try {
        await checkIntegrity(this.#states, ours, changes)
      } catch (err) {
        if (!(err instanceof TarnError)) throw err
        if (err.code === 'TABLE_EXISTS') {
          conflicts.push({ kind: 'table', name: String(err.context.table ?? ''), reason: err.message })
        } else {
          conflicts.push({
            kind: 'namespace',
            name: String(err.context.namespace ?? ''),
            reason: err.message,
          })
        }
      }
    }
    return { changes, conflicts, combined }
  }
}

function describeConflict(ours: TreeDiffEntry, theirs: TreeDiffEntry): string {
  const verb = (d: TreeDiffEntry): string =>
    d.before === undefined ? 'created' : d.after === undefined ? 'dropped' : 'changed'
  return `target ${verb(ours)} it and source ${verb(theirs)} it`
}
