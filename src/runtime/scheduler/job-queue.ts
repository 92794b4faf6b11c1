import type { ContainerView, OperatorRef, PoolView, Priority, SchedulerView } from './policy.js'

/**
 * Resources and error of the previous (failed or suspended) container of a job, used to size its retry.
 */
export interface RetryStats {
  readonly oldCpu: number
  readonly oldRamGb: number
  readonly error: string | null
}

/**
 * A unit of queued work: some operators of one pipeline, maybe a retry.
 */
export interface Job {
  readonly priority: Priority
  readonly pipelineId: string
  readonly ops: readonly OperatorRef[]
  readonly retry: RetryStats | null
}

/**
 * Mutable per-step copy of a pool's free resources, as Eudoxia's schedulers keep while placing jobs.
 */
export interface PoolStats {
  availCpu: number
  availRamGb: number
  readonly totalCpu: number
  readonly totalRamGb: number
}

/**
 * Copies the free and total resources of every pool.
 */
export function poolStats(pools: readonly PoolView[]): PoolStats[] {
  return pools.map((p) => ({
    availCpu: p.availCpu,
    availRamGb: p.availRamGb,
    totalCpu: p.totalCpu,
    totalRamGb: p.totalRamGb,
  }))
}

/**
 * The pool with the most free RAM among those with a free CPU (first one on ties), or -1.
 */
export function poolWithMaxAvailRam(stats: readonly PoolStats[]): number {
  let id = -1
  let max = 0
  for (let i = 0; i < stats.length; i++) {
    const s = stats[i] as PoolStats
    if (s.availCpu > 0 && max < s.availRamGb) {
      id = i
      max = s.availRamGb
    }
  }
  return id
}

/**
 * The operators of a container that have not completed yet, as a job to requeue after a suspension.
 */
export function jobFromSuspended(view: SchedulerView, c: ContainerView): Job {
  const ops = c.ops.filter((r) => view.operator(r).state !== 'completed')
  const first = ops[0] ?? c.ops[0]
  return {
    priority: c.priority,
    pipelineId: first?.pipelineId ?? '',
    ops,
    retry: { oldCpu: c.cpu, oldRamGb: c.ramGb, error: null },
  }
}

/**
 * A stable key for an operator reference.
 */
export function opKey(r: OperatorRef): string {
  return `${r.pipelineId}#${r.index}`
}

/**
 * Collects the jobs of suspending containers and releases those whose container finished suspending.
 */
export function trackSuspensions(
  view: SchedulerView,
  previous: readonly (readonly [string, Job])[],
): { suspending: (readonly [string, Job])[]; released: Job[] } {
  if (previous.length === 0 && view.pools.every((p) => p.suspending.length === 0)) {
    return { suspending: [], released: [] }
  }
  const map = new Map<string, Job>(previous)
  for (const pool of view.pools) {
    for (const c of pool.suspending) map.set(c.id, jobFromSuspended(view, c))
  }
  const released: Job[] = []
  for (const pool of view.pools) {
    for (const id of pool.suspended) {
      const job = map.get(id)
      if (job !== undefined) {
        released.push(job)
        map.delete(id)
      }
    }
  }
  return { suspending: [...map.entries()], released }
}
