import type { RecordBatch, Schema } from 'apache-arrow'
import type { LogOptions } from '../catalog/catalog.js'
import type { MergeResult, RevertPlan, RevertResult } from '../catalog/results.js'
import type { Commit, NamespaceState, RefInfo } from '../catalog/types.js'
import type { ExportOptions, ExportResult, QueryOptions, QueryPlan, QueryResult } from '../engine/index.js'
import type { PlannedProject } from '../pipeline/plan-project.js'
import type {
  AnyJobRecord,
  JobRecord,
  JobStatus,
  RerunOptions,
  RunOutcome,
  RunPipelineOptions,
} from '../pipeline/run/index.js'
import type { TarnError } from '../util/errors.js'
import type { GcOptions, GcReport } from './garbage-collector.js'
import type {
  CommitWithDiff,
  LakeInfo,
  PlanOptions,
  RefWithCommit,
  SealedBranchCleanup,
  TableDetails,
  TableEntry,
  TableWriteResult,
} from './lake.js'
import type { OperationEnd, OperationStart } from './operation-job.js'
import type { PrintFormat, TextSink } from './query-output.js'
import type { RefDiff } from './ref-diff.js'

/**
 * A query result that arrives as Apache Arrow record batches: the embedded engine's `QueryStream`, or the batches of
 * an Arrow IPC response read as they come off the wire. Iterate it to the end or call `close()` (which stops the
 * query: the embedded engine releases its DuckDB connection, the HTTP client aborts the request).
 *
 * @example
 * ```ts
 * const stream = await lake.stream('SELECT * FROM trips')
 * let rows = 0
 * for await (const batch of stream) rows += batch.numRows
 * ```
 */
export interface QueryBatches extends AsyncIterable<RecordBatch> {
  readonly plan: QueryPlan
  readonly schema: Schema
  close(): Promise<void>
}

/**
 * A namespace at a ref.
 *
 * @example
 * ```ts
 * const ns: NamespaceEntry = { namespace: 'sales', state: { properties: {} } }
 * ```
 */
export interface NamespaceEntry {
  readonly namespace: string
  readonly state: NamespaceState
}

/**
 * What planning a project returns through {@link LakeApi.plan}: the physical plan (DAG, scans, steps), the warnings
 * and the namespaces a run would create. Plain data apart from the warnings, which are `TarnError`s.
 *
 * @example
 * ```ts
 * const p: ProjectPlan = await lake.plan({ dir: 'examples/taxi' })
 * p.physical.steps.length
 * ```
 */
export type ProjectPlan = Pick<PlannedProject, 'physical' | 'warnings' | 'createsNamespaces'> & {
  readonly warnings: readonly TarnError[]
}

/**
 * Options of {@link LakeApi.printQuery}: the ref, the print format, and at most how many rows to print.
 *
 * @example
 * ```ts
 * const o: PrintQueryOptions = { ref: 'v1', format: 'csv' }
 * ```
 */
export interface PrintQueryOptions {
  readonly ref?: string
  readonly format: PrintFormat
  /** Rows to print; one more is read to tell whether there were more (default: all). */
  readonly limit?: number
}

/**
 * What {@link LakeApi.printQuery} tells besides the text: the commit the query read and, where known (embedded),
 * the rows printed and whether more were left unread.
 *
 * @example
 * ```ts
 * const p: PrintedQuery = { commit: head, rows: 10, more: true }
 * ```
 */
export interface PrintedQuery {
  readonly commit: string
  readonly rows?: number
  readonly more?: boolean
}

/**
 * Everything a client can do to a lake, as one contract. `Lake` (embedded: catalog and warehouse opened in this
 * process) and `RemoteLake` (the same operations over `tarn serve`'s HTTP API) both implement it and pass one
 * contract suite, so code written against `LakeApi` runs unchanged on a laptop or against a team server.
 *
 * Arguments and results are plain data (JSON-serialisable), except query results, which are Apache Arrow tables and
 * record-batch streams. Reads take a `ref` (branch, tag, `branch@hash`, `@hash`, `branch~N`, `branch*<time>`), writes
 * a `branch`; both default to the lake's active branch. Failures are `TarnError`s with the same stable codes either
 * way.
 *
 * @example
 * ```ts
 * async function publish(lake: LakeApi): Promise<void> {
 *   await lake.createBranch('alice.dev', { from: 'main' })
 *   await lake.createTable('orders', { from: 's3://bucket/orders/*.parquet', branch: 'alice.dev' })
 *   const { table } = await lake.query('SELECT count(*) AS n FROM orders', { ref: 'alice.dev' })
 *   if (Number(table.getChild('n')?.get(0)) > 0) await lake.merge('alice.dev', { into: 'main' })
 * }
 * await publish(await Lake.open())                                               // embedded
 * await publish(RemoteLake.connect({ url: 'http://lake:8181', apiKey: key }))    // over HTTP
 * ```
 */
export interface LakeApi {
  /** Version, lake location, catalog backend, warehouse, active branch, counts of branches and tags. */
  info(): Promise<LakeInfo>

  // ---------------------------------------------------------------- active branch
  /**
   * The branch reads and writes use when they name none (`main` in a new lake). Embedded it is stored in the lake
   * directory; a remote lake keeps its own on the client (the server's is not shared between clients).
   */
  activeBranch(): string
  /** Sets the active branch; with `create`, creates it first from `from` (default: the active branch). */
  checkout(branch: string, options?: { create?: boolean; from?: string }): Promise<RefInfo>
  /** Falls back to `main` when the active branch no longer exists, and returns the missing branch's name. */
  ensureActiveBranch(): Promise<string | undefined>

  // ---------------------------------------------------------------- branches and tags
  /** Every branch, sorted by name. */
  listBranches(): Promise<RefInfo[]>
  /** A branch with its head commit (`BRANCH_NOT_FOUND`). */
  getBranch(name: string): Promise<RefWithCommit>
  /** Creates a branch at `from` (default: the active branch); O(1), copies no data. */
  createBranch(name: string, options?: { from?: string }): Promise<RefInfo>
  /**
   * Deletes a branch; `force` also deletes the branch of a running or failed run, or the active branch (then the
   * active branch falls back to `main`, and `activeReset` says so).
   */
  deleteBranch(
    name: string,
    options?: { force?: boolean },
  ): Promise<RefInfo & { readonly activeReset?: boolean }>
  /** Renames a branch. */
  renameBranch(from: string, to: string): Promise<RefInfo>
  /** Protects a branch: it takes only merges, no direct commits, and cannot be deleted or renamed. */
  protectBranch(name: string): Promise<RefInfo>
  /** Lifts a branch's protection. */
  unprotectBranch(name: string): Promise<RefInfo>
  /** Names of the protected branches. */
  protectedBranches(): Promise<string[]>
  /** Every tag, sorted by name. */
  listTags(): Promise<RefInfo[]>
  /** Creates a tag (a pointer that never moves) at `from` (default: the active branch). */
  createTag(name: string, options?: { from?: string }): Promise<RefInfo>
  /** Deletes a tag. */
  deleteTag(name: string): Promise<RefInfo>

  // ---------------------------------------------------------------- history
  /**
   * Commit history from `ref` (default: the active branch), newest first; with `patch`, each commit with its diff
   * against its first parent (up to `rows` sample rows per table).
   */
  log(ref?: string, options?: LogOptions & { patch?: false }): Promise<Commit[]>
  log(
    ref: string | undefined,
    options: LogOptions & { patch: true; rows?: number },
  ): Promise<CommitWithDiff[]>
  /**
   * What `ref` changed since its merge base with `against` (default: the active branch), or with `twoWay` how the two
   * states differ; tables described from their Iceberg metadata, with up to `rows` sample rows.
   */
  diff(ref: string, against?: string, options?: { twoWay?: boolean; rows?: number }): Promise<RefDiff>
  /**
   * Merges `source` (any ref) into `into` (default: the active branch): fast-forward or three-way. A conflict throws
   * `MERGE_CONFLICT`; with `dryRun` nothing moves and a conflict comes back as `kind: 'conflict'`.
   */
  merge(source: string, options?: { into?: string; message?: string; dryRun?: boolean }): Promise<MergeResult>
  /**
   * Undoes a commit with a new commit on `on` (default: the active branch); `table` reverts one table only. With
   * `dryRun`, nothing is written and the result is the plan.
   */
  revert(
    commit: string,
    options?: { on?: string; table?: string; message?: string; dryRun?: false },
  ): Promise<RevertResult>
  revert(commit: string, options: { on?: string; table?: string; dryRun: true }): Promise<RevertPlan>
  /**
   * Deletes every sealed branch (failed runs' branches), optionally only those older than `olderThanMs`; the active
   * branch is kept. With `dryRun`, lists what would go.
   */
  deleteSealedBranches(options?: { olderThanMs?: number; dryRun?: boolean }): Promise<SealedBranchCleanup>

  // ---------------------------------------------------------------- namespaces and tables
  /** Namespaces at a ref. */
  listNamespaces(options?: { ref?: string }): Promise<NamespaceEntry[]>
  /** Creates a namespace on a branch; returns the commit. */
  createNamespace(
    name: string,
    options?: { branch?: string; properties?: Record<string, string>; message?: string },
  ): Promise<Commit>
  /** Drops an empty namespace on a branch; returns the commit. */
  dropNamespace(name: string, options?: { branch?: string; message?: string }): Promise<Commit>
  /** Tables at a ref, optionally of one namespace; with `stats`, each with its rows, data files and bytes. */
  listTables(options?: { ref?: string; namespace?: string; stats?: boolean }): Promise<TableEntry[]>
  /** Schema, partition spec, snapshots, record count and size of a table at a ref. */
  getTable(table: string, options?: { ref?: string }): Promise<TableDetails>
  /**
   * Creates a table on a branch from files (Parquet, CSV, JSON lines; paths, globs or `s3://` URIs, as the lake's
   * process sees them) with an optional partition spec (`day(ts), region`). One commit.
   */
  createTable(
    table: string,
    options: {
      from: string | readonly string[]
      partitionedBy?: string
      branch?: string
      cwd?: string
      message?: string
    },
  ): Promise<TableWriteResult>
  /**
   * Appends files to a table (or with `replace`, replaces its rows) as one commit; `evolveSchema` adds the files' new
   * columns and widens column types.
   */
  importTable(
    table: string,
    options: {
      from: string | readonly string[]
      branch?: string
      force?: boolean
      replace?: boolean
      evolveSchema?: boolean
      cwd?: string
      message?: string
    },
  ): Promise<TableWriteResult>
  /** Registers an existing Iceberg table by its metadata file, zero-copy (`tarn table create-external`). */
  registerTable(
    table: string,
    options: { metadata: string; allowMovedPaths?: boolean; branch?: string; cwd?: string; message?: string },
  ): Promise<TableWriteResult>
  /** Drops a table from a branch; returns the commit. */
  dropTable(table: string, options?: { branch?: string; message?: string }): Promise<Commit>

  // ---------------------------------------------------------------- queries
  /** Runs read-only SQL at a ref and returns the whole result as an Arrow table. */
  query(sql: string, options?: QueryOptions): Promise<QueryResult>
  /** Runs read-only SQL at a ref and streams Arrow record batches. */
  stream(sql: string, options?: QueryOptions): Promise<QueryBatches>
  /** The scan plan of a query without running it. */
  explain(sql: string, options?: QueryOptions): Promise<QueryPlan>
  /**
   * Prints a result the way `tarn query` does (DuckDB's spelling of values) to `sink` as it streams: an aligned
   * table, CSV, a JSON array or the `--json` document, reading at most `limit` rows (and one more).
   */
  printQuery(sql: string, options: PrintQueryOptions, sink: TextSink): Promise<PrintedQuery>
  /**
   * Writes a whole result to a local Parquet, CSV or JSON-lines file (`tarn query -o`); a remote lake downloads the
   * file the server wrote. The output's directory must exist, and the file must not unless `force`.
   */
  exportQuery(sql: string, options: ExportOptions): Promise<ExportResult>
  /** Writes a whole table at a ref to a local file, as {@link exportQuery} does for `SELECT * FROM <table>`. */
  exportTable(table: string, options: ExportOptions): Promise<ExportResult>

  // ---------------------------------------------------------------- runs and jobs
  /** Runs a pipeline project as one transaction on a run branch, merged only if everything succeeded. */
  run(options: RunPipelineOptions): Promise<RunOutcome>
  /** Re-executes a job's code snapshot on the data commit it read (or on `options.ref`). */
  rerun(jobId: string, options?: RerunOptions): Promise<RunOutcome>
  /** Plans a pipeline project at a ref without running anything (`tarn run --dry-run`). */
  plan(options: PlanOptions): Promise<ProjectPlan>
  /** Every pipeline run job, newest first. */
  listJobs(): Promise<JobRecord[]>
  /** Every job (runs, imports, queries), newest first; `status` keeps only those, `limit` the first n. */
  listAllJobs(options?: { limit?: number; status?: JobStatus }): Promise<AnyJobRecord[]>
  /** One run job record (`JOB_NOT_FOUND`). */
  getJob(id: string): Promise<JobRecord>
  /** Any job record (run, import or query) by id (`JOB_NOT_FOUND`). */
  getAnyJob(id: string): Promise<AnyJobRecord>
  /** The code snapshot of a run job: its project files by relative path. */
  jobCode(id: string): Promise<Record<string, string>>
  /** Writes a run job's code snapshot into a new or empty local directory; returns the paths written. */
  exportJobCode(id: string, dir: string): Promise<string[]>
  /**
   * Runs an import or a query as a job with a record (`tarn job ls` lists it). A remote lake runs `run` as is: the
   * server keeps no record of the calls it serves.
   */
  trackJob<T>(start: OperationStart, run: () => Promise<T>, end: (result: T) => OperationEnd): Promise<T>
  /** A job's log text. */
  jobLog(id: string): Promise<string>

  // ---------------------------------------------------------------- maintenance
  /** Deletes warehouse files no commit within retention can reach. */
  gc(options: GcOptions): Promise<GcReport>
  /** Releases what this handle holds (connections, engines). */
  close(): Promise<void>
}
