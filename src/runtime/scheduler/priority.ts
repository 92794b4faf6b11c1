import type { Job, RetryStats } from './job-queue.js'
import { opKey, poolStats, poolWithMaxAvailRam, trackSuspensions } from './job-queue.js'
import { assignableOps } from './naive.js'
import type {
  Assignment,
  ContainerView,
  Decision,
  PipelineView,
  Policy,
  PolicyConfig,
  Priority,
  SchedulerView,
  Suspension,
} from './policy.js'

/**
 * State of the priority policy: one FIFO per priority and the jobs of containers being suspended.
 */
export interface PriorityState {
  readonly multi: boolean
  readonly queues: Readonly<Record<Priority, readonly Job[]>>
  /** Jobs of suspending containers by container id, in insertion order. */
  readonly suspending: readonly (readonly [string, Job])[]
  /** Retries dropped because they would take half a pool or more. */
  readonly oomFailedToRun: number
}

/**
 * Sizes one job for a pool the way Eudoxia's `priority` does: a failed job doubles its previous container, a
 * suspended one gets its previous size back when it fits, a new one gets a tenth of the pool (or all that is left).
 * Returns null when the job is dropped.
 */
export function sizeJob(
  job: Job,
  s: { availCpu: number; availRamGb: number; totalCpu: number; totalRamGb: number },
): { cpu: number; ramGb: number; dropped: 'none' | 'nofit' | 'toobig' } {
  const rs: RetryStats | null = job.retry
  if (rs !== null && rs.error !== null) {
    const cpu = 2 * rs.oldCpu
    const ramGb = 2 * rs.oldRamGb
    if (cpu > s.availCpu || ramGb > s.availRamGb) return { cpu, ramGb, dropped: 'nofit' }
    if (cpu / s.totalCpu >= 0.5 || ramGb / s.totalRamGb >= 0.5) return { cpu, ramGb, dropped: 'toobig' }
    return { cpu, ramGb, dropped: 'none' }
  }
  if (rs !== null && rs.oldCpu < s.availCpu && rs.oldRamGb < s.availRamGb) {
    return { cpu: rs.oldCpu, ramGb: rs.oldRamGb, dropped: 'none' }
  }
  let cpu = Math.max(1, Math.trunc(s.totalCpu / 10))
  let ramGb = Math.max(1, Math.trunc(s.totalRamGb / 10))
  if (cpu >= s.availCpu || ramGb >= s.availRamGb) {
    cpu = s.availCpu
    ramGb = s.availRamGb
  }
  return { cpu, ramGb, dropped: 'none' }
}

/**
 * Turns arrivals and finished containers into new jobs, as Eudoxia's `priority` does: every pipeline that arrived or
 * had a container finish gets one job (or one per operator) for its assignable operators not already queued, with
 * retry stats when its previous container failed.
 */
export function newJobs(
  view: SchedulerView,
  queues: Readonly<Record<Priority, readonly Job[]>>,
  multi: boolean,
): Job[] {
  const touched = new Map<string, PipelineView>()
  for (const p of view.arrivals) touched.set(p.id, p)
  for (const r of view.results)
    for (const op of r.ops) touched.set(op.pipelineId, view.pipeline(op.pipelineId))
  const queued = new Map<string, Set<number>>()
  for (const q of [queues.query, queues.interactive, queues.batch]) {
    for (const j of q) {
      for (const op of j.ops) {
        if (!touched.has(op.pipelineId)) continue
        let s = queued.get(op.pipelineId)
        if (s === undefined) {
          s = new Set<number>()
          queued.set(op.pipelineId, s)
        }
        s.add(op.index)
      }
    }
  }
  const retry = new Map<string, RetryStats>()
  for (const r of view.results) {
    if (r.error === null) continue
    for (const op of r.ops) {
      if (view.operator(op).state !== 'completed') {
        retry.set(opKey(op), { oldCpu: r.cpu, oldRamGb: r.ramGb, error: r.error })
      }
    }
  }
  const jobs: Job[] = []
  for (const p of touched.values()) {
    const already = queued.get(p.id)
    const ops = assignableOps(p, multi, !multi).filter((r) => already === undefined || !already.has(r.index))
    if (ops.length === 0) continue
    if (multi) {
      jobs.push({ priority: p.priority, pipelineId: p.id, ops, retry: retry.get(opKey(ops[0]!)) ?? null })
    } else {
      for (const op of ops) {
        jobs.push({ priority: p.priority, pipelineId: p.id, ops: [op], retry: retry.get(opKey(op)) ?? null })
      }
    }
  }
  return jobs
}

/**
 * Chooses up to `count` preemptible containers (not query, at an operator boundary), round-robin over pools.
 */
export function pickVictims(view: SchedulerView, count: number): Suspension[] {
  const out: Suspension[] = []
  const n = view.pools.length
  const pos = new Array<number>(n).fill(0)
  const exhausted = new Array<boolean>(n).fill(false)
  let pool = 0
  while (out.length < count) {
    if (exhausted.every(Boolean)) break
    const list: readonly ContainerView[] = view.pools[pool]?.containers ?? []
    let i = pos[pool] as number
    while (i < list.length && (list[i] as ContainerView).priority === 'query') i++
    if (i >= list.length) {
      exhausted[pool] = true
      pos[pool] = i
    } else {
      const c = list[i] as ContainerView
      pos[pool] = i + 1
      if (c.canSuspend) out.push({ pool: c.pool, containerId: c.id })
    }
    pool = (pool + 1) % n
  }
  return out
}

/**
 * Eudoxia's `priority` policy: strict priority FIFOs (query > interactive > batch), placement on the pool with the
 * most free RAM, a tenth of a pool per new job, doubling on OOM, and preemption of lower-priority containers when
 * queries wait.
 */
export const priorityPolicy: Policy<PriorityState> = {
  name: 'priority',
  description: 'strict priority queues, 10% of a pool per job, double on OOM, preempt for queries',
  init: (config: PolicyConfig): PriorityState => ({
    multi: config.multiOperatorContainers,
    queues: { query: [], interactive: [], batch: [] },
    suspending: [],
    oomFailedToRun: 0,
  }),
  decide(state: PriorityState, view: SchedulerView): Decision<PriorityState> {
    const queues: Record<Priority, Job[]> = {
      query: [...state.queues.query],
      interactive: [...state.queues.interactive],
      batch: [...state.queues.batch],
    }
    if (view.arrivals.length > 0 || view.results.length > 0) {
      for (const job of newJobs(view, queues, state.multi)) queues[job.priority].push(job)
    }
    const { suspending, released } = trackSuspensions(view, state.suspending)
    for (const job of released) queues[job.priority].push(job)

    const stats = poolStats(view.pools)
    const assignments: Assignment[] = []
    let oomFailedToRun = state.oomFailedToRun
    for (const prio of ['query', 'interactive', 'batch'] as const) {
      const queue = queues[prio]
      let taken = 0
      for (const job of queue) {
        const pool = poolWithMaxAvailRam(stats)
        if (pool === -1) break
        taken++
        const s = stats[pool]!
        const size = sizeJob(job, s)
        if (size.dropped === 'toobig') oomFailedToRun++
        if (size.dropped !== 'none') continue
        assignments.push({
          pool,
          cpu: size.cpu,
          ramGb: size.ramGb,
          priority: job.priority,
          pipelineId: job.pipelineId,
          ops: job.ops,
        })
        s.availCpu -= size.cpu
        s.availRamGb -= size.ramGb
      }
      queues[prio] = queue.slice(taken)
    }
    const suspensions = queues.query.length > 0 ? pickVictims(view, queues.query.length) : []
    return { state: { multi: state.multi, queues, suspending, oomFailedToRun }, suspensions, assignments }
  },
}
