import type { RunLake } from './run-lake.js'

/** How far back the first-parent history of the target is searched for a landing whose answer was lost. */
const LANDING_SEARCH = 100

/**
 * The commit that landed `jobId` on `target`, when it exists among the target's latest first-parent commits: how a
 * run whose landing merge committed but whose answer was lost learns that it succeeded.
 */
export async function landedCommit(
  lake: RunLake,
  target: string,
  jobId: string,
): Promise<string | undefined> {
  try {
    let commit = await lake.catalog.getCommit((await lake.catalog.getBranch(target)).head)
    for (let i = 0; i < LANDING_SEARCH; i++) {
      if (commit.properties['tarn.landed_job'] === jobId) return commit.hash
      const parent = commit.parents[0]
      if (parent === undefined) return undefined
      commit = await lake.catalog.getCommit(parent)
    }
  } catch {
    // the catalog cannot tell now; the run is reported as failed
  }
  return undefined
}
