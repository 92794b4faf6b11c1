import { memoryMb } from '../../runtime/resources.js'
import type { Priority } from '../../runtime/scheduler/policy.js'
import type { JobRecord } from '../run/job-record.js'
import { putCodeSnapshot, putJob } from '../run/job-store.js'
import { initialRunJob } from '../run/run-job.js'
import type { RunLake } from '../run/run-lake.js'
import type { RunPipelineOptions } from '../run/run-pipeline.js'
import { startRun } from '../run/run-start.js'
import { advanceRun, lockRun } from './coordinator.js'
import type { RemoteRunSpec } from './remote-run-spec.js'
import { remoteTasks } from './remote-task.js'
import { checkPoolName, nodeQueue, type RunQueue } from './run-queue.js'

/**
 * Options of a run executed by `tarn worker` processes: a local run's, plus the job kind's priority and the pool
 * whose workers run it.
 *
 * @example
 * ```ts
 * const o: RemoteRunOptions = { dir: 'examples/taxi', branch: 'main', priority: 'batch', pool: 'default' }
 * ```
 */
export interface RemoteRunOptions extends Omit<RunPipelineOptions, 'observer' | 'rerunOf'> {
  /** Scheduling priority (default `interactive`): `query` > `interactive` > `batch`. */
  readonly priority?: Priority
  /** The worker pool (default `default`). */
  readonly pool?: string
}

/**
 * Submits a run to the workers: plans it (every planning error is reported here, before anything is written),
 * stores the code snapshot, forks `run/<job-id>`, records the job (status `running`) and queues the nodes whose
 * inputs are ready. Returns the job record; the workers advance it, and land or seal the run.
 */
export async function submitRemoteRun(
  lake: RunLake,
  queue: RunQueue,
  options: RemoteRunOptions,
): Promise<JobRecord> {
  const priority = options.priority ?? 'interactive'
  const pool = checkPoolName(options.pool ?? 'default')
  const start = await startRun(lake, options)
  const { jobId, target, runBranch, planned, dataCommit, codeHash } = start
  await putCodeSnapshot(lake.store, { files: start.files })
  const job = initialRunJob(start, { options, author: lake.author, startedAt: lake.clock.now() })
  const warned: JobRecord = { ...job, warnings: planned.warnings.map((w) => w.message) }
  const spec: RemoteRunSpec = {
    jobId,
    project: planned.project.name,
    target,
    runBranch,
    dataCommit: dataCommit.hash,
    baseCommit: start.baseCommit,
    codeHash,
    params: { ...planned.logical.params },
    select: options.select ? [...options.select] : null,
    strict: options.strict === true,
    message: options.message ?? null,
    author: lake.author,
    priority,
    pool,
  }
  // the record first: a run branch is never seen without the job that protects it
  await putJob(lake.store, warned)
  await lake.catalog.createBranch(runBranch, { from: `@${start.baseCommit}` })
  await queue.ensureQueue(nodeQueue(pool))
  const nodes = new Map(planned.logical.nodes.map((n) => [n.name, n]))
  await queue.tx(async (c) => {
    await c.query(
      "INSERT INTO tarn_runs (job_id, state, priority, pool, spec, job) VALUES ($1, 'running', $2, $3, $4, $5)",
      [jobId, priority, pool, JSON.stringify(spec), JSON.stringify(warned)],
    )
    for (const t of remoteTasks(planned.physical)) {
      const declared = nodes.get(t.name)?.model?.memory ?? null
      await c.query(
        "INSERT INTO tarn_tasks (job_id, task, depends_on, state, memory_mb) VALUES ($1, $2, $3, 'waiting', $4)",
        [jobId, t.name, t.dependsOn, declared === null ? null : memoryMb(declared)],
      )
    }
    await lockRun(c, jobId)
    await advanceRun(queue, c, spec)
  })
  return warned
}
