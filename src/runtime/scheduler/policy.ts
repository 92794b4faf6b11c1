/**
 * The scheduler policy contract shared by the simulator (`src/sim`) and the real runtime.
 *
 * A policy is plain data in, plain data out: at each scheduling step it receives its own state and a read-only
 * snapshot of the cluster (pools, containers, pipelines, the results of the previous step, the pipelines that just
 * arrived) and returns its next state, the containers to suspend and the new assignments. It never mutates the
 * snapshot; the caller applies the decisions.
 *
 * Quiescence rule: when a policy is called with no new pipelines, no results and a snapshot equal to the previous
 * call's, right after a call that returned no decision, it must return no decision. The event-driven simulator relies
 * on it to skip the ticks where nothing happens; a policy that needs to act on the passing of time alone returns
 * `wakeAt`.
 */

/**
 * Pipeline priorities, most urgent first (the numeric value orders them).
 */
export type Priority = 'query' | 'interactive' | 'batch'

/**
 * Every priority, in descending urgency.
 */
export const PRIORITIES: readonly Priority[] = ['query', 'interactive', 'batch']

/**
 * The life cycle of an operator: `pending` → `assigned` → `running` → `completed` | `failed`; `assigned` →
 * `suspending` → `pending` when its container is preempted; `failed` → `assigned` on retry.
 */
export type OperatorState = 'pending' | 'assigned' | 'running' | 'suspending' | 'completed' | 'failed'

/**
 * True for the states from which an operator may be assigned (`pending`, `failed`).
 */
export function isAssignable(state: OperatorState): boolean {
  return state === 'pending' || state === 'failed'
}

/**
 * Names of the CPU scaling functions: how an operator's CPU time shrinks with more CPUs.
 */
export type CpuScaling = 'const' | 'log' | 'sqrt' | 'linear3' | 'linear7' | 'squared' | 'exp'

/**
 * What the scheduler knows about an operator's needs (an oracle estimate: the true values).
 */
export interface OperatorEstimate {
  /** Peak memory in GB (the fixed memory need, or the storage read size when memory grows with reads). */
  readonly memoryGb: number
  readonly storageReadGb: number
  readonly baselineCpuSeconds: number
  readonly cpuScaling: CpuScaling
}

/**
 * An operator as a policy sees it.
 */
export interface OperatorView {
  /** Index in the pipeline's topological operator order. */
  readonly index: number
  /** The operator id from the workload (e.g. `op3`). */
  readonly name: string
  readonly parents: readonly number[]
  readonly state: OperatorState
  readonly estimate: OperatorEstimate
}

/**
 * A pipeline as a policy sees it.
 */
export interface PipelineView {
  readonly id: string
  readonly priority: Priority
  readonly arrivalTick: number
  /** Operators in topological order. */
  readonly operators: readonly OperatorView[]
}

/**
 * A reference to one operator of one pipeline.
 */
export interface OperatorRef {
  readonly pipelineId: string
  readonly index: number
}

/**
 * A running (or suspending) container as a policy sees it.
 */
export interface ContainerView {
  readonly id: string
  readonly pool: number
  readonly cpu: number
  readonly ramGb: number
  readonly priority: Priority
  readonly ops: readonly OperatorRef[]
  /** True only right after an operator boundary: suspension is allowed between operators. */
  readonly canSuspend: boolean
}

/**
 * A pool of CPUs and RAM (one machine).
 */
export interface PoolView {
  readonly id: number
  readonly totalCpu: number
  readonly totalRamGb: number
  readonly availCpu: number
  readonly availRamGb: number
  /** Active containers in start order. */
  readonly containers: readonly ContainerView[]
  /** Containers writing their memory to disk after a suspension. */
  readonly suspending: readonly ContainerView[]
  /** Ids of every container that finished suspending, in order. */
  readonly suspended: readonly string[]
}

/**
 * What happened to a container that finished (successfully or not) in the previous step.
 */
export interface ExecutionResult {
  readonly containerId: string
  readonly pool: number
  readonly cpu: number
  readonly ramGb: number
  readonly priority: Priority
  readonly ops: readonly OperatorRef[]
  /** `null` on success, else the error (`OOM`, `TIMEOUT`, `DEPENDENCY`). */
  readonly error: string | null
}

/**
 * The read-only world a policy decides on.
 */
export interface SchedulerView {
  readonly tick: number
  readonly ticksPerSecond: number
  readonly pools: readonly PoolView[]
  /** Pipelines that arrived at this tick, in arrival order. */
  readonly arrivals: readonly PipelineView[]
  /** Containers that finished at the previous tick. */
  readonly results: readonly ExecutionResult[]
  /** Any known pipeline by id. */
  pipeline(id: string): PipelineView
  /** Shorthand for one operator. */
  operator(ref: OperatorRef): OperatorView
}

/**
 * A decision to start a container in a pool for some operators of one pipeline.
 */
export interface Assignment {
  readonly pool: number
  readonly cpu: number
  readonly ramGb: number
  readonly priority: Priority
  readonly pipelineId: string
  /** Operators to run in order inside the container. */
  readonly ops: readonly OperatorRef[]
}

/**
 * A decision to suspend a running container (allowed only when `canSuspend`).
 */
export interface Suspension {
  readonly pool: number
  readonly containerId: string
}

/**
 * What a policy returns from one step.
 */
export interface Decision<S> {
  readonly state: S
  readonly suspensions: readonly Suspension[]
  readonly assignments: readonly Assignment[]
  /**
   * Optional: call me again at this tick even if nothing else happens (for time-based policies such as aging). Each
   * call replaces the previous request.
   */
  readonly wakeAt?: number
}

/**
 * Configuration a policy is initialised with.
 */
export interface PolicyConfig {
  readonly numPools: number
  readonly multiOperatorContainers: boolean
  readonly ticksPerSecond: number
}

/**
 * A scheduler policy: `init` makes the initial state, `decide` maps (state, view) to a decision.
 */
export interface Policy<S = unknown> {
  readonly name: string
  readonly description?: string
  init(config: PolicyConfig): S
  decide(state: S, view: SchedulerView): Decision<S>
}

/**
 * Widens a typed policy to `Policy<unknown>` for registries.
 */
export function erasePolicy<S>(p: Policy<S>): Policy<unknown> {
  return p as unknown as Policy<unknown>
}
