import type { ExecutionRecords } from '../pipeline/remote/execution-records.js'
import type { JobRecord, NodeRecord } from '../pipeline/run/job-record.js'
import { PRIORITIES, type Priority } from '../runtime/scheduler/policy.js'
import type { RecordedJobs, RecordedNode, RecordedRun, RecordedWorker } from '../sim/job-trace.js'
import { LOCAL_RUN_PRIORITY } from '../sim/replay.js'

/** The local process as a worker, for runs executed where they were started. */
const LOCAL_WORKER = 'local'
const LOCAL_MEMORY_MB = 8192

const isPriority = (p: string): p is Priority => (PRIORITIES as readonly string[]).includes(p)

/**
 * The remote runs the queue recorded as simulator input: each run with its nodes and their executions, and the
 * workers that ran them.
 */
export function remoteRecordedJobs(r: ExecutionRecords): RecordedJobs {
  const runs: RecordedRun[] = r.runs.map((run) => ({
    id: run.jobId,
    priority: isPriority(run.priority) ? run.priority : LOCAL_RUN_PRIORITY,
    pool: run.pool,
    submittedAt: run.submittedAt,
    landedAt: run.finishedAt,
    landedBy: run.landWorker,
    landStartedAt: run.landStartedAt,
    status: run.state,
    nodes: r.tasks
      .filter((t) => t.jobId === run.jobId)
      .map(
        (t): RecordedNode => ({
          name: t.task,
          dependsOn: t.dependsOn,
          executions: r.executions
            .filter((e) => e.jobId === run.jobId && e.task === t.task)
            .map((e) => ({
              worker: e.worker,
              attempt: e.attempt,
              startedAt: e.startedAt,
              finishedAt: e.finishedAt,
              memoryMb: e.memoryMb ?? 1024,
              outcome: e.outcome,
            })),
        }),
      ),
  }))
  const workers: RecordedWorker[] = r.workers.map((w) => ({ ...w }))
  return { source: 'workers', runs, workers }
}

/** The nodes of a local run that did work (everything but scans), with dependencies through the others. */
function localNodes(job: JobRecord): RecordedNode[] {
  const byId = new Map(job.nodes.map((n) => [n.id, n]))
  const kept = (n: NodeRecord): boolean =>
    n.kind !== 'scan' && n.startedAt !== null && n.finishedAt !== null && n.status === 'done'
  const parentsOf = (n: NodeRecord, seen: Set<string>): string[] => {
    const out: string[] = []
    for (const d of n.dependsOn ?? []) {
      if (seen.has(d)) continue
      seen.add(d)
      const p = byId.get(d)
      if (p === undefined) continue
      if (kept(p)) out.push(p.id)
      else out.push(...parentsOf(p, seen))
    }
    return out
  }
  return job.nodes.filter(kept).map((n) => ({
    name: n.id,
    dependsOn: [...new Set(parentsOf(n, new Set()))],
    executions: [
      {
        worker: LOCAL_WORKER,
        attempt: 1,
        startedAt: n.startedAt as number,
        finishedAt: n.finishedAt as number,
        memoryMb: 1024,
        outcome: 'done',
      },
    ],
  }))
}

/**
 * Local runs (executed in the process that started them) as simulator input: each succeeded run a pipeline at
 * `tarn run`'s priority, its nodes with their recorded times, run by one "worker" — the process — as wide as the most
 * nodes it ran at once.
 */
export function localRecordedJobs(jobs: readonly JobRecord[], sinceMs: number): RecordedJobs {
  const runs: RecordedRun[] = jobs
    .filter((j) => j.kind === 'run' && j.status === 'succeeded' && j.startedAt >= sinceMs)
    .map((j) => ({
      id: j.id,
      priority: LOCAL_RUN_PRIORITY,
      pool: LOCAL_WORKER,
      submittedAt: j.startedAt,
      landedAt: j.finishedAt,
      landedBy: LOCAL_WORKER,
      status: j.status,
      nodes: localNodes(j),
    }))
  const events: [number, number][] = []
  for (const r of runs)
    for (const n of r.nodes) for (const e of n.executions) events.push([e.startedAt, 1], [e.finishedAt, -1])
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let now = 0
  let widest = 1
  for (const [, d] of events) {
    now += d
    widest = Math.max(widest, now)
  }
  const first = runs.length === 0 ? 0 : Math.min(...runs.map((r) => r.submittedAt))
  const workers: RecordedWorker[] = [
    { id: LOCAL_WORKER, pool: LOCAL_WORKER, cpus: widest, memoryMb: LOCAL_MEMORY_MB, startedAt: first },
  ]
  return { source: 'local', runs, workers }
}
