import type { AnyJobRecord, JobRecord, OperationJobRecord } from '../pipeline/run/job-record.js'
import { getJobLog, listAllJobs, putJob, putJobLog } from '../pipeline/run/job-store.js'
import { landedCommit } from '../pipeline/run/landed-commit.js'
import type { RunLake } from '../pipeline/run/run-lake.js'
import { isTarnError } from '../util/errors.js'
import { type ProcessIdentity, processEnded } from '../util/process-identity.js'

/**
 * A job that was still `running` in its record although the process running it had ended (killed, crashed, its
 * machine rebooted), and how it was settled: a run whose landing merge had committed is `succeeded`; any other run
 * is `failed` with its run branch sealed (the target untouched); an import or query is `failed`.
 *
 * @example
 * ```ts
 * const j: InterruptedJob = { id: 'job-1a2b3c4d5e6f', kind: 'run', status: 'failed', runBranch: 'run/job-1a2b3c4d5e6f' }
 * ```
 */
export interface InterruptedJob {
  readonly id: string
  readonly kind: AnyJobRecord['kind']
  readonly status: 'succeeded' | 'failed'
  /** Runs: the run branch (sealed when the run failed). */
  readonly runBranch?: string
}

function who(p: ProcessIdentity): string {
  return `process ${p.pid} on ${p.host}`
}

async function appendLog(lake: RunLake, id: string, line: string): Promise<void> {
  const before = await getJobLog(lake.store, id).catch(() => '')
  await putJobLog(lake.store, id, `${before}${new Date(lake.clock.now()).toISOString()} ${line}\n`)
}

async function settleRun(lake: RunLake, job: JobRecord, runner: ProcessIdentity): Promise<InterruptedJob> {
  const now = lake.clock.now()
  const landing = await landedCommit(lake, job.target, job.id)
  if (landing !== undefined) {
    // the landing merge committed; only the final record was lost
    await lake.catalog.deleteBranch(job.runBranch).catch(() => undefined)
    await putJob(lake.store, { ...job, status: 'succeeded', mergeCommit: landing, finishedAt: now })
    await appendLog(
      lake,
      job.id,
      `job ${job.id} succeeded: it had merged into ${job.target} -> ${landing.slice(0, 12)} before ${who(runner)} ended`,
    )
    return { id: job.id, kind: 'run', status: 'succeeded', runBranch: job.runBranch }
  }
  try {
    await lake.catalog.sealBranch(job.runBranch)
  } catch (e) {
    // a run killed before it forked its branch has none to seal
    if (!isTarnError(e) || e.code !== 'BRANCH_NOT_FOUND') throw e
  }
  const message = `run ${job.id} was interrupted: ${who(runner)} ended before the run finished (run branch ${job.runBranch} is sealed; ${job.target} is untouched)`
  await putJob(lake.store, {
    ...job,
    status: 'failed',
    finishedAt: now,
    nodes: job.nodes.map((n) =>
      n.status === 'running'
        ? { ...n, status: 'failed', finishedAt: now, error: 'interrupted' }
        : n.status === 'waiting'
          ? { ...n, status: 'skipped' }
          : n,
    ),
    error: {
      code: 'JOB_INTERRUPTED',
      message,
      context: {
        job: job.id,
        runBranch: job.runBranch,
        target: job.target,
        host: runner.host,
        pid: runner.pid,
      },
    },
  })
  await appendLog(lake, job.id, `failed: ${message}`)
  return { id: job.id, kind: 'run', status: 'failed', runBranch: job.runBranch }
}

async function settleOperation(
  lake: RunLake,
  job: OperationJobRecord,
  runner: ProcessIdentity,
): Promise<InterruptedJob> {
  const what =
    job.kind === 'import'
      ? `import ${job.id} into ${job.table ?? 'a table'} on ${job.target} was interrupted: ${who(runner)} ended before it answered (an import commits whole or not at all: the log of ${job.target} shows whether it did)`
      : `query ${job.id} was interrupted: ${who(runner)} ended before it answered`
  await putJob(lake.store, {
    ...job,
    status: 'failed',
    finishedAt: lake.clock.now(),
    error: {
      code: 'JOB_INTERRUPTED',
      message: what,
      context: { job: job.id, target: job.target, host: runner.host, pid: runner.pid },
    },
  })
  return { id: job.id, kind: job.kind, status: 'failed' }
}

/**
 * Settles the jobs whose record says `running` but whose process has certainly ended (see `processEnded`: only
 * processes of this host can be told apart): what a server does when it restarts on a lake after a crash, so no job
 * stays running for ever and no run branch of an unfinished run stays writable. Jobs of live processes, of other
 * hosts and records without a runner are left alone. Returns the jobs it settled.
 */
export async function settleInterruptedJobs(lake: RunLake): Promise<InterruptedJob[]> {
  const settled: InterruptedJob[] = []
  for (const job of await listAllJobs(lake.store, { status: 'running' })) {
    const runner = job.runner
    if (runner === undefined || !processEnded(runner)) continue
    settled.push(
      job.kind === 'run' ? await settleRun(lake, job, runner) : await settleOperation(lake, job, runner),
    )
  }
  return settled
}
