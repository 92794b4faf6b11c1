import type {
  ContainerView,
  OperatorEstimate,
  OperatorRef,
  OperatorState,
  OperatorView,
  PipelineView,
  PoolView,
  Priority,
} from '../runtime/scheduler/policy.js'
import { peakMemory } from './operator-timing.js'
import { DISK_SCAN_GB_SEC } from './scaling.js'
import type { OperatorSpec } from './workload.js'

/** An operator of a simulated pipeline, with its scheduling state. */
export class Op implements OperatorView {
  state: OperatorState = 'pending'
  constructor(
    readonly index: number,
    readonly name: string,
    readonly parents: readonly number[],
    readonly estimate: OperatorEstimate,
    readonly spec: OperatorSpec,
  ) {}
}

/** A simulated pipeline: its operators, arrival, deadline and progress. */
export class Pipe implements PipelineView {
  completed = 0
  outstanding = true
  recorded = false
  constructor(
    readonly id: string,
    readonly priority: Priority,
    readonly arrivalTick: number,
    readonly operators: Op[],
    readonly deadline: number,
  ) {}
}

/** How one operator runs in its container (ticks of IO, total ticks, the tick it runs out of memory at). */
export interface Plan {
  readonly op: Op
  readonly pipe: Pipe
  readonly ioTicks: number
  readonly total: number
  /** Offset (from the op's first tick) of the tick it runs out of memory at, or -1. */
  readonly oomAt: number
}

/** Where a container is within its current operator. */
export type Phase = 'start' | 'end' | 'oom'

/** A container running operators in a pool. */
export class Container implements ContainerView {
  canSuspend = false
  cur = 0
  curStart: number
  phase: Phase = 'start'
  nextTick: number
  done = false
  error: string | null = null
  elapsed = 0
  suspendEnd = Number.POSITIVE_INFINITY
  constructor(
    readonly id: string,
    readonly pool: number,
    readonly cpu: number,
    readonly ramGb: number,
    readonly priority: Priority,
    readonly ops: readonly OperatorRef[],
    readonly plans: readonly Plan[],
    readonly startTick: number,
    readonly deadline: number,
  ) {
    this.curStart = startTick
    this.nextTick = startTick
  }
}

/** A pool of CPUs and RAM with its running and suspending containers. */
export class Pool implements PoolView {
  availCpu: number
  availRamGb: number
  containers: Container[] = []
  suspending: Container[] = []
  suspended: string[] = []
  constructor(
    readonly id: number,
    readonly totalCpu: number,
    readonly totalRamGb: number,
  ) {
    this.availCpu = totalCpu
    this.availRamGb = totalRamGb
  }
}

/** The memory a container uses at tick `t` (tick length `tl` seconds). */
export function memoryAt(c: Container, t: number, tl: number): number {
  if (c.phase === 'start') {
    const prev = c.plans[c.cur - 1]
    return prev === undefined ? 0 : peakMemory(prev.op.spec)
  }
  const plan = c.plans[c.cur] as Plan
  const i = t - c.curStart
  if (i < plan.ioTicks) return plan.op.spec.memoryGb ?? (i + 1) * tl * DISK_SCAN_GB_SEC
  return peakMemory(plan.op.spec)
}
