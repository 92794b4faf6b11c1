import { ancestors, firstParentBack, makeCommit, mergeBase, resolveRef } from './history.js'
import { addedFiles, appendFile, onlyAppended, overwriteTable, sameTable, shortHash } from './table-value.js'
import { type Tables, threeWayMerge } from './three-way-merge.js'
import type {
  Branch,
  Commit,
  LakeState,
  Op,
  Outcome,
  Run,
  TableName,
  TableValue,
  WriteMode,
} from './types.js'
import { CORRECT, type Variant } from './variants.js'

/**
 * The result of applying an operation: the next state (the same object when the operation failed) and its outcome.
 *
 * @example
 * ```ts
 * const { state: next, outcome } = applyOp(state, { kind: 'tag', name: 'v1', from: 'main' })
 * ```
 */
export interface Step {
  readonly state: LakeState
  readonly outcome: Outcome
}

/**
 * The name of the branch every lake starts with.
 *
 * @example
 * ```ts
 * initialState(['t1']).branches.has(MAIN) // true
 * ```
 */
export const MAIN = 'main'

/**
 * The name of the run branch of run `id`.
 *
 * @example
 * ```ts
 * runBranchName('r0') // 'run/r0'
 * ```
 */
export function runBranchName(id: string): string {
  return `run/${id}`
}

/**
 * A new lake: `main` at a root commit holding every table, empty.
 *
 * @example
 * ```ts
 * const s = initialState(['t1', 't2', 't3'])
 * ```
 */
export function initialState(tables: readonly TableName[]): LakeState {
  const values: Record<TableName, TableValue> = {}
  for (const t of tables) values[t] = { gen: `${t}.0`, files: [] }
  const root = makeCommit([], values, new Map())
  return {
    commits: new Map([[root.id, root]]),
    branches: new Map([[MAIN, { head: root.id, sealed: false }]]),
    tags: new Map(),
    runs: [],
  }
}

const fail = (state: LakeState, code: string, tables?: readonly TableName[]): Step => ({
  state,
  outcome: tables ? { ok: false, code, tables } : { ok: false, code },
})

const done = (state: LakeState, kind: string, warning?: string): Step => ({
  state,
  outcome: warning ? { ok: true, kind, warning } : { ok: true, kind },
})

function withCommit(state: LakeState, commit: Commit): ReadonlyMap<string, Commit> {
  if (state.commits.has(commit.id)) return state.commits
  return new Map(state.commits).set(commit.id, commit)
}

function withBranch(state: LakeState, name: string, branch: Branch | undefined): ReadonlyMap<string, Branch> {
  const out = new Map(state.branches)
  if (branch === undefined) out.delete(name)
  else out.set(name, branch)
  return out
}

function headOf(state: LakeState, id: string): Commit {
  return state.commits.get(id) as Commit
}

/**
 * The runs of which the history of `commitId` shows a part: some of the run's commits are there, but the run has
 * not succeeded or not all of its commits are there.
 *
 * @example
 * ```ts
 * incompleteRuns(state, state.branches.get('run/r0')!.head) // [the running run r0]
 * ```
 */
export function incompleteRuns(state: LakeState, commitId: string): readonly Run[] {
  const seen = ancestors(state.commits, commitId)
  return state.runs.filter((r) => {
    const inside = r.commits.filter((c) => seen.has(c)).length
    return inside > 0 && (r.status !== 'succeeded' || inside < r.commits.length)
  })
}

/** Why a branch cannot be written, or undefined when it can. */
function unwritable(state: LakeState, name: string): string | undefined {
  const branch = state.branches.get(name)
  if (branch === undefined) return state.tags.has(name) ? 'NOT_A_BRANCH' : 'BRANCH_NOT_FOUND'
  return branch.sealed ? 'BRANCH_SEALED' : undefined
}

function writeValue(value: TableValue, mode: WriteMode, seed: string): TableValue {
  return mode === 'append'
    ? appendFile(value, `f${shortHash(seed).slice(0, 6)}`)
    : overwriteTable(`g${shortHash(seed).slice(0, 6)}`)
}

/** One commit on a branch that changes one table. */
function commitWrite(
  state: LakeState,
  branch: string,
  table: TableName,
  mode: WriteMode,
  run?: string,
): Step {
  const bad = unwritable(state, branch)
  if (bad) return fail(state, bad)
  const head = headOf(state, (state.branches.get(branch) as Branch).head)
  const current = head.tables[table]
  if (current === undefined) return fail(state, 'TABLE_NOT_FOUND')
  const value = writeValue(current, mode, `${head.id}/${branch}/${table}/${mode}/${run ?? ''}`)
  const commit = makeCommit([head.id], { ...head.tables, [table]: value }, state.commits, run ? { run } : {})
  return done(
    {
      ...state,
      commits: withCommit(state, commit),
      branches: withBranch(state, branch, { head: commit.id, sealed: false }),
    },
    'commit',
  )
}

/**
 * Merges commit `sourceId` into branch `into` (already checked writable): up to date, fast-forward, or a
 * three-way merge commit. `noFastForward` always makes a merge commit (how runs land on their target).
 */
function mergeCommits(
  state: LakeState,
  sourceId: string,
  into: string,
  variant: Variant,
  noFastForward = false,
): Step {
  const oursId = (state.branches.get(into) as Branch).head
  if (ancestors(state.commits, oursId).has(sourceId)) return done(state, 'up-to-date')
  if (!noFastForward && ancestors(state.commits, sourceId).has(oursId))
    return done(
      { ...state, branches: withBranch(state, into, { head: sourceId, sealed: false }) },
      'fast-forward',
    )
  const base: Tables = mergeBase(state.commits, oursId, sourceId)?.tables ?? {}
  const merged = threeWayMerge(
    base,
    headOf(state, oursId).tables,
    headOf(state, sourceId).tables,
    variant.mergeConflictCheck,
  )
  if (!merged.ok) return fail(state, 'MERGE_CONFLICT', merged.conflicts)
  const commit = makeCommit([oursId, sourceId], merged.tables, state.commits)
  return done(
    {
      ...state,
      commits: withCommit(state, commit),
      branches: withBranch(state, into, { head: commit.id, sealed: false }),
    },
    'merge',
  )
}

/** The value a revert gives one table, or undefined on conflict. */
function revertTable(
  head: TableValue | undefined,
  mine: TableValue | undefined,
  parent: TableValue | undefined,
) {
  if (sameTable(head, mine)) return { value: parent }
  if (sameTable(head, parent)) return { value: head }
  if (head !== undefined && mine !== undefined && onlyAppended(parent, mine) && head.gen === mine.gen) {
    const added = new Set(addedFiles(parent, mine))
    if ([...added].every((f) => head.files.includes(f))) {
      // Removing files is not an append: the result starts a new generation, so a later merge against a side that
      // appended since conflicts instead of bringing the removed files back.
      const files = head.files.filter((f) => !added.has(f))
      return { value: { gen: `r${shortHash(`${head.gen}-${[...added].join(',')}`).slice(0, 6)}`, files } }
    }
  }
  return undefined
}

function revert(state: LakeState, op: Extract<Op, { kind: 'revert' }>, variant: Variant): Step {
  const bad = unwritable(state, op.on)
  if (bad) return fail(state, bad)
  const target = firstParentBack(state, op.on, op.back)
  const parentId = target?.parents[0]
  if (target === undefined || parentId === undefined) return fail(state, 'COMMIT_NOT_FOUND')
  const parent = headOf(state, parentId)
  const names = [...new Set([...Object.keys(target.tables), ...Object.keys(parent.tables)])].sort()
  const touched = names.filter((t) => !sameTable(target.tables[t], parent.tables[t]))
  if (op.table !== undefined && !touched.includes(op.table)) return fail(state, 'TABLE_NOT_CHANGED')
  const undo = variant.wholeCommitRevert
    ? op.table
      ? [op.table]
      : touched
    : [op.table ?? (touched[0] as string)]
  const head = headOf(state, (state.branches.get(op.on) as Branch).head)
  const tables: Record<TableName, TableValue> = { ...head.tables }
  const conflicts: TableName[] = []
  for (const t of undo) {
    const r = revertTable(head.tables[t], target.tables[t], parent.tables[t])
    if (r === undefined) conflicts.push(t)
    else if (r.value === undefined) delete tables[t]
    else tables[t] = r.value
  }
  if (conflicts.length > 0) return fail(state, 'REVERT_CONFLICT', conflicts)
  if (undo.every((t) => sameTable(tables[t], head.tables[t]))) return fail(state, 'NOTHING_TO_COMMIT')
  const partial = op.table !== undefined && touched.length > 1
  const commit = makeCommit([head.id], tables, state.commits, partial ? { partial: true } : {})
  return done(
    {
      ...state,
      commits: withCommit(state, commit),
      branches: withBranch(state, op.on, { head: commit.id, sealed: false }),
    },
    'revert',
    partial ? `PARTIAL_REVERT: ${op.table} reverted alone; the result is a state no run produced` : undefined,
  )
}

function updateRun(state: LakeState, run: Run): readonly Run[] {
  return state.runs.map((r) => (r.id === run.id ? run : r))
}

function runFinish(state: LakeState, run: Run, success: boolean, variant: Variant): Step {
  const failRun = (code: string): Step => {
    const failed: LakeState = { ...state, runs: updateRun(state, { ...run, status: 'failed' }) }
    const branch = state.branches.get(run.branch)
    if (!variant.sealFailedRuns || !variant.runsOnBranch || branch === undefined) return done(failed, code)
    return done({ ...failed, branches: withBranch(state, run.branch, { ...branch, sealed: true }) }, code)
  }
  if (!success) return failRun('run-failed')
  if (run.commits.length < run.plan.length) return fail(state, 'RUN_NOT_DONE')
  const succeeded: LakeState = { ...state, runs: updateRun(state, { ...run, status: 'succeeded' }) }
  if (!variant.runsOnBranch) return done(succeeded, 'run-succeeded')
  const gone = unwritable(state, run.target)
  if (gone) return failRun(`run-failed: ${gone}`)
  const runHead = (state.branches.get(run.branch) as Branch).head
  const merged = mergeCommits(succeeded, runHead, run.target, variant, true)
  if (!merged.outcome.ok) return failRun(`run-failed: ${merged.outcome.code}`)
  return done({ ...merged.state, branches: withBranch(merged.state, run.branch, undefined) }, 'run-succeeded')
}

/**
 * Applies one operation to a state under a variant of the semantics (the correct one by default). Pure: the input
 * state is never modified; a failed operation returns it unchanged with `ok: false`.
 *
 * @example
 * ```ts
 * let s = initialState(['t1'])
 * s = applyOp(s, { kind: 'createBranch', name: 'dev', from: 'main' }).state
 * s = applyOp(s, { kind: 'write', branch: 'dev', table: 't1', mode: 'append' }).state
 * applyOp(s, { kind: 'merge', source: 'dev', into: 'main' }).outcome // { ok: true, kind: 'fast-forward' }
 * ```
 */
export function applyOp(state: LakeState, op: Op, variant: Variant = CORRECT): Step {
  switch (op.kind) {
    case 'createBranch': {
      const head = resolveRef(state, op.from)
      if (head === undefined) return fail(state, 'REF_NOT_FOUND')
      if (state.branches.has(op.name)) return fail(state, 'BRANCH_EXISTS')
      if (state.tags.has(op.name)) return fail(state, 'TAG_EXISTS')
      const sealed = variant.quarantineRunHistory && incompleteRuns(state, head).length > 0
      return done(
        { ...state, branches: withBranch(state, op.name, { head, sealed }) },
        sealed ? 'sealed-copy' : 'branch',
      )
    }
    case 'deleteBranch': {
      if (!state.branches.has(op.name)) return fail(state, 'BRANCH_NOT_FOUND')
      if (op.name === MAIN || state.runs.some((r) => r.branch === op.name))
        return fail(state, 'BRANCH_PROTECTED')
      return done({ ...state, branches: withBranch(state, op.name, undefined) }, 'deleted')
    }
    case 'tag': {
      const head = resolveRef(state, op.from)
      if (head === undefined) return fail(state, 'REF_NOT_FOUND')
      if (state.tags.has(op.name)) return fail(state, 'TAG_EXISTS')
      if (state.branches.has(op.name)) return fail(state, 'BRANCH_EXISTS')
      return done({ ...state, tags: new Map(state.tags).set(op.name, head) }, 'tag')
    }
    case 'write':
      return commitWrite(state, op.branch, op.table, op.mode)
    case 'merge': {
      const source = resolveRef(state, op.source)
      if (source === undefined) return fail(state, 'REF_NOT_FOUND')
      const bad = unwritable(state, op.into)
      if (bad) return fail(state, bad)
      if (state.branches.get(op.source)?.sealed) return fail(state, 'BRANCH_SEALED')
      if (variant.quarantineRunHistory) {
        const into = ancestors(state.commits, (state.branches.get(op.into) as Branch).head)
        const leaking = incompleteRuns(state, source).filter((r) => r.commits.some((c) => !into.has(c)))
        if (leaking.length > 0) return fail(state, 'RUN_INCOMPLETE')
      }
      return mergeCommits(state, source, op.into, variant)
    }
    case 'revert':
      return revert(state, op, variant)
    case 'startRun': {
      const bad = unwritable(state, op.target)
      if (bad) return fail(state, bad)
      if (state.runs.some((r) => r.branch === op.target && r.branch !== r.target))
        return fail(state, 'RUN_BRANCH')
      const id = `r${state.runs.length}`
      const branch = variant.runsOnBranch ? runBranchName(id) : op.target
      const run: Run = { id, branch, target: op.target, plan: op.plan, status: 'running', commits: [] }
      const head = (state.branches.get(op.target) as Branch).head
      const branches = variant.runsOnBranch
        ? withBranch(state, branch, { head, sealed: false })
        : state.branches
      return done({ ...state, branches, runs: [...state.runs, run] }, 'run-started')
    }
    case 'runWrite': {
      const run = state.runs.find((r) => r.id === op.run)
      if (run === undefined || run.status !== 'running') return fail(state, 'RUN_NOT_RUNNING')
      const step = run.plan[run.commits.length]
      if (step === undefined) return fail(state, 'RUN_DONE')
      const written = commitWrite(state, run.branch, step.table, step.mode, run.id)
      if (!written.outcome.ok) return written
      const head = (written.state.branches.get(run.branch) as Branch).head
      return done(
        { ...written.state, runs: updateRun(written.state, { ...run, commits: [...run.commits, head] }) },
        'commit',
      )
    }
    case 'runFinish': {
      const run = state.runs.find((r) => r.id === op.run)
      if (run === undefined || run.status !== 'running') return fail(state, 'RUN_NOT_RUNNING')
      return runFinish(state, run, op.success, variant)
    }
  }
}
