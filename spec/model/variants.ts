/**
 * Switches that turn the correct model into a known-bad variant. The model checker must find a counterexample in
 * every bad variant — a checker that finds nothing there is broken.
 *
 * @example
 * ```ts
 * const broken: Variant = { ...CORRECT, mergeConflictCheck: false }
 * ```
 */
export interface Variant {
  /** Both sides changed a table (not only appends) → MERGE_CONFLICT. Off: our side silently wins. */
  readonly mergeConflictCheck: boolean
  /** A run writes on its own run branch. Off: it writes directly on the target branch. */
  readonly runsOnBranch: boolean
  /** A failed run's branch is sealed. Off: it stays an ordinary, writable, mergeable branch. */
  readonly sealFailedRuns: boolean
  /** `revert <commit>` undoes every table of the commit. Off: it undoes one table (a per-table revert). */
  readonly wholeCommitRevert: boolean
  /**
   * History that shows part of an unfinished or failed run is quarantined: branches forked from it are sealed and
   * merges from it are refused. Off: only the run branch itself is guarded (the fork-then-merge leak).
   */
  readonly quarantineRunHistory: boolean
}

/**
 * The semantics of PRODUCT.md.
 *
 * @example
 * ```ts
 * applyOp(state, op, CORRECT)
 * ```
 */
export const CORRECT: Variant = {
  mergeConflictCheck: true,
  runsOnBranch: true,
  sealFailedRuns: true,
  wholeCommitRevert: true,
  quarantineRunHistory: true,
}

/**
 * A known-bad variant and the invariant it must break.
 *
 * @example
 * ```ts
 * for (const bad of BAD_VARIANTS) console.log(bad.name, bad.breaks)
 * ```
 */
export interface BadVariant {
  readonly name: string
  readonly description: string
  readonly variant: Variant
  /** The name of the invariant the checker must find violated. */
  readonly breaks: string
}

/**
 * The known-bad variants of issue 7 (plus the fork-then-merge leak of BauplanLabs/git_for_data stage 4).
 *
 * @example
 * ```ts
 * BAD_VARIANTS.map((b) => b.name) // ['merge-without-conflict-check', ...]
 * ```
 */
export const BAD_VARIANTS: readonly BadVariant[] = [
  {
    name: 'merge-without-conflict-check',
    description: 'a three-way merge takes our side of a table both sides changed, without MERGE_CONFLICT',
    variant: { ...CORRECT, mergeConflictCheck: false },
    breaks: 'merge-keeps-both-sides',
  },
  {
    name: 'runs-write-on-target',
    description: 'a run writes its models directly on the target branch instead of a run branch',
    variant: { ...CORRECT, runsOnBranch: false },
    breaks: 'runs-are-atomic-on-targets',
  },
  {
    name: 'unsealed-failed-run-branch',
    description: "a failed run's branch is kept but not sealed",
    variant: { ...CORRECT, sealFailedRuns: false },
    breaks: 'failed-run-branches-are-sealed',
  },
  {
    name: 'per-table-revert-of-run',
    description:
      'revert of a commit undoes one of its tables, so reverting a multi-table run commit is partial',
    variant: { ...CORRECT, wholeCommitRevert: false },
    breaks: 'revert-restores-every-table',
  },
  {
    name: 'fork-of-run-branch-unguarded',
    description: 'only the run branch is guarded: a branch forked from it can be merged into the target',
    variant: { ...CORRECT, quarantineRunHistory: false },
    breaks: 'runs-are-atomic-on-targets',
  },
]
