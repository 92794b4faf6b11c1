import type { Job, RetryStats } from './job-queue.js'
import { opKey, poolStats } from './job-queue.js'
import { assignableOps } from './naive.js'
import type {
  Assignment,
  CpuScaling,
  Decision,
  OperatorEstimate,
  PipelineView,
  Policy,
  PolicyConfig,
  Priority,
  SchedulerView,
} from './policy.js'

/**
 * State of the right-size policy: one FIFO per priority of ready operators.
 */
export interface RightSizeState {
  readonly queues: Readonly<Record<Priority, readonly Job[]>>
}

const USEFUL_CPUS: Record<CpuScaling, number> = {
  const: 1,
  log: 4,
  sqrt: 4,
  linear3: 3,
  linear7: 7,
  squared: 8,
  exp: 4,
}

/**
 * The number of CPUs past which an operator stops getting meaningfully faster.
 */
export function usefulCpus(e: OperatorEstimate): number {
  return USEFUL_CPUS[e.cpuScaling]
}

function readyJobs(
  p: PipelineView,
  queued: ReadonlySet<string>,
  retry: ReadonlyMap<string, RetryStats>,
): Job[] {
  return assignableOps(p, false, true)
    .filter((r) => !queued.has(opKey(r)))
    .map((r) => ({ priority: p.priority, pipelineId: p.id, ops: [r], retry: retry.get(opKey(r)) ?? null }))
}

/**
 * tarn's `right-size` policy: one container per ready operator, sized from the operator's known memory need (so it
 * never runs out of memory) and with the CPUs its scaling function can use; strict priority order with backfilling
 * (a job that fits nowhere waits without blocking smaller ones); placement on the pool with the most free RAM.
 */
export const rightSizePolicy: Policy<RightSizeState> = {
  name: 'right-size',
  description:
    'per-operator containers sized from the known memory need and useful CPUs; priority with backfill',
  init: (_config: PolicyConfig): RightSizeState => ({ queues: { query: [], interactive: [], batch: [] } }),
  decide(state: RightSizeState, view: SchedulerView): Decision<RightSizeState> {
    const queues: Record<Priority, Job[]> = {
      query: [...state.queues.query],
      interactive: [...state.queues.interactive],
      batch: [...state.queues.batch],
    }
    if (view.arrivals.length > 0 || view.results.length > 0) {
      const queued = new Set<string>()
      for (const q of Object.values(queues)) for (const j of q) for (const op of j.ops) queued.add(opKey(op))
      const retry = new Map<string, RetryStats>()
      const touched = new Map<string, PipelineView>()
      for (const p of view.arrivals) touched.set(p.id, p)
      for (const r of view.results) {
        for (const op of r.ops) {
          touched.set(op.pipelineId, view.pipeline(op.pipelineId))
          if (r.error !== null) retry.set(opKey(op), { oldCpu: r.cpu, oldRamGb: r.ramGb, error: r.error })
        }
      }
      for (const p of touched.values())
        for (const j of readyJobs(p, queued, retry)) queues[j.priority].push(j)
    }
    const stats = poolStats(view.pools)
    const assignments: Assignment[] = []
    for (const prio of ['query', 'interactive', 'batch'] as const) {
      const waiting: Job[] = []
      for (const job of queues[prio]) {
        const est = job.ops.map((r) => view.operator(r).estimate)
        let ram = Math.ceil(Math.max(1, ...est.map((e) => e.memoryGb)))
        if (job.retry !== null && job.retry.error === 'OOM') ram = Math.max(ram, 2 * job.retry.oldRamGb)
        const wantCpu = Math.max(1, ...est.map(usefulCpus))
        let best = -1
        for (let i = 0; i < stats.length; i++) {
          const s = stats[i]!
          if (s.availCpu < 1 || s.availRamGb < ram) continue
          if (best === -1 || s.availRamGb > stats[best]!.availRamGb) best = i
        }
        if (best === -1) {
          waiting.push(job)
          continue
        }
        const s = stats[best]!
        const cpu = Math.min(wantCpu, s.availCpu)
        assignments.push({
          pool: best,
          cpu,
          ramGb: ram,
          priority: job.priority,
          pipelineId: job.pipelineId,
          ops: job.ops,
        })
        s.availCpu -= cpu
        s.availRamGb -= ram
      }
      queues[prio] = waiting
    }
    return { state: { queues }, suspensions: [], assignments }
  },
}
