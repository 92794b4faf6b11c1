import type { PhysicalPlan } from '../physical-plan.js'
import type { JobRecord, NodeRecord } from './job-record.js'

/**
 * Callbacks a run reports its progress to (all optional): the plan once it is known, every node state change, every
 * log line, progress lines of slow work inside a node that its state does not show (building a Python model's
 * environment on first use), and the finished job. A promise returned by `node` is awaited before the node goes on, so an observer can
 * pace a run (e.g. step through it, or hold it before a write); if it rejects, the node fails with that error and the
 * run fails like any other (target untouched, run branch sealed).
 *
 * @example
 * ```ts
 * const observer: RunObserver = { node: (n) => console.error(`${n.id} ${n.status}`) }
 * ```
 */
export interface RunObserver {
  planned?(plan: PhysicalPlan, job: JobRecord): void
  node?(node: NodeRecord): void | Promise<void>
  log?(line: string): void
  progress?(line: string): void
  finished?(job: JobRecord): void
}
