import type { Commit, NamespaceState, RefInfo, TableState } from './types.js'

/**
 * A ref expression resolved to a commit.
 *
 * @example
 * ```ts
 * const { commit, branch } = await catalog.resolve('main') // branch === 'main'
 * ```
 */
export interface ResolvedRef {
  /** The expression as written. */
  readonly ref: string
  readonly commit: Commit
  /** The named ref the expression started from, if any. */
  readonly named?: RefInfo
  /** The branch name when the expression is exactly a branch name (the only writable form). */
  readonly branch?: string
}

/**
 * How a diff compares two refs: `three-dot` lists the changes made on the described ref since its merge base with the
 * other one (what a merge would bring in, as lakeFS and Nessie show it); `two-way` compares the two states as they are.
 *
 * @example
 * ```ts
 * const mode: DiffMode = 'three-dot'
 * ```
 */
export type DiffMode = 'three-dot' | 'two-way'

/**
 * Namespaces and tables that differ between two refs. Each entry's `from`/`removed` state is the state at `before`:
 * the merge base in three-dot mode, the other ref in two-way mode.
 *
 * @example
 * ```ts
 * const d = await catalog.diff('dev', 'main', { mode: 'three-dot' }); d.tables.added.map((t) => t.table)
 * ```
 */
export interface LakeDiff {
  readonly mode: DiffMode
  /** The ref compared against. */
  readonly from: { readonly ref: string; readonly hash: string }
  /** The ref described (the "after" side). */
  readonly to: { readonly ref: string; readonly hash: string }
  /** The commit the changes are measured from: the merge base (three-dot; null without one) or `from` (two-way). */
  readonly before: string | null
  readonly tables: {
    readonly added: readonly { readonly table: string; readonly state: TableState }[]
    readonly removed: readonly { readonly table: string; readonly state: TableState }[]
    readonly changed: readonly {
      readonly table: string
      readonly from: TableState
      readonly to: TableState
    }[]
  }
  readonly namespaces: {
    readonly added: readonly { readonly namespace: string; readonly state: NamespaceState }[]
    readonly removed: readonly { readonly namespace: string; readonly state: NamespaceState }[]
    readonly changed: readonly {
      readonly namespace: string
      readonly from: NamespaceState
      readonly to: NamespaceState
    }[]
  }
}

/**
 * One conflicting table or namespace of a merge.
 *
 * @example
 * ```ts
 * const plan = await catalog.merge('dev', { into: 'main', dryRun: true }); plan.conflicts.map((c) => c.name)
 * ```
 */
export interface MergeConflict {
  readonly kind: 'table' | 'namespace'
  /** `namespace.table` or the namespace name. */
  readonly name: string
  readonly reason: string
}

/**
 * What a merge did, or (with `dryRun`) would do.
 *
 * @example
 * ```ts
 * const r = await catalog.merge('dev', { into: 'main' }); if (r.kind === 'merge') console.log(r.commit?.hash)
 * ```
 */
export interface MergeResult {
  readonly kind: 'fast-forward' | 'merge' | 'up-to-date' | 'conflict'
  readonly dryRun: boolean
  readonly source: { readonly ref: string; readonly hash: string }
  readonly target: { readonly branch: string; readonly before: string; readonly after: string }
  /** The merge base, or null when the histories share no commit. */
  readonly base: string | null
  /** The merge commit (kind `merge` without dry run). */
  readonly commit?: Commit
  /** Tables and namespaces the merge brings into the target. */
  readonly changes: {
    readonly tables: readonly string[]
    readonly namespaces: readonly string[]
    /** Tables both sides changed that the table merger combined. */
    readonly combined: readonly string[]
  }
  /** Non-empty only for kind `conflict` (a dry run; a real merge throws `MERGE_CONFLICT`). */
  readonly conflicts: readonly MergeConflict[]
}

/**
 * How a revert undoes one table or namespace: `restore` puts back the state before the commit (`drop` when the commit
 * created it), `remove-appended-files` removes exactly the files an append-only commit added while keeping later
 * appends, `already-undone` needs nothing.
 *
 * @example
 * ```ts
 * const step: RevertStep = { kind: 'table', name: 'tarn.orders', action: 'remove-appended-files', removedFiles: 1, removedRecords: 10 }
 * ```
 */
export interface RevertStep {
  readonly kind: 'table' | 'namespace'
  readonly name: string
  readonly action: 'restore' | 'drop' | 'remove-appended-files' | 'already-undone'
  /** With `remove-appended-files`: the data files and records removed. */
  readonly removedFiles?: number
  readonly removedRecords?: number
}

/**
 * What a revert would do, computed without writing anything (`tarn revert --dry-run`).
 *
 * @example
 * ```ts
 * const plan = await catalog.planRevert('main~1', { on: 'main' }); plan.steps.map((s) => s.action)
 * ```
 */
export interface RevertPlan {
  readonly reverted: string
  readonly branch: string
  /** The branch head the plan was computed on. */
  readonly head: string
  readonly tables: readonly string[]
  readonly namespaces: readonly string[]
  readonly steps: readonly RevertStep[]
  readonly warning?: string
}

/**
 * What a revert did.
 *
 * @example
 * ```ts
 * const r = await catalog.revert('main~1', { on: 'main' }); if (r.warning) console.warn(r.warning)
 * ```
 */
export interface RevertResult {
  readonly commit: Commit
  /** What was done to each table and namespace the reverted commit changed. */
  readonly steps: readonly RevertStep[]
  readonly reverted: string
  readonly tables: readonly string[]
  readonly namespaces: readonly string[]
  /** Set when only part of a multi-table commit was reverted. */
  readonly warning?: string
}
