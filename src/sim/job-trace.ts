import type { Priority } from '../runtime/scheduler/policy.js'
import type { SimParams } from './params.js'
import { DEFAULT_PARAMS } from './params.js'
import type { OperatorSpec, PipelineSpec, Workload } from './workload.js'
import { inTopologicalOrder } from './workload.js'

/**
 * One execution of a node as a lake recorded it: on which worker (the local process for local runs), which attempt,
 * when it started and ended (ms since the epoch), the memory it was given and how it ended.
 */
export interface RecordedExecution {
  readonly worker: string
  readonly attempt: number
  readonly startedAt: number
  readonly finishedAt: number
  readonly memoryMb: number
  /** `done`, `failed`, `lost` (its worker was lost) or another outcome the runtime recorded. */
  readonly outcome: string
}

/**
 * One node of a recorded run: its name, the nodes it waits for and its executions (oldest first).
 */
export interface RecordedNode {
  readonly name: string
  readonly dependsOn: readonly string[]
  readonly executions: readonly RecordedExecution[]
}

/**
 * One recorded pipeline run: when it was submitted, at which priority, its nodes, and when it landed (or null).
 */
export interface RecordedRun {
  readonly id: string
  readonly priority: Priority
  readonly pool: string
  readonly submittedAt: number
  readonly landedAt: number | null
  /** The worker that landed it, when known. */
  readonly landedBy?: string | null
  /** When that worker took the landing (ms since the epoch), when known. */
  readonly landStartedAt?: number | null
  readonly status: string
  readonly nodes: readonly RecordedNode[]
}

/**
 * A worker (or the local process) that ran recorded executions: its slots (`cpus`), memory, pool and start time.
 */
export interface RecordedWorker {
  readonly id: string
  readonly pool: string
  readonly cpus: number
  readonly memoryMb: number
  readonly startedAt: number
}

/**
 * The job records of a lake to replay: remote runs with the workers that ran them, or local runs with the process.
 */
export interface RecordedJobs {
  /** `workers` for runs of `tarn worker` processes, `local` for runs executed in the process that started them. */
  readonly source: 'workers' | 'local'
  readonly runs: readonly RecordedRun[]
  readonly workers: readonly RecordedWorker[]
}

/**
 * A recorded workload as a simulator trace: the workload (one pipeline per complete run, each node an operator that
 * takes its measured time), the cluster shaped like the workers, the epoch (ms) simulated time 0 stands for, and
 * the runs left out (with why).
 */
export interface JobTrace {
  readonly workload: Workload
  readonly params: SimParams
  /** The wall-clock time (ms since the epoch) of simulated second 0. */
  readonly epochMs: number
  /**
   * The dispatch overhead added to every operator, in seconds: the mean time a one-slot worker spent between the
   * end of one activity (node or landing) and the start of its next one (fetching from the queue, claiming,
   * completing) — what the simulator does not otherwise model. 0 when no one-slot worker ran two activities.
   */
  readonly dispatchSeconds: number
  readonly skipped: readonly { readonly id: string; readonly reason: string }[]
}

/** Gaps longer than this between two activities of a worker are idle time (nothing queued), not dispatch. */
const MAX_DISPATCH_MS = 1000

/**
 * The mean gap between consecutive activities (node executions and landings) of the one-slot workers, in ms, gaps
 * over a second left out as idleness (nothing was queued); 0 when there are none. A landing starts when its run's
 * last node ended, so the gap before it is 0: the mean spreads a run's dispatch over its operators.
 */
export function dispatchOverheadMs(jobs: RecordedJobs): number {
  const single = new Set(jobs.workers.filter((w) => w.cpus === 1).map((w) => w.id))
  const activities = new Map<string, { start: number; end: number }[]>()
  const add = (worker: string, start: number, end: number): void => {
    if (!single.has(worker)) return
    const list = activities.get(worker) ?? []
    list.push({ start, end })
    activities.set(worker, list)
  }
  for (const r of jobs.runs) {
    for (const n of r.nodes) for (const e of n.executions) add(e.worker, e.startedAt, e.finishedAt)
    const land = r.landedBy ? landing(r) : null
    if (land !== null && r.landedBy) add(r.landedBy, land.start, land.end)
  }
  const gaps: number[] = []
  for (const list of activities.values()) {
    list.sort((a, b) => a.start - b.start)
    for (let i = 1; i < list.length; i++) {
      const gap = (list[i] as { start: number }).start - (list[i - 1] as { end: number }).end
      if (gap >= 0 && gap <= MAX_DISPATCH_MS) gaps.push(gap)
    }
  }
  return gaps.length === 0 ? 0 : gaps.reduce((a, b) => a + b, 0) / gaps.length
}

/** The name of the operator that stands for a run's landing (its merge into the target), after all its nodes. */
export const LANDING_OPERATOR = '(landing)'

/** When a run's last node ended (ms since the epoch). */
export function nodesEnd(r: RecordedRun): number {
  return Math.max(...r.nodes.map((n) => countedExecution(n)?.finishedAt ?? 0))
}

/**
 * The landing of a run as an interval (ms since the epoch) when it landed: from the moment a worker took it (or, when
 * that was not recorded, its last node's end, when the landing was queued) to the time the run was recorded as landed
 * (the same millisecond when the merge was quick: a landing of no length, still the run's last operator).
 */
export function landing(r: RecordedRun): { start: number; end: number } | null {
  if (r.landedAt === null || r.status !== 'succeeded') return null
  const start = Math.max(nodesEnd(r), r.landStartedAt ?? 0)
  return r.landedAt >= start ? { start, end: r.landedAt } : null
}

/** The execution of a node that counted: its last successful one. */
export function countedExecution(n: RecordedNode): RecordedExecution | undefined {
  for (let i = n.executions.length - 1; i >= 0; i--) {
    const e = n.executions[i] as RecordedExecution
    if (e.outcome === 'done') return e
  }
  return undefined
}

/** Why a run cannot be replayed, or null when it can. */
function unreplayable(r: RecordedRun): string | null {
  if (r.nodes.length === 0) return 'it has no nodes'
  for (const n of r.nodes) {
    if (countedExecution(n) === undefined) return `node ${n.name} never finished`
    for (const d of n.dependsOn)
      if (!r.nodes.some((m) => m.name === d)) return `node ${n.name} waits for unknown node ${d}`
  }
  return null
}

/**
 * Turns recorded runs into a simulator trace. Each complete run (every node has a successful execution) becomes a
 * pipeline arriving at its submission time — but not before the first worker started, since nothing could run
 * earlier — with its run's priority; each node an operator taking its measured seconds (`const` CPU scaling, no
 * reads) with the memory the worker gave it, and the landing of a run that landed one more operator after all of
 * them ({@link LANDING_OPERATOR}, 1 GB), since a worker's slot lands it. Every operator also takes the workers'
 * measured dispatch overhead ({@link dispatchOverheadMs}). The cluster has one pool per worker, as wide and as large as the
 * largest worker (the simulator's pools are alike), one operator per container as the workers run them, and a
 * duration long enough for every run to end even one at a time. Runs that cannot be replayed are listed in
 * `skipped`.
 */
export function jobsToTrace(jobs: RecordedJobs, scheduler = 'priority'): JobTrace {
  const skipped: { id: string; reason: string }[] = []
  const runs: RecordedRun[] = []
  for (const r of [...jobs.runs].sort((a, b) => a.submittedAt - b.submittedAt || a.id.localeCompare(b.id))) {
    const why = unreplayable(r)
    if (why === null) runs.push(r)
    else skipped.push({ id: r.id, reason: why })
  }
  const firstWorker = jobs.workers.length === 0 ? 0 : Math.min(...jobs.workers.map((w) => w.startedAt))
  const firstSubmit = runs.length === 0 ? firstWorker : (runs[0] as RecordedRun).submittedAt
  const epochMs = Math.max(firstSubmit, firstWorker)
  const dispatchSeconds = dispatchOverheadMs({ ...jobs, runs }) / 1000
  let work = 0
  let last = 0
  const pipelines: PipelineSpec[] = runs.map((r) => {
    const index = new Map(r.nodes.map((n, i) => [n.name, i]))
    const ops: OperatorSpec[] = r.nodes.map((n) => {
      const e = countedExecution(n) as RecordedExecution
      const seconds = Math.max(0, e.finishedAt - e.startedAt) / 1000 + dispatchSeconds
      work += seconds
      return {
        name: n.name,
        parents: n.dependsOn.map((d) => index.get(d) as number),
        baselineCpuSeconds: seconds,
        cpuScaling: 'const',
        memoryGb: e.memoryMb / 1024,
        storageReadGb: 0,
      }
    })
    const land = landing(r)
    if (land !== null) {
      const seconds = (land.end - land.start) / 1000 + dispatchSeconds
      work += seconds
      ops.push({
        name: LANDING_OPERATOR,
        parents: ops.map((_, i) => i),
        baselineCpuSeconds: seconds,
        cpuScaling: 'const',
        memoryGb: 1,
        storageReadGb: 0,
      })
    }
    const arrivalSeconds = Math.max(0, r.submittedAt - epochMs) / 1000
    last = Math.max(last, arrivalSeconds)
    return { id: r.id, priority: r.priority, arrivalSeconds, operators: inTopologicalOrder(ops) }
  })
  const workers = jobs.workers.length > 0 ? jobs.workers : [{ cpus: 1, memoryMb: 8192 }]
  const params: SimParams = {
    ...DEFAULT_PARAMS,
    duration: Math.ceil(last + work + 2),
    ticksPerSecond: 1000,
    schedulerAlgo: scheduler,
    numPools: workers.length,
    cpusPerPool: Math.max(...workers.map((w) => w.cpus)),
    ramGbPerPool: Math.max(...workers.map((w) => w.memoryMb)) / 1024,
    multiOperatorContainers: false,
    maxJobSeconds: 0,
  }
  return { workload: { source: 'trace', pipelines }, params, epochMs, dispatchSeconds, skipped }
}
