import type { ErrorCode } from '../../util/error-codes.js'
import { TarnError } from '../../util/errors.js'
import type { JobRecord, NodeRecord } from '../run/job-record.js'
import type { RunObserver } from '../run/run-observer.js'
import type { RunQueue } from './run-queue.js'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Follows a remote run until it lands or is sealed: node state changes go to the observer as the workers report
 * them. Returns the final job record when it succeeded; throws the run's error (as a local run does, with job id
 * and run branch) when it failed.
 */
export async function awaitRemoteRun(
  queue: RunQueue,
  jobId: string,
  observer?: RunObserver,
  pollMs = 250,
): Promise<JobRecord> {
  const seen = new Map<string, NodeRecord['status']>()
  for (;;) {
    const row = (await queue.pool.query('SELECT state, job FROM tarn_runs WHERE job_id = $1', [jobId]))
      .rows[0] as { state: string; job: JobRecord } | undefined
    if (!row) throw new TarnError('JOB_NOT_FOUND', `job ${jobId} is not a remote run`, { job: jobId })
    for (const n of row.job.nodes) {
      if (seen.get(n.id) === n.status || n.status === 'waiting') continue
      seen.set(n.id, n.status)
      await observer?.node?.({ ...n })
    }
    if (row.state === 'succeeded') {
      observer?.finished?.(row.job)
      return row.job
    }
    if (row.state === 'failed') {
      observer?.finished?.(row.job)
      const e = row.job.error
      throw new TarnError(
        (e?.code ?? 'RUN_FAILED') as ErrorCode,
        `run ${jobId} failed: ${e?.message ?? 'unknown error'} (run branch ${row.job.runBranch} is sealed; ${row.job.target} is untouched)`,
        { ...e?.context, job: jobId, runBranch: row.job.runBranch, target: row.job.target },
      )
    }
    await sleep(pollMs)
  }
}
