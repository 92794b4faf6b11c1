import { describe, expect, test } from 'vitest'
import { type Transition, violations } from '../../spec/checker/invariants.js'
import { makeCommit } from '../../spec/model/history.js'
import { applyOp, initialState } from '../../spec/model/lake-model.js'
import type { Commit, LakeState, Op } from '../../spec/model/types.js'

// Invariants no bad variant breaks are checked here against hand-made broken transitions: each must fire.

const start = initialState(['t1', 't2'])
const write: Op = { kind: 'write', branch: 'main', table: 't1', mode: 'append' }

function broken(after: LakeState, op: Op = write, before: LakeState = start): Transition {
  return { before, op, outcome: { ok: true, kind: 'commit' }, after }
}

function names(t: Transition): readonly string[] {
  return violations(t).map((v) => v.invariant)
}

describe('each invariant fires on a transition that breaks it', () => {
  test('a correct transition violates nothing', () => {
    const step = applyOp(start, write)
    expect(names({ before: start, op: write, ...step, after: step.state })).toEqual([])
  })

  test('commits-never-change fires when a commit is rewritten in place', () => {
    const [id, root] = [...start.commits][0] as [string, Commit]
    const commits = new Map([[id, { ...root, tables: {} }]])
    expect(names(broken({ ...start, commits }))).toContain('commits-never-change')
  })

  test('history-is-acyclic fires when a new commit is not younger than its parent', () => {
    const head = start.branches.get('main')?.head as string
    const child = { ...makeCommit([head], {}, start.commits), generation: 0 }
    const after: LakeState = {
      ...start,
      commits: new Map(start.commits).set(child.id, child),
      branches: new Map([['main', { head: child.id, sealed: false }]]),
    }
    expect(names(broken(after))).toContain('history-is-acyclic')
  })

  test('writes-are-isolated fires when a write on one branch moves another', () => {
    const dev = applyOp(start, { kind: 'createBranch', name: 'dev', from: 'main' }).state
    const onDev: Op = { kind: 'write', branch: 'dev', table: 't1', mode: 'append' }
    const step = applyOp(dev, onDev)
    const head = step.state.branches.get('dev')?.head as string
    const after: LakeState = {
      ...step.state,
      branches: new Map(step.state.branches).set('main', { head, sealed: false }),
    }
    expect(names(broken(after, onDev, dev))).toContain('writes-are-isolated')
  })

  test('conflicts-are-real fires when a merge reports a conflict on a table only one side changed', () => {
    const dev = applyOp(start, { kind: 'createBranch', name: 'dev', from: 'main' }).state
    const changed = applyOp(dev, { kind: 'write', branch: 'dev', table: 't1', mode: 'overwrite' }).state
    const op: Op = { kind: 'merge', source: 'dev', into: 'main' }
    const t: Transition = {
      before: changed,
      op,
      outcome: { ok: false, code: 'MERGE_CONFLICT', tables: ['t1'] },
      after: changed,
    }
    expect(names(t)).toEqual(['conflicts-are-real'])
  })
})
