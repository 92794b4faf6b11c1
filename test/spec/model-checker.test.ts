import { expect, test } from 'vitest'
import { FULL_BOUND } from '../../spec/checker/bound.js'
import { explore } from '../../spec/checker/explore.js'
import { formatCounterexample } from '../../spec/checker/format-counterexample.js'
import { CORRECT } from '../../spec/model/variants.js'

test('the correct model keeps every invariant in every sequence of 5 operations over 3 tables, 3 branches, a tag and 2 concurrent runs', () => {
  const r = explore(FULL_BOUND, CORRECT)
  console.log(
    `[model-checker] ${r.states} states explored, ${r.violations} violations ` +
      `(FULL_BOUND: depth ${FULL_BOUND.depth}, ${r.transitions} transitions, ${(r.millis / 1000).toFixed(1)} s)`,
  )
  for (const c of r.counterexamples.values()) console.log(formatCounterexample(c))
  expect(r.stoppedEarly).toBe(false)
  expect(r.perDepth).toHaveLength(FULL_BOUND.depth + 1)
  expect(r.counterexamples.size).toBe(0)
  expect(r.violations).toBe(0)
}, 180_000)
