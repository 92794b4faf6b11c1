import { naivePolicy } from './naive.js'
import type { Policy } from './policy.js'
import { erasePolicy } from './policy.js'
import { priorityPolicy } from './priority.js'
import { priorityPoolPolicy } from './priority-pool.js'
import { rightSizePolicy } from './right-size.js'

/**
 * The built-in policies by name: Eudoxia's `naive`, `priority` and `priority-pool`, and tarn's `right-size`.
 */
export const BUILTIN_POLICIES: ReadonlyMap<string, Policy> = new Map<string, Policy>([
  ['naive', erasePolicy(naivePolicy)],
  ['priority', erasePolicy(priorityPolicy)],
  ['priority-pool', erasePolicy(priorityPoolPolicy)],
  ['right-size', erasePolicy(rightSizePolicy)],
])

/**
 * Looks up a built-in policy by name, or undefined.
 */
export function builtinPolicy(name: string): Policy | undefined {
  return BUILTIN_POLICIES.get(name)
}
