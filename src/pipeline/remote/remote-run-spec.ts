import type { Priority } from '../../runtime/scheduler/policy.js'
import type { JobRecord } from '../run/job-record.js'

/**
 * What a worker needs to run any node of a remote run, as plain data (stored with the run in the queue's tables):
 * the job, its branches and data commit, the code snapshot the project is rebuilt from, how it was planned, and how
 * it is scheduled.
 */
export interface RemoteRunSpec {
  readonly jobId: string
  readonly project: string
  readonly target: string
  readonly runBranch: string
  readonly dataCommit: string
  readonly baseCommit: string
  readonly codeHash: string
  readonly params: JobRecord['params']
  readonly select: readonly string[] | null
  readonly strict: boolean
  /** Message of the landing merge, or null for the default. */
  readonly message: string | null
  readonly author: string
  readonly priority: Priority
  readonly pool: string
}

/**
 * The data of one queued node execution.
 */
export interface NodeJobData {
  readonly jobId: string
  readonly task: string
  /** A TS model's heap limit after an out-of-memory retry, or null for its declared one. */
  readonly memoryMb: number | null
}

/**
 * The data of one landing (or sealing) job.
 */
export interface LandJobData {
  readonly jobId: string
}
