import { expect, test } from 'vitest'
import { FULL_BOUND } from '../../spec/checker/bound.js'
import { formatCounterexample } from '../../spec/checker/format-counterexample.js'
import { randomWalks } from '../../spec/checker/random-walks.js'
import { BAD_VARIANTS } from '../../spec/model/variants.js'

const WALKS = { walks: 10_000, length: 12, seed: 20261124 }

test('10 000 seeded random walks of 12 operations beyond the exhaustive bound keep every invariant', () => {
  const r = randomWalks(FULL_BOUND, WALKS)
  console.log(
    `[model-checker] random walks: ${r.walks} × ${WALKS.length} steps, ${r.transitions} transitions, ` +
      `${r.counterexamples.size} violations (${(r.millis / 1000).toFixed(1)} s)`,
  )
  for (const c of r.counterexamples.values()) console.log(formatCounterexample(c))
  expect(r.counterexamples.size).toBe(0)
}, 120_000)

test('random walks also find every bad variant, so they are not blind', () => {
  for (const bad of BAD_VARIANTS) {
    let walks = 0
    let found = false
    for (let batch = 0; batch < 20 && !found; batch++) {
      const r = randomWalks(FULL_BOUND, { ...WALKS, walks: 250, seed: WALKS.seed + batch }, bad.variant)
      walks += r.walks
      found = r.counterexamples.has(bad.breaks)
    }
    console.log(`[model-checker] random walks find ${bad.name} within ${walks} walks`)
    expect(found, bad.name).toBe(true)
  }
}, 120_000)
