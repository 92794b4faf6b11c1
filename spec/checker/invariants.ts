import { firstParentBack, makeCommit } from '../model/history.js'
import { addedFiles, onlyAppended, sameTable, tableKey } from '../model/table-value.js'
import type { Commit, LakeState, Op, Outcome, TableValue } from '../model/types.js'

/**
 * One step of an exploration: the state before, the operation, what it returned, and the state after.
 *
 * @example
 * ```ts
 * const t: Transition = { before: s, op, ...applyOp(s, op) } // with `after` from the step's state
 * ```
 */
export interface Transition {
  readonly before: LakeState
  readonly op: Op
  readonly outcome: Outcome
  readonly after: LakeState
}

/**
 * A named property of every transition (and so of every reachable state). `check` returns a description of the
 * violation, or undefined when the property holds.
 *
 * @example
 * ```ts
 * const v = INVARIANTS.map((i) => i.check(t)).filter(Boolean)
 * ```
 */
export interface Invariant {
  readonly name: string
  readonly statement: string
  readonly check: (t: Transition) => string | undefined
  /** Also checked when the operation was refused (and the state did not change). */
  readonly onRefusal?: true
  /** Depends on the state after the transition only, so it needs checking only the first time a state is reached. */
  readonly stateOnly?: true
}

// The checker's own view of history: a plain walk over parents, independent of the model's helpers.
const reach = new WeakMap<Commit, ReadonlySet<string>>()
function history(commits: ReadonlyMap<string, Commit>, id: string): ReadonlySet<string> {
  const top = commits.get(id)
  if (top === undefined) return new Set()
  const known = reach.get(top)
  if (known) return known
  const out = new Set<string>()
  const stack = [id]
  while (stack.length > 0) {
    const c = stack.pop() as string
    if (out.has(c)) continue
    out.add(c)
    stack.push(...(commits.get(c)?.parents ?? []))
  }
  reach.set(top, out)
  return out
}

function head(state: LakeState, branch: string): string | undefined {
  return state.branches.get(branch)?.head
}

function commitText(c: Commit): string {
  const tables = Object.keys(c.tables)
    .sort()
    .map((t) => `${t}=${tableKey(c.tables[t])}`)
  return `${c.parents.join(',')}|${tables.join(';')}|${c.run ?? ''}|${c.partial ?? ''}`
}

const commitsNeverChange: Invariant = {
  name: 'commits-never-change',
  statement:
    'A commit, once made, keeps its id, parents and tables for ever, its id is the hash of its content, and every ref points to an existing commit.',
  check: ({ before, after }) => {
    if (after.commits === before.commits) return undefined
    for (const [id, c] of before.commits) {
      const now = after.commits.get(id)
      if (now === undefined) return `commit ${id} disappeared`
      if (now !== c && commitText(now) !== commitText(c)) return `commit ${id} changed`
    }
    for (const [id, c] of after.commits) {
      if (before.commits.has(id)) continue
      const again = makeCommit(c.parents, c.tables, after.commits, {
        ...(c.run ? { run: c.run } : {}),
        ...(c.partial ? { partial: true as const } : {}),
      })
      if (again.id !== id) return `commit ${id} is not addressed by its content`
    }
    for (const [name, b] of after.branches)
      if (!after.commits.has(b.head)) return `branch ${name} points nowhere`
    for (const [name, id] of after.tags) if (!after.commits.has(id)) return `tag ${name} points nowhere`
    return undefined
  },
}

const historyIsAcyclic: Invariant = {
  name: 'history-is-acyclic',
  statement:
    'Following parents from any commit never comes back to it: every parent exists and is strictly older (lower generation) than its child.',
  check: ({ before, after }) => {
    // Commits of `before` are unchanged (commits-never-change) and were checked when made, so every edge of the
    // graph decreases the generation and no cycle can exist. Only the new commits need their edges checked.
    for (const [id, c] of after.commits) {
      if (before.commits.has(id)) continue
      for (const p of c.parents) {
        const parent = after.commits.get(p)
        if (parent === undefined) return `parent ${p} of ${id} is missing`
        if (parent.generation >= c.generation) return `parent ${p} is not older than ${id}`
      }
    }
    return undefined
  },
}

/** The branches an operation may change (create, move, seal or delete); every other ref must stay as it was. */
function ownBranches(t: Transition): ReadonlySet<string> {
  const { op, before, after } = t
  const runOf = (id: string) => before.runs.find((r) => r.id === id) ?? after.runs.find((r) => r.id === id)
  switch (op.kind) {
    case 'createBranch':
    case 'deleteBranch':
      return new Set([op.name])
    case 'tag':
      return new Set()
    case 'write':
      return new Set([op.branch])
    case 'merge':
      return new Set([op.into])
    case 'revert':
      return new Set([op.on])
    case 'startRun': {
      const run = after.runs[after.runs.length - 1]
      return new Set(run && !before.runs.includes(run) ? [run.branch] : [])
    }
    case 'runWrite':
      return new Set([runOf(op.run)?.branch ?? ''])
    case 'runFinish': {
      const run = runOf(op.run)
      return new Set(run ? (op.success ? [run.branch, run.target] : [run.branch]) : [])
    }
  }
}

const writesAreIsolated: Invariant = {
  name: 'writes-are-isolated',
  statement:
    'An operation changes only its own branch: a write on one branch is invisible on every other branch until merged, and tags never move.',
  check: (t) => {
    const own = ownBranches(t)
    for (const name of new Set([...t.before.branches.keys(), ...t.after.branches.keys()])) {
      if (own.has(name)) continue
      const b = t.before.branches.get(name)
      const a = t.after.branches.get(name)
      if (b?.head !== a?.head || b?.sealed !== a?.sealed) return `branch ${name} changed`
    }
    for (const [name, id] of t.before.tags) if (t.after.tags.get(name) !== id) return `tag ${name} moved`
    return undefined
  },
}

/** The merge base by brute force: the common ancestors no other common ancestor descends from, best generation. */
function baseOf(commits: ReadonlyMap<string, Commit>, a: string, b: string): Commit | undefined {
  const hb = history(commits, b)
  const common = [...history(commits, a)].filter((c) => hb.has(c))
  const best = common.filter((c) => !common.some((o) => o !== c && history(commits, o).has(c)))
  return best
    .map((c) => commits.get(c) as Commit)
    .sort((x, y) => y.generation - x.generation || (x.id < y.id ? -1 : 1))[0]
}

/** What a merge of `source` into `into` must preserve, or a violation. */
function checkMerge(t: Transition, oursId: string, theirsId: string, resultId: string): string | undefined {
  const commits = t.after.commits
  const ours = commits.get(oursId) as Commit
  const theirs = commits.get(theirsId) as Commit
  const result = commits.get(resultId) as Commit
  const base = baseOf(commits, oursId, theirsId)?.tables ?? {}
  const names = new Set([...Object.keys(base), ...Object.keys(ours.tables), ...Object.keys(theirs.tables)])
  for (const table of names) {
    const r: TableValue | undefined = result.tables[table]
    const files = r?.files ?? []
    if (new Set(files).size !== files.length) return `${table} holds a data file twice`
    for (const [side, v] of [
      ['ours', ours.tables[table]],
      ['theirs', theirs.tables[table]],
    ] as const) {
      if (sameTable(v, base[table])) continue
      if (v !== undefined && v.gen !== base[table]?.gen && r?.gen !== v.gen)
        return `${table}: the overwrite made on ${side} is lost`
      const lost = addedFiles(base[table], v).filter((f) => !files.includes(f))
      if (lost.length > 0) return `${table}: file ${lost.join(',')} appended on ${side} is lost`
    }
    const known = new Set([...(ours.tables[table]?.files ?? []), ...(theirs.tables[table]?.files ?? [])])
    if (files.some((f) => !known.has(f))) return `${table} holds a file neither side had`
  }
  return undefined
}

const mergeKeepsBothSides: Invariant = {
  name: 'merge-keeps-both-sides',
  statement:
    'A merge (a user merge or a run landing on its target) never silently drops a change: every file appended and every overwrite made on either side since the merge base is in the result, each file once.',
  check: (t) => {
    if (!t.outcome.ok) return undefined
    if (t.op.kind === 'merge') {
      const into = t.op.into
      const theirs = t.before.branches.get(t.op.source)?.head ?? t.before.tags.get(t.op.source)
      const ours = head(t.before, into)
      const result = head(t.after, into)
      if (theirs === undefined || ours === undefined || result === undefined)
        return 'merge of a missing ref succeeded'
      return checkMerge(t, ours, theirs, result)
    }
    if (t.op.kind === 'runFinish' && t.outcome.kind === 'run-succeeded') {
      const id = t.op.run
      const run = t.before.runs.find((r) => r.id === id)
      if (run === undefined || run.branch === run.target) return undefined
      const ours = head(t.before, run.target)
      const theirs = head(t.before, run.branch)
      const result = head(t.after, run.target)
      if (theirs === undefined || ours === undefined || result === undefined)
        return 'run landed on a missing branch'
      return checkMerge(t, ours, theirs, result)
    }
    return undefined
  },
}

const conflictsAreReal: Invariant = {
  name: 'conflicts-are-real',
  onRefusal: true,
  statement:
    'A merge fails with MERGE_CONFLICT only naming tables both sides changed differently, not both by appends only.',
  check: (t) => {
    if (t.op.kind !== 'merge' || t.outcome.ok || t.outcome.code !== 'MERGE_CONFLICT') return undefined
    const commits = t.before.commits
    const ours = commits.get(head(t.before, t.op.into) ?? '') as Commit
    const theirsId = t.before.branches.get(t.op.source)?.head ?? t.before.tags.get(t.op.source) ?? ''
    const theirs = commits.get(theirsId) as Commit
    const base = baseOf(commits, ours.id, theirsId)?.tables ?? {}
    for (const table of t.outcome.tables ?? []) {
      const [b, o, s] = [base[table], ours.tables[table], theirs.tables[table]]
      if (sameTable(o, b) || sameTable(s, b) || sameTable(o, s))
        return `${table} conflicts but one side kept it`
      if (onlyAppended(b, o) && onlyAppended(b, s)) return `${table} conflicts but both sides only appended`
    }
    return t.outcome.tables?.length ? undefined : 'a conflict names no table'
  },
}

const runsAreAtomicOnTargets: Invariant = {
  name: 'runs-are-atomic-on-targets',
  stateOnly: true,
  statement:
    'No state of a branch other than a run branch or a sealed debugging copy ever shows part of a run: it shows none of its commits, or the run succeeded and it shows all of them.',
  check: ({ after }) => {
    const runBranches = new Set(after.runs.filter((r) => r.branch !== r.target).map((r) => r.branch))
    for (const [name, branch] of after.branches) {
      if (branch.sealed || runBranches.has(name)) continue
      const seen = history(after.commits, branch.head)
      for (const run of after.runs) {
        const inside = run.commits.filter((c) => seen.has(c)).length
        if (inside === 0) continue
        if (run.status !== 'succeeded')
          return `${name} shows ${inside} commit(s) of ${run.status} run ${run.id}`
        if (inside < run.commits.length)
          return `${name} shows ${inside} of the ${run.commits.length} commits of run ${run.id}`
      }
    }
    return undefined
  },
}

const failedRunBranchesAreSealed: Invariant = {
  name: 'failed-run-branches-are-sealed',
  statement:
    "A failed run's branch is kept exactly as the run left it: no one can write to it, merge into it or merge it anywhere.",
  check: ({ before, op, outcome, after }) => {
    for (const run of after.runs) {
      if (run.status !== 'failed' || run.branch === run.target) continue
      const was = before.branches.get(run.branch)
      const now = after.branches.get(run.branch)
      if (now === undefined) return `the branch of failed run ${run.id} is gone`
      if (was !== undefined && was.head !== now.head) return `the branch of failed run ${run.id} was written`
      const failedBefore = before.runs.find((r) => r.id === run.id)?.status === 'failed'
      if (failedBefore && op.kind === 'merge' && op.source === run.branch && outcome.ok)
        return `the branch of failed run ${run.id} was merged into ${op.into}`
    }
    return undefined
  },
}

const revertRestoresEveryTable: Invariant = {
  name: 'revert-restores-every-table',
  statement:
    'Reverting a commit undoes it in every table it touched (and touches nothing else); reverting one table of a multi-table commit happens only when asked for with --table, with a warning, and is marked in the commit.',
  check: ({ before, op, outcome, after }) => {
    if (op.kind !== 'revert' || !outcome.ok) return undefined
    const target = firstParentBack(before, op.on, op.back)
    const parent = before.commits.get(target?.parents[0] ?? '')
    const old = before.commits.get(head(before, op.on) ?? '')
    const now = after.commits.get(head(after, op.on) ?? '')
    if (!target || !parent || !old || !now) return 'revert of a missing commit succeeded'
    const names = [...new Set([...Object.keys(target.tables), ...Object.keys(parent.tables)])]
    const touched = names.filter((t) => !sameTable(target.tables[t], parent.tables[t]))
    const undone = op.table === undefined ? touched : [op.table]
    for (const table of new Set([...names, ...Object.keys(old.tables)])) {
      const v = now.tables[table]
      if (!undone.includes(table)) {
        if (!sameTable(v, old.tables[table])) return `${table} was not in the revert but changed`
        continue
      }
      if (sameTable(v, parent.tables[table])) continue
      const added = addedFiles(parent.tables[table], target.tables[table])
      const appendOnly = onlyAppended(parent.tables[table], target.tables[table])
      const kept = (old.tables[table]?.files ?? []).filter((f) => !added.includes(f))
      if (
        appendOnly &&
        v !== undefined &&
        v.gen !== old.tables[table]?.gen &&
        tableKey(v) === tableKey({ gen: v.gen, files: kept })
      )
        continue
      return `${table} was touched by ${op.on}~${op.back} but is not restored`
    }
    if (op.table !== undefined && touched.length > 1) {
      if (!outcome.warning) return 'a partial revert of a multi-table commit gave no warning'
      if (outcome.kind === 'revert' && !now.partial) return 'a partial revert commit is not marked partial'
    }
    return undefined
  },
}

/**
 * Every invariant the checker verifies, in the order they are reported.
 *
 * @example
 * ```ts
 * INVARIANTS.map((i) => i.name)
 * ```
 */
export const INVARIANTS: readonly Invariant[] = [
  commitsNeverChange,
  historyIsAcyclic,
  writesAreIsolated,
  mergeKeepsBothSides,
  conflictsAreReal,
  runsAreAtomicOnTargets,
  failedRunBranchesAreSealed,
  revertRestoresEveryTable,
]

/**
 * The invariants a transition violates, each with its description. `seenState: true` says the state after it was
 * reached (and checked) before, so invariants of the state alone are skipped.
 *
 * @example
 * ```ts
 * violations(t) // [] when every invariant holds
 * ```
 */
export function violations(
  t: Transition,
  seenState = false,
): readonly { readonly invariant: string; readonly detail: string }[] {
  const out: { invariant: string; detail: string }[] = []
  const refused = t.after === t.before
  for (const inv of INVARIANTS) {
    if (refused && !inv.onRefusal) continue
    if (seenState && inv.stateOnly) continue
    const detail = inv.check(t)
    if (detail !== undefined) out.push({ invariant: inv.name, detail })
  }
  return out
}
