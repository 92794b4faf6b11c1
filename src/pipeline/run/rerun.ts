import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeProjectFiles } from './code-files.js'
import { getCodeSnapshot, getJob } from './job-store.js'
import type { RunLake } from './run-lake.js'
import type { RunObserver } from './run-observer.js'
import { type RunOutcome, runPipeline } from './run-pipeline.js'

/**
 * Options of {@link rerunJob}.
 */
export interface RerunOptions {
  /** Read this ref instead of the job's data commit. */
  readonly ref?: string
  readonly observer?: RunObserver
  /** Message of the commit that lands the rerun. */
  readonly message?: string
}

/**
 * Re-executes a job: restores its code snapshot into a temporary directory and runs it with the same parameters
 * and selection on the same branch, reading the job's data commit (or `ref`). A new job, `rerunOf` the old one.
 *
 * @example
 * ```ts
 * const { job } = await rerunJob(lake, 'job-1a2b3c4d5e6f')
 * ```
 */
export async function rerunJob(
  lake: RunLake,
  jobId: string,
  options: RerunOptions = {},
): Promise<RunOutcome> {
  const old = await getJob(lake.store, jobId)
  const snapshot = await getCodeSnapshot(lake.store, old.codeHash)
  const dir = await mkdtemp(join(tmpdir(), `tarn-rerun-${jobId}-`))
  try {
    await writeProjectFiles(dir, snapshot.files)
    return await runPipeline(lake, {
      dir,
      branch: old.target,
      params: old.params,
      ...(old.select ? { select: old.select } : {}),
      strict: old.strict,
      dataRef: options.ref ?? `@${old.dataCommit}`,
      rerunOf: old.id,
      ...(options.observer ? { observer: options.observer } : {}),
      ...(options.message !== undefined ? { message: options.message } : {}),
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
