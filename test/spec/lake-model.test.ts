import { describe, expect, test } from 'vitest'
import { applyOp, initialState } from '../../spec/model/lake-model.js'
import type { LakeState, Op, Outcome } from '../../spec/model/types.js'

/** Applies operations in order, returning the last state and every outcome. */
function play(ops: readonly Op[], state: LakeState = initialState(['t1', 't2'])) {
  const outcomes: Outcome[] = []
  let s = state
  for (const op of ops) {
    const step = applyOp(s, op)
    outcomes.push(step.outcome)
    s = step.state
  }
  return { state: s, outcomes }
}

function tableOn(state: LakeState, branch: string, table: string) {
  const head = state.branches.get(branch)?.head ?? ''
  return state.commits.get(head)?.tables[table]
}

const dev: Op = { kind: 'createBranch', name: 'dev', from: 'main' }
const append = (branch: string, table = 't1'): Op => ({ kind: 'write', branch, table, mode: 'append' })
const overwrite = (branch: string, table = 't1'): Op => ({ kind: 'write', branch, table, mode: 'overwrite' })
const twoModels = [
  { table: 't1', mode: 'overwrite' as const },
  { table: 't2', mode: 'overwrite' as const },
]

describe('the reference model', () => {
  test('a merge fast-forwards when the target has not moved', () => {
    const { outcomes } = play([dev, append('dev'), { kind: 'merge', source: 'dev', into: 'main' }])
    expect(outcomes[2]).toEqual({ ok: true, kind: 'fast-forward' })
  })

  test('a merge combines the files both sides appended to one table, each once', () => {
    const { state, outcomes } = play([
      dev,
      append('dev'),
      append('main'),
      { kind: 'merge', source: 'dev', into: 'main' },
    ])
    expect(outcomes[3]).toEqual({ ok: true, kind: 'merge' })
    const merged = tableOn(state, 'main', 't1')
    const ours = tableOn(state, 'dev', 't1')
    expect(merged?.files).toHaveLength(2)
    expect(merged?.files).toEqual(expect.arrayContaining([...(ours?.files ?? [])]))
  })

  test('a merge fails with MERGE_CONFLICT naming the table when one side overwrote it and the other appended', () => {
    const { outcomes } = play([
      dev,
      overwrite('dev'),
      append('main'),
      { kind: 'merge', source: 'dev', into: 'main' },
    ])
    expect(outcomes[3]).toEqual({ ok: false, code: 'MERGE_CONFLICT', tables: ['t1'] })
  })

  test('a merge takes the side that changed each table', () => {
    const { state, outcomes } = play([
      dev,
      overwrite('dev', 't1'),
      overwrite('main', 't2'),
      { kind: 'merge', source: 'dev', into: 'main' },
    ])
    expect(outcomes[3]).toEqual({ ok: true, kind: 'merge' })
    expect(tableOn(state, 'main', 't1')).toEqual(tableOn(state, 'dev', 't1'))
    expect(tableOn(state, 'main', 't2')?.gen).not.toBe('t2.0')
  })

  test('a successful run lands on its target as one merge commit', () => {
    const { state, outcomes } = play([
      { kind: 'startRun', target: 'main', plan: twoModels },
      { kind: 'runWrite', run: 'r0' },
      { kind: 'runWrite', run: 'r0' },
      { kind: 'runFinish', run: 'r0', success: true },
    ])
    expect(outcomes[3]).toEqual({ ok: true, kind: 'run-succeeded' })
    const head = state.commits.get(state.branches.get('main')?.head ?? '')
    expect(head?.parents).toHaveLength(2)
    expect(state.branches.has('run/r0')).toBe(false)
  })

  test('a failed run leaves the target untouched and its branch sealed: no write, no merge', () => {
    const { state, outcomes } = play([
      { kind: 'startRun', target: 'main', plan: twoModels },
      { kind: 'runWrite', run: 'r0' },
      { kind: 'runFinish', run: 'r0', success: false },
      append('run/r0'),
      { kind: 'merge', source: 'run/r0', into: 'main' },
      { kind: 'merge', source: 'main', into: 'run/r0' },
    ])
    expect(state.branches.get('main')?.head).toBe(initialState(['t1', 't2']).branches.get('main')?.head)
    expect(state.branches.get('run/r0')?.sealed).toBe(true)
    expect(outcomes.slice(3).map((o) => (o.ok ? o.kind : o.code))).toEqual([
      'BRANCH_SEALED',
      'BRANCH_SEALED',
      'BRANCH_SEALED',
    ])
  })

  test('a run whose landing conflicts fails and is sealed', () => {
    const { state, outcomes } = play([
      { kind: 'startRun', target: 'main', plan: twoModels },
      { kind: 'runWrite', run: 'r0' },
      { kind: 'runWrite', run: 'r0' },
      overwrite('main'),
      { kind: 'runFinish', run: 'r0', success: true },
    ])
    expect(outcomes[4]).toEqual({ ok: true, kind: 'run-failed: MERGE_CONFLICT' })
    expect(state.runs[0]?.status).toBe('failed')
    expect(state.branches.get('run/r0')?.sealed).toBe(true)
  })

  test('two concurrent runs appending to the same table both land, with both files', () => {
    const plan = [{ table: 't2', mode: 'append' as const }]
    const { state, outcomes } = play([
      { kind: 'startRun', target: 'main', plan },
      { kind: 'startRun', target: 'main', plan },
      { kind: 'runWrite', run: 'r0' },
      { kind: 'runWrite', run: 'r1' },
      { kind: 'runFinish', run: 'r0', success: true },
      { kind: 'runFinish', run: 'r1', success: true },
    ])
    expect(outcomes.slice(4)).toEqual([
      { ok: true, kind: 'run-succeeded' },
      { ok: true, kind: 'run-succeeded' },
    ])
    expect(tableOn(state, 'main', 't2')?.files).toHaveLength(2)
  })

  test('of two concurrent runs overwriting the same table, the second to land fails and is sealed', () => {
    const { state, outcomes } = play([
      { kind: 'startRun', target: 'main', plan: twoModels },
      { kind: 'startRun', target: 'main', plan: twoModels },
      { kind: 'runWrite', run: 'r0' },
      { kind: 'runWrite', run: 'r0' },
      { kind: 'runWrite', run: 'r1' },
      { kind: 'runWrite', run: 'r1' },
      { kind: 'runFinish', run: 'r1', success: true },
      { kind: 'runFinish', run: 'r0', success: true },
    ])
    expect(outcomes.slice(6)).toEqual([
      { ok: true, kind: 'run-succeeded' },
      { ok: true, kind: 'run-failed: MERGE_CONFLICT' },
    ])
    expect(state.branches.get('run/r0')?.sealed).toBe(true)
    expect(state.runs.map((r) => r.status)).toEqual(['failed', 'succeeded'])
  })

  test('forking a failed run and merging the fork is refused (the git_for_data stage 4 leak)', () => {
    const { state, outcomes } = play([
      { kind: 'startRun', target: 'main', plan: twoModels },
      { kind: 'runWrite', run: 'r0' },
      { kind: 'runFinish', run: 'r0', success: false },
      { kind: 'createBranch', name: 'feature', from: 'run/r0' },
      { kind: 'tag', name: 'debug', from: 'run/r0' },
      { kind: 'merge', source: 'feature', into: 'main' },
      { kind: 'merge', source: 'debug', into: 'main' },
    ])
    expect(outcomes[3]).toEqual({ ok: true, kind: 'sealed-copy' })
    expect(outcomes[5]).toEqual({ ok: false, code: 'BRANCH_SEALED' })
    expect(outcomes[6]).toEqual({ ok: false, code: 'RUN_INCOMPLETE' })
    expect(state.branches.get('feature')?.sealed).toBe(true)
  })

  test('reverting a run commit restores every table the run wrote', () => {
    const { state, outcomes } = play([
      { kind: 'startRun', target: 'main', plan: twoModels },
      { kind: 'runWrite', run: 'r0' },
      { kind: 'runWrite', run: 'r0' },
      { kind: 'runFinish', run: 'r0', success: true },
      { kind: 'revert', on: 'main', back: 0 },
    ])
    expect(outcomes[4]).toEqual({ ok: true, kind: 'revert' })
    expect(tableOn(state, 'main', 't1')).toEqual({ gen: 't1.0', files: [] })
    expect(tableOn(state, 'main', 't2')).toEqual({ gen: 't2.0', files: [] })
  })

  test('reverting one table of a run commit warns and marks the commit partial', () => {
    const { state, outcomes } = play([
      { kind: 'startRun', target: 'main', plan: twoModels },
      { kind: 'runWrite', run: 'r0' },
      { kind: 'runWrite', run: 'r0' },
      { kind: 'runFinish', run: 'r0', success: true },
      { kind: 'revert', on: 'main', back: 0, table: 't1' },
    ])
    const outcome = outcomes[4]
    expect(outcome?.ok && outcome.warning).toMatch(/PARTIAL_REVERT/)
    expect(state.commits.get(state.branches.get('main')?.head ?? '')?.partial).toBe(true)
    expect(tableOn(state, 'main', 't1')).toEqual({ gen: 't1.0', files: [] })
    expect(tableOn(state, 'main', 't2')?.gen).not.toBe('t2.0')
  })

  test('reverting an append removes exactly its files, keeping later appends', () => {
    const { state, outcomes } = play([
      append('main'),
      append('main'),
      { kind: 'revert', on: 'main', back: 1 },
    ])
    expect(outcomes[2]).toEqual({ ok: true, kind: 'revert' })
    const afterTwo = play([append('main'), append('main')]).state
    const second = tableOn(afterTwo, 'main', 't1')?.files.filter(
      (f) => !(tableOn(play([append('main')]).state, 'main', 't1')?.files ?? []).includes(f),
    )
    expect(tableOn(state, 'main', 't1')?.files).toEqual(second)
  })

  test('operations never modify the state they are given', () => {
    const start = initialState(['t1', 't2'])
    const snapshot = JSON.stringify([...start.branches, ...start.commits])
    play([dev, append('dev'), { kind: 'merge', source: 'dev', into: 'main' }], start)
    expect(JSON.stringify([...start.branches, ...start.commits])).toBe(snapshot)
  })
})
