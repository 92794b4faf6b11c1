import type { Commit } from './types.js'

/**
 * What a {@link MergeGuard} is shown of a merge about to happen (after the up-to-date check, before anything moves).
 */
export interface MergeGuardRequest {
  /** The ref being merged, as the caller wrote it. */
  readonly source: string
  /** The branch merged into. */
  readonly into: string
  /** The job whose run this merge lands, when it is a landing (`merge(..., { job })`). */
  readonly job?: string
  /** The commits the merge would bring in, newest first (children before their parents); walked on first call. */
  readonly incoming: () => Promise<readonly Commit[]>
}

/**
 * A check the catalog runs before every merge (dry runs included); it refuses the merge by throwing a `TarnError`,
 * and then nothing changes. The catalog holds no policy of its own about which commits may be merged: the lake
 * installs the pipeline's (a run's commits land only through that run's own merge).
 */
export type MergeGuard = (request: MergeGuardRequest) => Promise<void>

/**
 * The commit property that marks a landing merge (`merge(..., { job })`) with the job it lands.
 */
export const LANDED_JOB_PROPERTY = 'tarn.landed_job'
