import { MAIN } from '../model/lake-model.js'
import { sameTable } from '../model/table-value.js'
import type { LakeState, Op, PlanStep, TableName, WriteMode } from '../model/types.js'

/**
 * The bound of an exploration: the names that exist, how many runs may start, and how many steps are taken.
 *
 * @example
 * ```ts
 * const small: Bound = { ...FULL_BOUND, depth: 4 }
 * ```
 */
export interface Bound {
  readonly tables: readonly TableName[]
  /** Branch names users may create besides `main`. */
  readonly branches: readonly string[]
  readonly tags: readonly string[]
  /** The plans a run may have (each a list of models, one table each). */
  readonly plans: readonly (readonly PlanStep[])[]
  /** How many runs may be started in one sequence (they may overlap). */
  readonly maxRuns: number
  /** The number of operations in a sequence. */
  readonly depth: number
  /** How users may write (runs write as their plans say); both modes when absent. */
  readonly userModes?: readonly WriteMode[]
  /** Whether users write, merge into and revert on run branches (default true). Merging from them is always tried. */
  readonly userOpsOnRunBranches?: boolean
}

/**
 * The broad bound checked in CI: 3 tables, 3 user branches (main + 2), 1 tag, up to 2 concurrent runs (run
 * branches come on top) with two 2-model plans, every sequence of 5 operations.
 *
 * @example
 * ```ts
 * explore(FULL_BOUND, CORRECT)
 * ```
 */
export const FULL_BOUND: Bound = {
  tables: ['t1', 't2', 't3'],
  branches: ['b1', 'b2'],
  tags: ['v1'],
  plans: [
    [
      { table: 't1', mode: 'overwrite' },
      { table: 't2', mode: 'overwrite' },
    ],
    [
      { table: 't2', mode: 'append' },
      { table: 't3', mode: 'append' },
    ],
  ],
  maxRuns: 2,
  depth: 5,
}

/**
 * The deeper bound checked in CI, aimed at concurrent runs: 2 tables, only `main` (plus run branches), up to 2
 * concurrent runs — a 2-model run (overwrite t1, append t2) and a 1-model run (append t2) — every sequence of 7
 * operations, so both runs can complete while users append to `main`, merge and revert there. To afford 7 steps,
 * users only append and leave run branches alone (FULL_BOUND covers overwrites and user operations on run branches).
 *
 * @example
 * ```ts
 * explore(RUNS_BOUND, CORRECT)
 * ```
 */
export const RUNS_BOUND: Bound = {
  tables: ['t1', 't2'],
  branches: [],
  tags: [],
  plans: [
    [
      { table: 't1', mode: 'overwrite' },
      { table: 't2', mode: 'append' },
    ],
    [{ table: 't2', mode: 'append' }],
  ],
  maxRuns: 2,
  depth: 7,
  userModes: ['append'],
  userOpsOnRunBranches: false,
}

const MODES: readonly WriteMode[] = ['append', 'overwrite']

/**
 * Every operation worth trying in a state within the bound, including ones the model must refuse (writes to
 * sealed branches, merges of run branches): refusals are transitions the invariants check too.
 *
 * @example
 * ```ts
 * enabledOps(initialState(FULL_BOUND.tables), FULL_BOUND).length
 * ```
 */
export function enabledOps(state: LakeState, bound: Bound): readonly Op[] {
  const ops: Op[] = []
  const branches = [...state.branches.keys()].sort()
  const refs = [...branches, ...[...state.tags.keys()].sort()]
  const runBranches = new Set(state.runs.map((r) => r.branch))
  if (state.runs.length < bound.maxRuns)
    for (const target of [MAIN, ...bound.branches])
      if (state.branches.has(target) && !runBranches.has(target))
        for (const plan of bound.plans) ops.push({ kind: 'startRun', target, plan })
  for (const run of state.runs)
    if (run.status === 'running') {
      if (run.commits.length < run.plan.length) ops.push({ kind: 'runWrite', run: run.id })
      else ops.push({ kind: 'runFinish', run: run.id, success: true })
      ops.push({ kind: 'runFinish', run: run.id, success: false })
    }
  for (const name of bound.branches) {
    if (state.branches.has(name)) ops.push({ kind: 'deleteBranch', name })
    else for (const from of refs) ops.push({ kind: 'createBranch', name, from })
  }
  for (const name of bound.tags)
    if (!state.tags.has(name)) for (const from of branches) ops.push({ kind: 'tag', name, from })
  const targets =
    bound.userOpsOnRunBranches === false ? branches.filter((b) => !runBranches.has(b)) : branches
  for (const branch of targets)
    for (const table of bound.tables)
      for (const mode of bound.userModes ?? MODES) ops.push({ kind: 'write', branch, table, mode })
  for (const into of targets)
    for (const source of refs) if (source !== into) ops.push({ kind: 'merge', source, into })
  for (const on of targets) {
    let commit = state.commits.get(state.branches.get(on)?.head ?? '')
    for (let back = 0; commit !== undefined && commit.parents.length > 0; back++) {
      ops.push({ kind: 'revert', on, back })
      const parent = state.commits.get(commit.parents[0] as string)
      const tables = commit.tables
      const touched = bound.tables.filter((t) => !sameTable(tables[t], parent?.tables[t]))
      if (touched.length > 1) for (const table of touched) ops.push({ kind: 'revert', on, back, table })
      commit = parent
    }
  }
  return ops
}
