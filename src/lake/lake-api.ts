import type { RecordBatch, Schema } from 'apache-arrow'
import type { LogOptions } from '../catalog/catalog.js'
import type { MergeResult, RevertResult } from '../catalog/results.js'
import type { Commit, NamespaceState, RefInfo } from '../catalog/types.js'
import type { QueryOptions, QueryPlan, QueryResult } from '../engine/index.js'
import type { JobRecord, RerunOptions, RunOutcome, RunPipelineOptions } from '../pipeline/run/index.js'
import type { GcOptions, GcReport } from './garbage-collector.js'
import type { LakeInfo, RefWithCommit, TableDetails, TableEntry, TableWriteResult } from './lake.js'
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

  // ---------------------------------------------------------------- branches and tags
  /** Every branch, sorted by name. */
  listBranches(): Promise<RefInfo[]>
  /** A branch with its head commit (`BRANCH_NOT_FOUND`). */
  getBranch(name: string): Promise<RefWithCommit>
  /** Creates a branch at `from` (default: the active branch); O(1), copies no data. */
  createBranch(name: string, options?: { from?: string }): Promise<RefInfo>
  /** Deletes a branch; `force` also deletes the branch of a running or failed run. */
  deleteBranch(name: string, options?: { force?: boolean }): Promise<RefInfo>
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
  /** Commit history from `ref` (default: the active branch), newest first. */
  log(ref?: string, options?: LogOptions): Promise<Commit[]>
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
  /** Undoes a commit with a new commit on `on` (default: the active branch); `table` reverts one table only. */
  revert(commit: string, options?: { on?: string; table?: string; message?: string }): Promise<RevertResult>

  // ---------------------------------------------------------------- namespaces and tables
  /** Namespaces at a ref. */
  listNamespaces(options?: { ref?: string }): Promise<NamespaceEntry[]>
  /** Creates a namespace on a branch; returns the commit. */
  createNamespace(
    name: string,
    options?: { branch?: string; properties?: Record<string, string> },
  ): Promise<Commit>
  /** Drops an empty namespace on a branch; returns the commit. */
  dropNamespace(name: string, options?: { branch?: string; message?: string }): Promise<Commit>
  /** Tables at a ref, optionally of one namespace. */
  listTables(options?: { ref?: string; namespace?: string }): Promise<TableEntry[]>
  /** Schema, partition spec, snapshots, record count and size of a table at a ref. */
  getTable(table: string, options?: { ref?: string }): Promise<TableDetails>
  /**
   * Creates a table on a branch from files (Parquet, CSV, JSON lines; paths, globs or `s3://` URIs, as the lake's
   * process sees them) with an optional partition spec (`day(ts), region`). One commit.
   */
  createTable(
    table: string,
    options: { from: string | readonly string[]; partitionedBy?: string; branch?: string; cwd?: string },
  ): Promise<TableWriteResult>
  /** Appends files to a table (or with `replace`, replaces its rows) as one commit. */
  importTable(
    table: string,
    options: {
      from: string | readonly string[]
      branch?: string
      force?: boolean
      replace?: boolean
      cwd?: string
    },
  ): Promise<TableWriteResult>
  /** Registers an existing Iceberg table by its metadata file, zero-copy (`tarn table create-external`). */
  registerTable(
    table: string,
    options: { metadata: string; allowMovedPaths?: boolean; branch?: string; cwd?: string },
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

  // ---------------------------------------------------------------- runs and jobs
  /** Runs a pipeline project as one transaction on a run branch, merged only if everything succeeded. */
  run(options: RunPipelineOptions): Promise<RunOutcome>
  /** Re-executes a job's code snapshot on the data commit it read (or on `options.ref`). */
  rerun(jobId: string, options?: RerunOptions): Promise<RunOutcome>
  /** Every job, newest first. */
  listJobs(): Promise<JobRecord[]>
  /** One job record (`JOB_NOT_FOUND`). */
  getJob(id: string): Promise<JobRecord>
  /** A job's log text. */
  jobLog(id: string): Promise<string>

  // ---------------------------------------------------------------- maintenance
  /** Deletes warehouse files no commit within retention can reach. */
  gc(options: GcOptions): Promise<GcReport>
  /** Releases what this handle holds (connections, engines). */
  close(): Promise<void>
}
