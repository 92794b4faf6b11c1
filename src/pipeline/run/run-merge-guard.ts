import { LANDED_JOB_PROPERTY, type MergeGuard } from '../../catalog/merge-guard.js'
import { TarnError } from '../../util/errors.js'

/** The commit property that marks a commit a run wrote on its run branch (and its landing merge) with the job. */
const RUN_JOB_PROPERTY = 'tarn.job_id'

/**
 * The merge guard the lake installs in its catalog: refuses (`RUN_INCOMPLETE`) a merge that would bring in commits
 * of a run that has not landed (a failed or unfinished run). Commits carrying `tarn.job_id` may reach another branch
 * only through their own run's landing merge (`merge(..., { job })`, marked `tarn.landed_job`), or through history
 * that already contains that landing. Walks only the incoming commits.
 */
export const runMergeGuard: MergeGuard = async ({ source, job, incoming }) => {
  const landed = new Set<string>()
  for (const c of await incoming()) {
    const landedJob = c.properties[LANDED_JOB_PROPERTY]
    if (landedJob !== undefined) landed.add(landedJob)
    const runJob = c.properties[RUN_JOB_PROPERTY]
    if (runJob !== undefined && runJob !== job && !landed.has(runJob)) {
      throw new TarnError(
        'RUN_INCOMPLETE',
        `${source} holds commits of run ${runJob}, which has not landed (failed or still running); they cannot be merged`,
        { source, job: runJob, commit: c.hash },
      )
    }
  }
}
