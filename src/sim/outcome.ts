import type { Policy, Priority } from '../runtime/scheduler/policy.js'
import type { SimParams } from './params.js'
import type { Workload } from './workload.js'

/**
 * How the engine advances time: `event` jumps from event to event (the default, fast); `tick` visits every tick and
 * calls the policy at each one, as Eudoxia does (slow, for verification).
 */
export type EngineMode = 'event' | 'tick'

/**
 * One sample of cluster utilisation (taken every simulated second).
 */
export interface UtilisationSample {
  readonly seconds: number
  readonly cpuPercent: number
  readonly ramAllocatedPercent: number
  readonly ramConsumedPercent: number
}

/**
 * Raw outcome of an engine run, before statistics are derived.
 */
export interface RawOutcome {
  readonly arrivals: Record<Priority, number>
  readonly timeouts: Record<Priority, number>
  readonly latencyTicks: Record<Priority, number[]>
  readonly containerTicks: number[]
  readonly containersCompleted: number
  readonly assignments: number
  readonly suspensions: number
  readonly failures: number
  readonly failureErrorCounts: Record<string, number>
  readonly samples: UtilisationSample[]
  /** Every pipeline that completed, in completion order, with the tick its last operator ended at. */
  readonly completions: readonly { readonly pipelineId: string; readonly tick: number }[]
  /** Sum over finished containers of their CPUs times the ticks they ran (successful or not). */
  readonly busyCpuTicks: number
  /** Number of times the policy was called. */
  readonly policyCalls: number
  /** Number of ticks the engine visited. */
  readonly ticksVisited: number
}

/**
 * What to simulate.
 */
export interface SimulateOptions {
  readonly params: SimParams
  readonly workload: Workload
  readonly policy: Policy
  readonly mode?: EngineMode
}
