import { applyOp, initialState } from '../model/lake-model.js'
import type { Op, Outcome } from '../model/types.js'
import { CORRECT, type Variant } from '../model/variants.js'
import { type Bound, enabledOps } from './bound.js'
import type { Counterexample } from './explore.js'
import { violations } from './invariants.js'

/**
 * What a batch of random walks found.
 *
 * @example
 * ```ts
 * const { transitions, counterexamples } = randomWalks(FULL_BOUND, { walks: 100, length: 12, seed: 1 })
 * ```
 */
export interface WalkResult {
  readonly walks: number
  readonly transitions: number
  readonly counterexamples: ReadonlyMap<string, Counterexample>
  readonly millis: number
}

/**
 * How many walks, how long, and the seed of the (deterministic) generator.
 *
 * @example
 * ```ts
 * const options: WalkOptions = { walks: 20_000, length: 12, seed: 7 }
 * ```
 */
export interface WalkOptions {
  readonly walks: number
  readonly length: number
  readonly seed: number
}

/** A small deterministic generator (mulberry32), so every CI run walks the same sequences. */
function generator(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Random walks beyond the exhaustive bound: `walks` sequences of `length` operations (the bound's names and plans,
 * its depth ignored), each operation drawn uniformly from those enabled, every invariant checked at every step.
 * A complement to `explore`, not a proof: it reaches longer histories (two complete concurrent runs, merges of
 * merges) that the exhaustive bound cannot afford.
 *
 * @example
 * ```ts
 * randomWalks(FULL_BOUND, { walks: 20_000, length: 12, seed: 1 }).counterexamples.size // 0
 * ```
 */
export function randomWalks(bound: Bound, options: WalkOptions, variant: Variant = CORRECT): WalkResult {
  const started = Date.now()
  const next = generator(options.seed)
  const counterexamples = new Map<string, Counterexample>()
  let transitions = 0
  for (let w = 0; w < options.walks; w++) {
    let state = initialState(bound.tables)
    const steps: { op: Op; outcome: Outcome }[] = []
    for (let i = 0; i < options.length; i++) {
      const ops = enabledOps(state, bound)
      const op = ops[Math.floor(next() * ops.length)]
      if (op === undefined) break
      transitions++
      const step = applyOp(state, op, variant)
      steps.push({ op, outcome: step.outcome })
      for (const v of violations({ before: state, op, outcome: step.outcome, after: step.state }))
        if (!counterexamples.has(v.invariant))
          counterexamples.set(v.invariant, { invariant: v.invariant, detail: v.detail, steps: [...steps] })
      state = step.state
    }
  }
  return { walks: options.walks, transitions, counterexamples, millis: Date.now() - started }
}
