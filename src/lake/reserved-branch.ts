import { TarnError } from '../util/errors.js'

/** The branch prefix runs fork into (`run/<job-id>`); users cannot create or rename branches under it. */
export const RUN_BRANCH_PREFIX = 'run/'

/**
 * Refuses a branch name a user may not take: anything under `run/`, which runs own (`RESERVED_BRANCH_NAME`).
 */
export function refuseReservedBranchName(name: string): void {
  if (!name.startsWith(RUN_BRANCH_PREFIX)) return
  throw new TarnError(
    'RESERVED_BRANCH_NAME',
    `branch names under ${RUN_BRANCH_PREFIX} are reserved for pipeline runs: choose another name than ${JSON.stringify(name)}`,
    { branch: name, prefix: RUN_BRANCH_PREFIX },
  )
}
