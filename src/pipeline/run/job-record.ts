import type { ProcessIdentity } from '../../util/process-identity.js'

/**
 * The state of one node (scan, model, materialisation or expectation) of a job.
 *
 * @example
 * ```ts
 * const n: NodeRecord = { id: 'model:trips_clean', kind: 'model', name: 'trips_clean', status: 'done', rows: 10, startedAt: 1, finishedAt: 2, error: null }
 * ```
 */
export interface NodeRecord {
  readonly id: string
  readonly kind: 'scan' | 'model' | 'materialize' | 'expectation'
  readonly name: string
  /** The ids of the nodes this one waits for (absent in records written before the web UI drew the DAG). */
  readonly dependsOn?: readonly string[]
  /** Models: the language they are written in. */
  readonly language?: 'sql' | 'ts' | 'py'
  readonly status: 'waiting' | 'running' | 'done' | 'failed' | 'skipped'
  readonly rows: number | null
  readonly startedAt: number | null
  readonly finishedAt: number | null
  readonly error: string | null
  /** Scans: what the run read of the table (absent in records written before scans were pruned). */
  readonly scan?: ScanRecord
  /**
   * SQL models evaluated inside the input query of their one TS reader (this step id) rather than on their own: no
   * rows of their own are counted (see `PlanStep.fusedInto`).
   */
  readonly fusedInto?: string
}

/**
 * What a run's scan read of its table: data files and their bytes kept of the snapshot's live data files after
 * pruning by the scan's pushed-down filter, the columns it selected (`null`: all) and that filter.
 */
export interface ScanRecord {
  readonly filesKept: number
  readonly filesTotal: number
  readonly bytesKept: number
  readonly bytesTotal: number
  readonly columns: readonly string[] | null
  /** The scan's filter as planned (SQL), or null. */
  readonly filter: string | null
  /** True when (part of) the filter pruned files by partition values or column bounds. */
  readonly pushedFilter: boolean
}

/**
 * Status of a job.
 */
export type JobStatus = 'running' | 'succeeded' | 'failed'

/**
 * One execution of a pipeline run, as stored in `_tarn/jobs/<id>.json`: plain data.
 *
 * @example
 * ```ts
 * const job: JobRecord = await readJob(lake.store, 'job-1a2b3c4d5e6f')
 * job.status
 * ```
 */
export interface JobRecord {
  readonly id: string
  readonly kind: 'run'
  readonly status: JobStatus
  readonly project: string
  /** The branch the run merges into. */
  readonly target: string
  /** The branch it materialises on: `run/<id>`. */
  readonly runBranch: string
  /** The commit whose tables the run read. */
  readonly dataCommit: string
  /** The branch head the run branch was forked from (the data commit, except for reruns and `-r`). */
  readonly baseCommit: string
  /** SHA-256 of the code snapshot (`_tarn/code/<hash>.json`). */
  readonly codeHash: string
  readonly params: Readonly<Record<string, string | number | boolean>>
  readonly select: readonly string[] | null
  readonly strict: boolean
  /** The job this one re-executes, if any. */
  readonly rerunOf: string | null
  readonly author: string
  /**
   * The process that runs the job, merges or seals it (absent in records written before it was recorded): a server
   * restarting on the lake reports a running job whose process ended as interrupted.
   */
  readonly runner?: ProcessIdentity
  readonly startedAt: number
  readonly finishedAt: number | null
  readonly nodes: readonly NodeRecord[]
  /** Output table → rows written. */
  readonly tables: Readonly<Record<string, number>>
  /** The target's head after the merge. */
  readonly mergeCommit: string | null
  readonly warnings: readonly string[]
  readonly error: {
    readonly code: string
    readonly message: string
    readonly context: Readonly<Record<string, unknown>>
  } | null
}

/**
 * One import or CLI query, as stored in `_tarn/jobs/<id>.json` next to the run jobs (ids `import-…` and `query-…`):
 * what it read or wrote, how many rows, when, and how it ended. Plain data.
 */
export interface OperationJobRecord {
  readonly id: string
  readonly kind: 'import' | 'query'
  readonly status: JobStatus
  /** The branch an import writes, or the ref a query reads. */
  readonly target: string
  /** The commit a query read, or the commit an import made (null until known). */
  readonly dataCommit: string | null
  /** The table an import writes. */
  readonly table: string | null
  /** The SQL of a query. */
  readonly sql: string | null
  /** The files an import read. */
  readonly files: readonly string[]
  /** Rows imported, or rows a query returned. */
  readonly rows: number | null
  readonly author: string
  /** The process that runs it (absent in records written before it was recorded). */
  readonly runner?: ProcessIdentity
  readonly startedAt: number
  readonly finishedAt: number | null
  readonly error: {
    readonly code: string
    readonly message: string
    readonly context: Readonly<Record<string, unknown>>
  } | null
}

/**
 * Any job record: a pipeline run, an import or a query.
 */
export type AnyJobRecord = JobRecord | OperationJobRecord
