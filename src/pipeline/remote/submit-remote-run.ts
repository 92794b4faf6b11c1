import { memoryMb } from '../../runtime/resources.js'
import type { Priority } from '../../runtime/scheduler/policy.js'
import { TarnError } from '../../util/errors.js'
import { readProjectFiles } from '../run/code-files.js'
import type { JobRecord } from '../run/job-record.js'
import { putCodeSnapshot, putJob } from '../run/job-store.js'
import { initialRunJob } from '../run/run-job.js'
import type { RunLake } from '../run/run-lake.js'
import type { RunPipelineOptions } from '../run/run-pipeline.js'
import { planRunAt } from '../run/run-pipeline.js'
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
  const jobId = `job-${Buffer.from(lake.random.bytes(6)).toString('hex')}`
  const target = options.branch ?? lake.activeBranch()
  const engine = await lake.queryEngine()
  const targetRef = await lake.catalog.getBranch(target)
  if (targetRef.sealed)
    throw new TarnError('BRANCH_SEALED', `branch ${JSON.stringify(target)} is sealed`, { branch: target })
  const dataCommit = options.dataRef
    ? (await lake.catalog.resolve(options.dataRef)).commit
    : await lake.catalog.getCommit(targetRef.head)
  const planned = await planRunAt(lake, options, dataCommit, engine.duckdb())
  if (options.strict && planned.warnings.length > 0) {
    const first = planned.warnings[0] as TarnError
    throw new TarnError(first.code, `${first.message} (--strict)`, {
      ...first.context,
      warning: first.message,
    })
  }
  const files = await readProjectFiles(options.dir)
  const codeHash = await putCodeSnapshot(lake.store, { files })
  const runBranch = `run/${jobId}`
  const job = initialRunJob({
    id: jobId,
    target,
    runBranch,
    dataCommit: dataCommit.hash,
    baseCommit: targetRef.head,
    codeHash,
    planned,
    options,
    author: lake.author,
    startedAt: lake.clock.now(),
  })
  const warned: JobRecord = { ...job, warnings: planned.warnings.map((w) => w.message) }
  const spec: RemoteRunSpec = {
    jobId,
    project: planned.project.name,
    target,
    runBranch,
    dataCommit: dataCommit.hash,
    baseCommit: targetRef.head,
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
  await lake.catalog.createBranch(runBranch, { from: `@${targetRef.head}` })
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
