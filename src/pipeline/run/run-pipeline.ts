import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { isTarnError, TarnError } from '../../util/errors.js'
import { currentProcess } from '../../util/process-identity.js'
import type { PhysicalPlan } from '../physical-plan.js'
import type { ParameterValue } from '../project.js'
import { bestEffort } from './best-effort.js'
import { executePlan, type RunningJob } from './execute-plan.js'
import type { JobRecord } from './job-record.js'
import { putCodeSnapshot, putJob, putJobAndLog } from './job-store.js'
import { landedCommit } from './landed-commit.js'
import { progressWriter } from './progress-writer.js'
import { initialRunJob } from './run-job.js'
import type { RunLake } from './run-lake.js'
import type { RunObserver } from './run-observer.js'
import { startRun } from './run-start.js'

export { planRunAt } from './run-start.js'

/**
 * Options of {@link runPipeline}.
 *
 * @example
 * ```ts
 * const o: RunPipelineOptions = { dir: 'examples/taxi', branch: 'main', params: { min_fare: '4' }, strict: true }
 * ```
 */
export interface RunPipelineOptions {
  /** The project directory. */
  readonly dir: string
  /** The branch to run on and merge into (default: the active branch). */
  readonly branch?: string
  readonly params?: Readonly<Record<string, string | ParameterValue>>
  readonly select?: readonly string[]
  /** Warnings (planning and runtime) fail the run. */
  readonly strict?: boolean
  /** The ref or commit whose tables the run reads (default: the branch head). */
  readonly dataRef?: string
  /** The job this run re-executes. */
  readonly rerunOf?: string
  readonly observer?: RunObserver
  /** Message of the commit that lands the run on the branch (default `Run <project> (<job-id>)`). */
  readonly message?: string
}

/**
 * A finished run: its job record (status `succeeded`) and plan.
 *
 * @example
 * ```ts
 * const { job } = await runPipeline(lake, { dir: 'examples/taxi' })
 * job.tables // { 'tarn.trips_clean': 1890, ... }
 * ```
 */
export interface RunOutcome {
  readonly job: JobRecord
  readonly plan: PhysicalPlan
}

/**
 * Runs a pipeline project as a transaction: forks the branch at its head into `run/<job-id>`, runs every model (SQL in DuckDB,
 * TS in worker processes) with inputs read at the data commit, materialises each model there (one commit per model
 * carrying `tarn.job_id`), runs the expectations, then merges into the branch. On any failure the branch is
 * untouched, the run branch is sealed and the error (`RUN_FAILED`, `EXPECTATION_FAILED`, `MERGE_CONFLICT`, ...)
 * is thrown with the job id and run branch in its context. The job record, code snapshot and log are stored under
 * `_tarn/` in the warehouse.
 *
 * @example
 * ```ts
 * const { job } = await runPipeline(lake, { dir: 'examples/taxi', params: { run_date: '2026-01-31' } })
 * console.log(job.id, job.status, job.mergeCommit)
 * ```
 */
export async function runPipeline(lake: RunLake, options: RunPipelineOptions): Promise<RunOutcome> {
  const start = await startRun(lake, options)
  const { jobId, target, runBranch, planned, files, codeHash, dataCommit, engine } = start
  const duckdb = engine.duckdb()
  const plan: PhysicalPlan = planned.physical
  // The code snapshot is written while the run branch is forked and the job recorded (its hash is known now).
  const snapshot = putCodeSnapshot(lake.store, { files })
  snapshot.catch(() => undefined)
  const logLines: string[] = []
  const log = (text: string): void => {
    const line = `${new Date(lake.clock.now()).toISOString()} ${text}`
    logLines.push(line)
    options.observer?.log?.(line)
  }
  const job: RunningJob = initialRunJob(start, {
    options,
    author: lake.author,
    runner: currentProcess(),
    startedAt: lake.clock.now(),
  })
  // The job record (status running) is stored before the run branch exists, so the branch is never seen without
  // the run that protects it; the code snapshot is stored while the models run, and the run lands only after it is.
  await putJob(lake.store, job)
  const recorded = snapshot
  recorded.catch(() => undefined)
  const scratch = join(engine.scratchDir(), 'runs', jobId)
  // node states reach the stored record while the run goes (after the first record is stored)
  const progress = progressWriter(async () => {
    await recorded
    await putJob(lake.store, { ...job })
  })
  let lastError: unknown
  try {
    // from here on a failure is recorded on the job, which exists already
    await lake.catalog.createBranch(runBranch, { from: `@${start.baseCommit}` })
    await mkdir(scratch, { recursive: true })
    log(
      `job ${jobId}: run on ${target} reading @${dataCommit.hash.slice(0, 12)} (code ${codeHash.slice(0, 12)})`,
    )
    options.observer?.planned?.(plan, { ...job })
    for (const ns of planned.createsNamespaces)
      log(`namespace ${ns} does not exist on ${target}: the run creates it`)
    const warn = (message: string, error?: TarnError): void => {
      job.warnings = [...job.warnings, message]
      log(`warning: ${message}`)
      if (options.strict)
        throw new TarnError(error?.code ?? 'RUN_FAILED', `${message} (--strict)`, {
          ...error?.context,
          warning: message,
        })
    }
    for (const w of planned.warnings) warn(w.message, w)
    await executePlan(lake, planned, {
      instance: duckdb,
      jobId,
      runBranch,
      scratch,
      files,
      job,
      log,
      warn,
      observer: options.observer,
      progressed: progress.changed,
    })
    await recorded
    const head = (await lake.catalog.getBranch(runBranch)).head
    if (head !== start.baseCommit) {
      const merged = await lake.catalog.merge(runBranch, {
        into: target,
        author: lake.author,
        message: options.message ?? `Run ${planned.project.name} (${jobId})`,
        properties: { 'tarn.job_id': jobId, 'tarn.operation': 'run-merge' },
        job: jobId,
      })
      job.mergeCommit = merged.target.after
      log(`merged ${runBranch} into ${target} (${merged.kind}) -> ${merged.target.after.slice(0, 12)}`)
    } else {
      job.mergeCommit = (await lake.catalog.getBranch(target)).head
      log(`nothing materialised: ${target} unchanged`)
    }
    job.status = 'succeeded'
  } catch (e) {
    lastError = e
    const landing = await landedCommit(lake, target, jobId)
    if (landing !== undefined) {
      // The landing merge committed but its answer was lost: the run succeeded.
      job.mergeCommit = landing
      job.status = 'succeeded'
      log(
        `merged ${runBranch} into ${target} -> ${landing.slice(0, 12)} (confirmed after an error: ${String(e)})`,
      )
    }
  }
  await progress.settle()
  if (job.status === 'succeeded') {
    // From here on the run has landed: cleaning up is best effort and never turns it into a failure.
    await bestEffort(
      () => lake.catalog.deleteBranch(runBranch),
      (m) => log(`warning: could not delete ${runBranch}: ${m}`),
    )
    job.finishedAt = lake.clock.now()
    log(`job ${jobId} succeeded`)
    // the final record and the log are one durable write
    await bestEffort(
      () => putJobAndLog(lake.store, job, `${logLines.join('\n')}\n`),
      (m) => {
        job.warnings = [...job.warnings, `job record and log not saved: ${m}`]
      },
    )
    await bestEffort(
      () => rm(scratch, { recursive: true, force: true }),
      (m) => log(`warning: could not remove the run's scratch directory: ${m}`),
    )
    options.observer?.finished?.({ ...job })
    return { job: { ...job }, plan }
  }
  const err = isTarnError(lastError)
    ? lastError
    : new TarnError(
        'RUN_FAILED',
        lastError instanceof Error ? lastError.message : String(lastError),
        {},
        { cause: lastError },
      )
  await recorded.catch(() => undefined)
  job.status = 'failed'
  job.error = { code: err.code, message: err.message, context: { ...err.context, job: jobId, runBranch } }
  job.nodes = job.nodes.map((n) => (n.status === 'waiting' ? { ...n, status: 'skipped' } : n))
  log(`failed: ${err.message}`)
  await bestEffort(
    () => lake.catalog.sealBranch(runBranch),
    () => undefined,
  )
  job.finishedAt = lake.clock.now()
  await bestEffort(
    () => putJobAndLog(lake.store, job, `${logLines.join('\n')}\n`),
    () => undefined,
  )
  // a directory left behind must not replace the run's own error
  await bestEffort(
    () => rm(scratch, { recursive: true, force: true }),
    () => undefined,
  )
  options.observer?.finished?.({ ...job })
  throw new TarnError(
    err.code,
    `run ${jobId} failed: ${err.message} (run branch ${runBranch} is sealed; ${target} is untouched)`,
    { ...err.context, job: jobId, runBranch, target },
    { cause: err },
  )
}
