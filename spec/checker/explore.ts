import { applyOp, initialState } from '../model/lake-model.js'
import type { LakeState, Op, Outcome } from '../model/types.js'
import { CORRECT, type Variant } from '../model/variants.js'
import { type Bound, enabledOps } from './bound.js'
import { violations } from './invariants.js'
import { stateKey } from './state-key.js'

/**
 * A counterexample: the shortest operation sequence (breadth-first) whose last step violates `invariant`.
 *
 * @example
 * ```ts
 * result.counterexamples.get('merge-keeps-both-sides')?.steps.map((s) => s.op)
 * ```
 */
export interface Counterexample {
  readonly invariant: string
  readonly detail: string
  readonly steps: readonly { readonly op: Op; readonly outcome: Outcome }[]
}

/**
 * What an exploration found and how much it looked at.
 *
 * @example
 * ```ts
 * const { states, transitions, counterexamples } = explore(FULL_BOUND)
 * ```
 */
export interface ExploreResult {
  /** Distinct states reached (the initial state included). */
  readonly states: number
  /** Operations applied (refused ones included). */
  readonly transitions: number
  /** States reached at each depth (index 0: the initial state). */
  readonly perDepth: readonly number[]
  /** The first (shortest) counterexample of each violated invariant. */
  readonly counterexamples: ReadonlyMap<string, Counterexample>
  /** The number of violating transitions found (0 for the correct model). */
  readonly violations: number
  readonly millis: number
  /** True when the exploration stopped early (stopAt found, or the state limit reached). */
  readonly stoppedEarly: boolean
}

/**
 * Options of an exploration.
 *
 * @example
 * ```ts
 * explore(FULL_BOUND, BAD_VARIANTS[0].variant, { stopAt: 'merge-keeps-both-sides' })
 * ```
 */
export interface ExploreOptions {
  /** Stop as soon as a counterexample of this invariant is found. */
  readonly stopAt?: string
  /** Stop after this many distinct states. */
  readonly maxStates?: number
}

/**
 * Breadth-first exploration of every operation sequence up to `bound.depth`, deduplicating states by their
 * canonical key, checking every invariant on every transition. Breadth-first means each counterexample is a
 * shortest one.
 *
 * @example
 * ```ts
 * const r = explore(FULL_BOUND)
 * console.log(`${r.states} states explored, ${r.violations} violations`)
 * ```
 */
export function explore(
  bound: Bound,
  variant: Variant = CORRECT,
  options: ExploreOptions = {},
): ExploreResult {
  const started = Date.now()
  const seen = new Set<string>()
  const parent: number[] = []
  const via: { op: Op; outcome: Outcome }[] = []
  const counterexamples = new Map<string, Counterexample>()
  let violationCount = 0
  let transitions = 0
  let stoppedEarly = false

  const path = (index: number): { op: Op; outcome: Outcome }[] => {
    const steps: { op: Op; outcome: Outcome }[] = []
    for (let i = index; i > 0; i = parent[i] as number) steps.push(via[i] as { op: Op; outcome: Outcome })
    return steps.reverse()
  }

  const root = initialState(bound.tables)
  seen.add(stateKey(root))
  parent.push(-1)
  via.push({ op: { kind: 'tag', name: '', from: '' }, outcome: { ok: true, kind: 'initial' } })
  let frontier: { state: LakeState; index: number }[] = [{ state: root, index: 0 }]
  const perDepth = [1]

  search: for (let depth = 0; depth < bound.depth; depth++) {
    const next: { state: LakeState; index: number }[] = []
    // States first reached at the last level are counted but never expanded, so they are not kept.
    const last = depth === bound.depth - 1
    let reached = 0
    for (const { state, index } of frontier) {
      for (const op of enabledOps(state, bound)) {
        transitions++
        const step = applyOp(state, op, variant)
        const changed = step.state !== state
        const key = changed ? stateKey(step.state) : ''
        const fresh = changed && !seen.has(key)
        const found = violations({ before: state, op, outcome: step.outcome, after: step.state }, !fresh)
        if (found.length > 0) {
          violationCount++
          for (const v of found)
            if (!counterexamples.has(v.invariant))
              counterexamples.set(v.invariant, {
                invariant: v.invariant,
                detail: v.detail,
                steps: [...path(index), { op, outcome: step.outcome }],
              })
          if (options.stopAt !== undefined && counterexamples.has(options.stopAt)) {
            stoppedEarly = true
            break search
          }
        }
        if (!fresh) continue
        seen.add(key)
        reached++
        if (!last) {
          parent.push(index)
          via.push({ op, outcome: step.outcome })
          next.push({ state: step.state, index: parent.length - 1 })
        }
        if (options.maxStates !== undefined && seen.size >= options.maxStates) {
          stoppedEarly = true
          break search
        }
      }
    }
    perDepth.push(reached)
    frontier = next
  }
  return {
    states: seen.size,
    transitions,
    perDepth,
    counterexamples,
    violations: violationCount,
    millis: Date.now() - started,
    stoppedEarly,
  }
}
