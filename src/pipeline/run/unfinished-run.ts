import type { Catalog } from '../../catalog/catalog.js'
import type { Commit } from '../../catalog/types.js'
import type { ObjectStore } from '../../storage/object-store.js'
import { getJob } from './job-store.js'

/**
 * The id of the run whose partial result `commit` shows, or undefined: a commit a run wrote on its run branch
 * (`tarn.job_id`) while that run is still running, has failed, or landed from a later commit of its branch. A branch
 * forked at such a commit is a sealed, read-only copy, so nothing can build on part of a run. A commit that shows a
 * whole landed run (its landing merge, or the last commit the landing merged) is not partial. A run commit can only
 * be the head of a run branch, of a sealed copy, or of a tag, so looking at the commit itself is enough (O(1)).
 */
export async function unfinishedRunAt(
  catalog: Catalog,
  store: ObjectStore,
  commit: Commit,
): Promise<string | undefined> {
  const jobId = commit.properties['tarn.job_id']
  if (jobId === undefined || commit.properties['tarn.landed_job'] === jobId) return undefined
  const job = await getJob(store, jobId).catch(() => undefined)
  if (job === undefined || job.status !== 'succeeded' || job.mergeCommit === null) return jobId
  const landing = await catalog.getCommit(job.mergeCommit).catch(() => undefined)
  return landing?.parents[1] === commit.hash ? undefined : jobId
}
