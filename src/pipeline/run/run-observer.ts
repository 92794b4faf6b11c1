import type { PhysicalPlan } from '../physical-plan.js'
import type { JobRecord, NodeRecord } from './job-record.js'

/**
 * Callbacks a run reports its progress to (all optional): the plan once it is known, every node state change, every
 * log line, and the finished job.
 *
 * @example
 * ```ts
 * const observer: RunObserver = { node: (n) => console.error(`${n.id} ${n.status}`) }
 * ```
 */
export interface RunObserver {
  planned?(plan: PhysicalPlan, job: JobRecord): void
  node?(node: NodeRecord): void
  log?(line: string): void
  finished?(job: JobRecord): void
}
