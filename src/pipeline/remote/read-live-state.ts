import { DEFAULT_MEMORY_MB } from '../../runtime/resources.js'
import type { Priority } from '../../runtime/scheduler/policy.js'
import type { LiveExecution, LiveRun, LiveState, LiveTask, LiveWorker } from './live-view.js'
import { LAND_QUEUE, type RunQueue } from './run-queue.js'

/**
 * The nodes waiting in a pool's queue, as one string (`job/task` sorted): a claim made from a scheduling step checks,
 * in its statement, that no node was queued since the step read the state, else the step is decided again.
 */
export function queuedNodes(state: LiveState): string {
  return state.runs
    .flatMap((r) => r.tasks.filter((t) => t.state === 'queued').map((t) => `${r.jobId}/${t.task}`))
    .sort()
    .join(',')
}

interface TaskRow {
  readonly job_id: string
  readonly priority: Priority
  readonly submitted_ms: number
  readonly task: string
  readonly depends_on: string[]
  readonly state: string
  readonly memory_mb: number | null
  readonly queue_job: string | null
  readonly last_outcome: string | null
  readonly last_memory_mb: number | null
}

interface ExecutionRow {
  readonly job_id: string
  readonly task: string
  readonly attempt: number
  readonly worker: string
  readonly priority: Priority
  readonly memory_mb: number | null
}

/**
 * The state of one pool in one statement (one snapshot, one round trip): its live workers, the nodes of its running
 * runs, and the executions in progress on its live workers, each as a JSON array; and how long the oldest landing
 * in the queue (`$2`) has waited, of any run and of a run of the pool.
 */
const LIVE_STATE = (schema: string): string => `SELECT
  (SELECT coalesce(json_agg(json_build_object('id', id, 'cpus', cpus, 'memoryMb', memory_mb) ORDER BY id), '[]')
     FROM tarn_workers WHERE pool = $1 AND state = 'live') AS workers,
  (SELECT coalesce(json_agg(json_build_object(
            'job_id', r.job_id, 'priority', r.priority,
            'submitted_ms', floor(extract(epoch FROM r.submitted_at) * 1000),
            'task', t.task, 'depends_on', t.depends_on, 'state', t.state, 'memory_mb', t.memory_mb,
            'queue_job', t.queue_job, 'last_outcome', e.outcome, 'last_memory_mb', e.memory_mb)
          ORDER BY r.submitted_at, r.job_id, t.task), '[]')
     FROM tarn_runs r JOIN tarn_tasks t USING (job_id)
     LEFT JOIN tarn_executions e
       ON t.state = 'queued' AND e.job_id = t.job_id AND e.task = t.task AND e.attempt = t.attempt
          AND e.outcome IN ('oom', 'preempted')
    WHERE r.pool = $1 AND r.state = 'running') AS tasks,
  (SELECT coalesce(json_agg(json_build_object(
            'job_id', e.job_id, 'task', e.task, 'attempt', e.attempt, 'worker', e.worker,
            'priority', e.priority, 'memory_mb', e.memory_mb)
          ORDER BY e.job_id, e.task, e.attempt), '[]')
     FROM tarn_executions e
     JOIN tarn_tasks t ON t.job_id = e.job_id AND t.task = e.task AND t.attempt = e.attempt AND t.worker = e.worker
     JOIN tarn_workers w ON w.id = e.worker
    WHERE e.finished_at IS NULL AND t.state = 'running' AND w.pool = $1 AND w.state = 'live') AS running,
  (SELECT json_build_object(
            'any', floor(extract(epoch FROM now() - min(j.created_on)) * 1000),
            'pool', floor(extract(epoch FROM now() - min(j.created_on) FILTER (WHERE r.pool = $1)) * 1000))
     FROM ${schema}.job j LEFT JOIN tarn_runs r ON r.job_id = j.data->>'jobId'
    WHERE j.name = $2 AND j.state < 'active' AND j.start_after < now()) AS landings`

/**
 * A pool's queue state, and how long the oldest landing waiting in the queue has waited, of any run and of a run of
 * the pool (ms; null: none waits).
 */
export type PoolState = LiveState & {
  readonly landingWaitedMs: number | null
  readonly poolLandingWaitedMs: number | null
}

/**
 * Reads the queue state of one pool for a scheduling step, in one statement: its live workers (from their heartbeat
 * rows), its running runs with their nodes (and how the latest execution of a queued node ended when it failed), the
 * executions in progress, and the wait of the oldest landing (so a worker asks for a landing only when it may take
 * one).
 */
export async function readLiveState(queue: RunQueue, pool: string, now: number): Promise<PoolState> {
  const row = (await queue.pool.query(LIVE_STATE(queue.schema), [pool, LAND_QUEUE])).rows[0] as {
    workers: LiveWorker[]
    tasks: TaskRow[]
    running: ExecutionRow[]
    landings: { any: number | null; pool: number | null }
  }
  const runs = new Map<
    string,
    { jobId: string; priority: Priority; submittedAt: number; tasks: LiveTask[] }
  >()
  for (const r of row.tasks) {
    let run = runs.get(r.job_id)
    if (!run) {
      run = { jobId: r.job_id, priority: r.priority, submittedAt: r.submitted_ms, tasks: [] }
      runs.set(r.job_id, run)
    }
    run.tasks.push({
      task: r.task,
      dependsOn: r.depends_on,
      state: r.state,
      memoryMb: r.memory_mb,
      queueJob: r.queue_job,
      lastFailure:
        r.last_outcome === null
          ? null
          : { outcome: r.last_outcome, memoryMb: r.last_memory_mb ?? DEFAULT_MEMORY_MB },
    })
  }
  return {
    now,
    landingWaitedMs: row.landings.any,
    poolLandingWaitedMs: row.landings.pool,
    workers: row.workers,
    runs: [...runs.values()] as LiveRun[],
    running: row.running.map(
      (e): LiveExecution => ({
        jobId: e.job_id,
        task: e.task,
        attempt: e.attempt,
        worker: e.worker,
        priority: e.priority,
        memoryMb: e.memory_mb ?? DEFAULT_MEMORY_MB,
      }),
    ),
  }
}
