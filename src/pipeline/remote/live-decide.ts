import type { Policy } from '../../runtime/scheduler/policy.js'
import {
  buildLiveView,
  type LiveExecution,
  type LiveState,
  type LiveTask,
  taskMemoryMb,
} from './live-view.js'

/** A node execution the policy gave to a worker. */
export interface LiveClaim {
  readonly worker: string
  readonly jobId: string
  readonly task: string
  readonly queueJob: string
  readonly memoryMb: number
}

/** A node that fits no live worker of its pool. */
export interface Unplaceable {
  readonly jobId: string
  readonly task: string
  readonly memoryMb: number
  /** The memory of the pool's biggest live worker. */
  readonly largestMb: number
}

/** What one live scheduling step decided, in the policy's order. */
export interface LiveDecisions {
  readonly claims: readonly LiveClaim[]
  /** Running executions to stop and queue again. */
  readonly suspensions: readonly LiveExecution[]
  readonly unplaceable: readonly Unplaceable[]
}

/**
 * One live scheduling step: builds the policy's snapshot of the queue state ({@link buildLiveView}), calls a fresh
 * instance of the policy's `decide` on it, and maps its decisions back to workers and nodes. Placement by memory
 * follows: a node stays on the worker the policy chose when its memory fits that worker's free memory, else it goes
 * to the worker with the most free memory that fits it; a node that fits no free memory now waits for a later step;
 * one bigger than every live worker is unplaceable (its run fails). `self` is the worker that steps (its pool comes
 * first, see {@link buildLiveView}). Pure: the caller applies the decisions.
 */
export function liveDecide(policy: Policy, state: LiveState, self?: string): LiveDecisions {
  if (state.workers.length === 0) return { claims: [], suspensions: [], unplaceable: [] }
  const live = buildLiveView(state, self)
  const decision = policy.decide(
    policy.init({ numPools: live.workers.length, multiOperatorContainers: false, ticksPerSecond: 1000 }),
    live.view,
  )
  const free = live.view.pools.map((p) => ({ cpu: p.availCpu, mb: p.availRamGb * 1024 }))
  const largestMb = Math.max(...live.workers.map((w) => w.memoryMb))
  const claims: LiveClaim[] = []
  const unplaceable: Unplaceable[] = []
  const seen = new Set<string>()
  for (const run of state.runs)
    for (const t of run.tasks) {
      if (t.state !== 'queued' || taskMemoryMb(t) <= largestMb) continue
      unplaceable.push({ jobId: run.jobId, task: t.task, memoryMb: taskMemoryMb(t), largestMb })
      seen.add(`${run.jobId}#${t.task}`)
    }
  for (const a of decision.assignments) {
    for (const ref of a.ops) {
      const t: LiveTask = live.task(ref)
      const key = `${ref.pipelineId}#${t.task}`
      if (t.state !== 'queued' || t.queueJob === null || seen.has(key)) continue
      seen.add(key)
      const need = taskMemoryMb(t)
      const fits = (i: number): boolean => (free[i]?.cpu ?? 0) >= 1 && (free[i]?.mb ?? 0) >= need
      let target = fits(a.pool) ? a.pool : -1
      if (target === -1)
        for (let i = 0; i < free.length; i++)
          if (fits(i) && (target === -1 || (free[i]?.mb ?? 0) > (free[target]?.mb ?? 0))) target = i
      if (target === -1) continue
      const f = free[target] as { cpu: number; mb: number }
      f.cpu -= 1
      f.mb -= need
      claims.push({
        worker: (live.workers[target] as { id: string }).id,
        jobId: ref.pipelineId,
        task: t.task,
        queueJob: t.queueJob,
        memoryMb: need,
      })
    }
  }
  const suspensions = decision.suspensions.flatMap((s) => {
    const e = live.execution(s.containerId)
    return e ? [e] : []
  })
  return { claims, suspensions, unplaceable }
}

/**
 * The memory (MB) the policy gives a node's retry after it ran out of memory with `failedMb`, or undefined when the
 * policy gives up (it would not run it again on the pool's live workers, even idle): the node alone, `failed`, with
 * the out-of-memory result of its execution, on the live workers without their running executions.
 */
export function oomRetryMb(
  policy: Policy,
  workers: LiveState['workers'],
  node: { jobId: string; task: string; priority: LiveExecution['priority']; memoryMb: number | null },
  failedMb: number,
): number | undefined {
  const state: LiveState = {
    now: 0,
    workers,
    running: [],
    runs: [
      {
        jobId: node.jobId,
        priority: node.priority,
        submittedAt: 0,
        tasks: [
          {
            task: node.task,
            dependsOn: [],
            state: 'queued',
            memoryMb: node.memoryMb,
            queueJob: null,
            lastFailure: { outcome: 'oom', memoryMb: failedMb },
          },
        ],
      },
    ],
  }
  if (workers.length === 0) return undefined
  const live = buildLiveView(state)
  const decision = policy.decide(
    policy.init({ numPools: live.workers.length, multiOperatorContainers: false, ticksPerSecond: 1000 }),
    live.view,
  )
  const a = decision.assignments.find((x) => x.ops.some((r) => r.pipelineId === node.jobId))
  if (!a) return undefined
  const mb = Math.round(a.ramGb * 1024)
  return mb > failedMb ? mb : undefined
}
