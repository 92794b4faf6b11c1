import { describe, expect, test } from 'vitest'
import { FULL_BOUND } from '../../spec/checker/bound.js'
import { explore } from '../../spec/checker/explore.js'
import { formatCounterexample } from '../../spec/checker/format-counterexample.js'
import { violations } from '../../spec/checker/invariants.js'
import { applyOp, initialState } from '../../spec/model/lake-model.js'
import type { Op } from '../../spec/model/types.js'
import { BAD_VARIANTS, CORRECT, type Variant } from '../../spec/model/variants.js'

/** The invariants the last step of `ops` violates when replayed from scratch under `variant`. */
function replay(ops: readonly Op[], variant: Variant): readonly string[] {
  let state = initialState(FULL_BOUND.tables)
  let found: readonly string[] = []
  for (const op of ops) {
    const step = applyOp(state, op, variant)
    found = violations({ before: state, op, outcome: step.outcome, after: step.state }).map(
      (v) => v.invariant,
    )
    state = step.state
  }
  return found
}

/** The length of the shortest counterexample of each variant (breadth-first search finds a shortest one). */
const SHORTEST: Readonly<Record<string, number>> = {
  'merge-without-conflict-check': 4,
  'runs-write-on-target': 2,
  'unsealed-failed-run-branch': 3,
  'per-table-revert-of-run': 5,
  'fork-of-run-branch-unguarded': 3,
}

describe('the model checker finds a counterexample in every known-bad variant', () => {
  for (const bad of BAD_VARIANTS)
    test(`${bad.name}: ${bad.description} — breaks ${bad.breaks}`, () => {
      const r = explore(FULL_BOUND, bad.variant, { stopAt: bad.breaks })
      const c = r.counterexamples.get(bad.breaks)
      expect(c, `no counterexample for ${bad.name}: the checker is broken`).toBeDefined()
      if (c === undefined) return
      console.log(`[model-checker] ${bad.name} (${r.states} states explored):\n${formatCounterexample(c)}`)
      expect(c.steps).toHaveLength(SHORTEST[bad.name] as number)
      const ops = c.steps.map((s) => s.op)
      expect(replay(ops, bad.variant)).toContain(bad.breaks)
      expect(replay(ops, CORRECT)).toEqual([])
    }, 120_000)
})

test('without quarantine, a fork of a failed run can be merged into main (the git_for_data stage 4 leak); the correct model refuses it', () => {
  const ops: readonly Op[] = [
    {
      kind: 'startRun',
      target: 'main',
      plan: [
        { table: 't1', mode: 'overwrite' },
        { table: 't2', mode: 'overwrite' },
      ],
    },
    { kind: 'runWrite', run: 'r0' },
    { kind: 'runFinish', run: 'r0', success: false },
    { kind: 'createBranch', name: 'b1', from: 'run/r0' },
    { kind: 'merge', source: 'b1', into: 'main' },
  ]
  const leaky = BAD_VARIANTS.find((b) => b.name === 'fork-of-run-branch-unguarded')?.variant as Variant
  expect(replay(ops, leaky)).toContain('runs-are-atomic-on-targets')
  expect(replay(ops, CORRECT)).toEqual([])
  let state = initialState(FULL_BOUND.tables)
  for (const op of ops) state = applyOp(state, op).state
  expect(state.branches.get('main')?.head).toBe(initialState(FULL_BOUND.tables).branches.get('main')?.head)
})
