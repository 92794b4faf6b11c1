import { expect, test } from 'vitest'
import { RUNS_BOUND } from '../../spec/checker/bound.js'
import { explore } from '../../spec/checker/explore.js'
import { formatCounterexample } from '../../spec/checker/format-counterexample.js'
import { CORRECT } from '../../spec/model/variants.js'

test('the correct model keeps every invariant in every sequence of 7 operations in which 2 concurrent runs race appends, merges and reverts on main', () => {
  const r = explore(RUNS_BOUND, CORRECT)
  console.log(
    `[model-checker] ${r.states} states explored, ${r.violations} violations ` +
      `(RUNS_BOUND: depth ${RUNS_BOUND.depth}, ${r.transitions} transitions, ${(r.millis / 1000).toFixed(1)} s)`,
  )
  for (const c of r.counterexamples.values()) console.log(formatCounterexample(c))
  expect(r.stoppedEarly).toBe(false)
  expect(r.perDepth).toHaveLength(RUNS_BOUND.depth + 1)
  expect(r.counterexamples.size).toBe(0)
  expect(r.violations).toBe(0)
}, 180_000)
