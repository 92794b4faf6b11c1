import { TarnError } from '../../util/errors.js'
import type { Job } from './job-queue.js'
import { poolStats, trackSuspensions } from './job-queue.js'
import type {
  Assignment,
  Decision,
  OperatorRef,
  Policy,
  PolicyConfig,
  Priority,
  SchedulerView,
} from './policy.js'

/**
 * State of the priority-pool policy: one FIFO per priority and the jobs of suspending containers.
 */
export interface PriorityPoolState {
  readonly queues: Readonly<Record<Priority, readonly Job[]>>
  readonly suspending: readonly (readonly [string, Job])[]
  readonly oomFailedToRun: number
}

/**
 * Eudoxia's `priority-pool` policy: two pools, pool 0 for queries and interactive pipelines, pool 1 for batch; a
 * tenth of the pool per new job, doubling on OOM (clamped to what is left), no preemption.
 */
export const priorityPoolPolicy: Policy<PriorityPoolState> = {
  name: 'priority-pool',
  description: 'pool 0 for query and interactive, pool 1 for batch; 10% of the pool per job',
  init(config: PolicyConfig): PriorityPoolState {
    if (config.numPools !== 2) {
      throw new TarnError('INVALID_ARGUMENT', 'the priority-pool scheduler needs exactly 2 pools', {
        num_pools: config.numPools,
      })
    }
    return { queues: { query: [], interactive: [], batch: [] }, suspending: [], oomFailedToRun: 0 }
  },
  decide(state: PriorityPoolState, view: SchedulerView): Decision<PriorityPoolState> {
    const queues: Record<Priority, Job[]> = {
      query: [...state.queues.query],
      interactive: [...state.queues.interactive],
      batch: [...state.queues.batch],
    }
    for (const p of view.arrivals) {
      const ops: OperatorRef[] = p.operators.map((o) => ({ pipelineId: p.id, index: o.index }))
      queues[p.priority].push({ priority: p.priority, pipelineId: p.id, ops, retry: null })
    }
    for (const r of view.results) {
      if (r.error === null) continue
      const ops = r.ops.filter((o) => view.operator(o).state !== 'completed')
      if (ops.length === 0) continue
      queues[r.priority].push({
        priority: r.priority,
        pipelineId: ops[0]!.pipelineId,
        ops,
        retry: { oldCpu: r.cpu, oldRamGb: r.ramGb, error: r.error },
      })
    }
    const { suspending, released } = trackSuspensions(view, state.suspending)
    for (const job of released) queues[job.priority].push(job)

    const stats = poolStats(view.pools)
    const byPool: Record<number, Priority[]> = { 0: ['query', 'interactive'], 1: ['batch'] }
    const assignments: Assignment[] = []
    let oomFailedToRun = state.oomFailedToRun
    for (let pool = 0; pool < stats.length; pool++) {
      const s = stats[pool]!
      for (const prio of byPool[pool] ?? []) {
        const queue = queues[prio]
        let taken = 0
        for (const job of queue) {
          if (s.availRamGb <= 0 || s.availCpu <= 0) break
          taken++
          const rs = job.retry
          let cpu: number
          let ramGb: number
          if (rs !== null && rs.error !== null) {
            cpu = 2 * rs.oldCpu
            ramGb = 2 * rs.oldRamGb
            if (cpu / s.totalCpu >= 0.5 || ramGb / s.totalRamGb >= 0.5) {
              oomFailedToRun++
              continue
            }
            if (cpu >= s.availCpu || ramGb >= s.availRamGb) {
              cpu = s.availCpu
              ramGb = s.availRamGb
            }
          } else if (rs !== null && rs.oldCpu <= s.availCpu && rs.oldRamGb <= s.availRamGb) {
            cpu = rs.oldCpu
            ramGb = rs.oldRamGb
            if (cpu === s.availCpu || ramGb === s.availRamGb) {
              cpu = s.availCpu
              ramGb = s.availRamGb
            }
          } else {
            cpu = Math.max(1, Math.trunc(s.totalCpu / 10))
            ramGb = Math.max(1, Math.trunc(s.totalRamGb / 10))
            if (cpu >= s.availCpu || ramGb >= s.availRamGb) {
              cpu = s.availCpu
              ramGb = s.availRamGb
            }
          }
          assignments.push({
            pool,
            cpu,
            ramGb,
            priority: job.priority,
            pipelineId: job.pipelineId,
            ops: job.ops,
          })
          s.availCpu -= cpu
          s.availRamGb -= ramGb
        }
        queues[prio] = queue.slice(taken)
      }
    }
    return { state: { queues, suspending, oomFailedToRun }, suspensions: [], assignments }
  },
}
