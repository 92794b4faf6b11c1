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
 * Namespaces and tables that differ between two refs.
 *
 * @example
 * ```ts
 * const d = await catalog.diff('dev', 'main'); d.tables.added.map((t) => t.table)
 * ```
 */
export interface LakeDiff {
  /** The ref compared against (the "before" side). */
  readonly from: { readonly ref: string; readonly hash: string }
  /** The ref described (the "after" side). */
  readonly to: { readonly ref: string; readonly hash: string }
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
 * What a revert did.
 *
 * @example
 * ```ts
 * const r = await catalog.revert('main~1', { on: 'main' }); if (r.warning) console.warn(r.warning)
 * ```
 */
export interface RevertResult {
  readonly commit: Commit
  readonly reverted: string
  readonly tables: readonly string[]
  readonly namespaces: readonly string[]
  /** Set when only part of a multi-table commit was reverted. */
  readonly warning?: string
}
