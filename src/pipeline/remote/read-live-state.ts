import type pg from 'pg'
import { DEFAULT_MEMORY_MB } from '../../runtime/resources.js'
import type { Priority } from '../../runtime/scheduler/policy.js'
import type { LiveExecution, LiveRun, LiveState, LiveTask, LiveWorker } from './live-view.js'
import type { RunQueue } from './run-queue.js'

/**
 * The nodes waiting in a pool's queue, as one string (`job/task` sorted): a claim made from a scheduling step checks,
 * in its transaction, that no node was queued since the step read the state ({@link noneQueuedSince}), else the step
 * is decided again.
 */
export function queuedNodes(state: LiveState): string {
  return state.runs
    .flatMap((r) => r.tasks.filter((t) => t.state === 'queued').map((t) => `${r.jobId}/${t.task}`))
    .sort()
    .join(',')
}

/**
 * True when every node queued `now` was already queued in `snapshot` (both from {@link queuedNodes}): only nodes taken
 * by other workers left the queue since. A decision made on the snapshot still holds then: the policies order the
 * queue (priority, then age), so taking others' nodes never makes a better node appear for this worker, while a node
 * queued since (a more urgent run, a retried node) must be decided on again.
 */
export function noneQueuedSince(snapshot: string, now: string): boolean {
  if (now === snapshot || now === '') return true
  const before = new Set(snapshot.split(','))
  return now.split(',').every((n) => before.has(n))
}

/** {@link queuedNodes} of a pool as its transaction `c` sees them. */
export async function readQueuedNodes(c: pg.PoolClient, pool: string): Promise<string> {
  const r = await c.query(
    `SELECT t.job_id || '/' || t.task AS node FROM tarn_runs r JOIN tarn_tasks t USING (job_id)
      WHERE r.pool = $1 AND r.state = 'running' AND t.state = 'queued'`,
    [pool],
  )
  return (r.rows as { node: string }[])
    .map((x) => x.node)
    .sort()
    .join(',')
}

interface TaskRow {
  job_id: string
  priority: Priority
  submitted_at: Date
  task: string
  depends_on: string[]
  state: string
  memory_mb: number | null
  queue_job: string | null
  last_outcome: string | null
  last_memory_mb: number | null
}

/**
 * Reads the queue state of one pool for a scheduling step: its live workers (from their heartbeat rows), its
 * running runs with their nodes (and how the latest execution of a queued node ended when it failed), and the
 * executions in progress.
 */
export async function readLiveState(queue: RunQueue, pool: string, now: number): Promise<LiveState> {
  const [workers, tasks, running] = await Promise.all([
    queue.pool.query(
      "SELECT id, cpus, memory_mb FROM tarn_workers WHERE pool = $1 AND state = 'live' ORDER BY id",
      [pool],
    ),
    queue.pool.query(
      `SELECT r.job_id, r.priority, r.submitted_at, t.task, t.depends_on, t.state, t.memory_mb, t.queue_job,
              e.outcome AS last_outcome, e.memory_mb AS last_memory_mb
         FROM tarn_runs r JOIN tarn_tasks t USING (job_id)
         LEFT JOIN tarn_executions e
           ON t.state = 'queued' AND e.job_id = t.job_id AND e.task = t.task AND e.attempt = t.attempt
              AND e.outcome IN ('oom', 'preempted')
        WHERE r.pool = $1 AND r.state = 'running'
        ORDER BY r.submitted_at, r.job_id, t.task`,
      [pool],
    ),
    queue.pool.query(
      `SELECT e.job_id, e.task, e.attempt, e.worker, e.priority, e.memory_mb
         FROM tarn_executions e
         JOIN tarn_tasks t ON t.job_id = e.job_id AND t.task = e.task AND t.attempt = e.attempt AND t.worker = e.worker
         JOIN tarn_workers w ON w.id = e.worker
        WHERE e.finished_at IS NULL AND t.state = 'running' AND w.pool = $1 AND w.state = 'live'`,
      [pool],
    ),
  ])
  const runs = new Map<
    string,
    { jobId: string; priority: Priority; submittedAt: number; tasks: LiveTask[] }
  >()
  for (const r of tasks.rows as TaskRow[]) {
    let run = runs.get(r.job_id)
    if (!run) {
      run = { jobId: r.job_id, priority: r.priority, submittedAt: r.submitted_at.getTime(), tasks: [] }
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
    workers: (workers.rows as { id: string; cpus: number; memory_mb: number }[]).map(
      (w): LiveWorker => ({ id: w.id, cpus: w.cpus, memoryMb: w.memory_mb }),
    ),
    runs: [...runs.values()] as LiveRun[],
    running: (
      running.rows as {
        job_id: string
        task: string
        attempt: number
        worker: string
        priority: Priority
        memory_mb: number | null
      }[]
    ).map(
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
