import { formatOp, formatOutcome } from '../model/format-op.js'
import type { Counterexample } from './explore.js'

/**
 * A counterexample as numbered lines: each operation with its outcome, then the violation.
 *
 * @example
 * ```ts
 * console.log(formatCounterexample(result.counterexamples.get('merge-keeps-both-sides')!))
 * ```
 */
export function formatCounterexample(c: Counterexample): string {
  const steps = c.steps.map((s, i) => `${i + 1}. ${formatOp(s.op)} → ${formatOutcome(s.outcome)}`)
  return [...steps, `✗ ${c.invariant}: ${c.detail}`].join('\n')
}
