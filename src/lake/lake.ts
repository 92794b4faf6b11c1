import { mkdirSync, readdirSync } from 'node:fs'
import { DEFAULT_NAMESPACE } from '../catalog/defaults.js'
import { assertIdentifier } from '../catalog/names.js'
import type { Commit, NamespaceState, TableState } from '../catalog/types.js'
import type { LoadedTable } from '../iceberg/table-loader.js'
import type { PlannedProject } from '../pipeline/plan-project.js'
import type { WorkerOptions, WorkerSummary } from '../pipeline/remote/run-worker.js'
import type { RemoteRunOptions } from '../pipeline/remote/submit-remote-run.js'
import { writeProjectFiles } from '../pipeline/run/code-files.js'
import type {
  AnyJobRecord,
  JobRecord,
  JobStatus,
  RerunOptions,
  RunObserver,
  RunOutcome,
  RunPipelineOptions,
} from '../pipeline/run/index.js'
import {
  getAnyJob,
  getCodeSnapshot,
  getJob,
  getJobLog,
  listAllJobs,
  listJobs,
} from '../pipeline/run/job-store.js'
import type { ScaffoldedProject } from '../pipeline/scaffold-project.js'
import type { RecordedJobs } from '../sim/job-trace.js'
import { TarnError } from '../util/errors.js'
import { collectGarbage, type GcOptions, type GcReport } from './garbage-collector.js'
import { IcebergCatalog } from './iceberg-catalog.js'
import { type InterruptedJob, settleInterruptedJobs } from './interrupted-jobs.js'
import type { LakeApi } from './lake-api.js'
import { connectLake, type LakeConnection, type LakeOptions } from './lake-connection.js'
import type { LakeHandle } from './lake-handle.js'
import { LakeRefs } from './lake-refs.js'
import { type OperationEnd, type OperationStart, trackOperation } from './operation-job.js'
import { TableOperations } from './table-operations.js'
import type { TableDetails, TableEntry, TableWriteResult } from './table-results.js'

export type { InterruptedJob } from './interrupted-jobs.js'
export type { LakeOptions } from './lake-connection.js'
export type { LakeInfo } from './lake-handle.js'
export type { CommitWithDiff, RefWithCommit } from './lake-refs.js'
export type { SealedBranchCleanup } from './sealed-branches.js'
export type { AppendRebase } from './table-operations.js'
export type { TableDetails, TableEntry, TableStats, TableWriteResult } from './table-results.js'

/**
 * What to plan: a project directory, the ref whose tables it reads (default: the active branch), parameters and a
 * selection.
 *
 * @example
 * ```ts
 * const o: PlanOptions = { dir: 'examples/taxi', ref: 'main', params: { min_fare: '2' }, select: ['+zone_stats'] }
 * ```
 */
export interface PlanOptions {
  readonly dir: string
  readonly ref?: string
  readonly params?: Readonly<Record<string, string>>
  readonly select?: readonly string[]
}

/**
 * A lake: one catalog plus one warehouse, opened on a home directory (embedded default) or on explicit catalog and
 * warehouse settings. The public SDK: one method per operation, returning plain typed values. The CLI is a thin
 * layer over it. Close it when done. A façade in three layers: `LakeHandle` (settings, active branch, queries),
 * `LakeRefs` (branches, tags, history) and this class (tables, runs, jobs); their work lives in their own modules.
 *
 * @example
 * ```ts
 * const lake = await Lake.init({ home: '/tmp/my-lake' })
 * await lake.createBranch('alice.dev')
 * await lake.createNamespace('sales', { branch: 'alice.dev' })
 * await lake.merge('alice.dev', { into: 'main' })
 * console.log(await lake.log('main', { limit: 5 }))
 * await lake.close()
 * ```
 */
export class Lake extends LakeRefs implements LakeApi {
  readonly #tables: TableOperations

  private constructor(connection: LakeConnection, root?: LakeHandle) {
    super(connection, root)
    this.#tables = new TableOperations(connection)
  }

  /**
   * A handle on the same open lake (same catalog, warehouse and query engine) whose commits carry `author`: the
   * server gives each API key's requests its own. Closing it releases nothing; close the lake it came from.
   *
   * @example
   * ```ts
   * const asAlice = lake.withAuthor('alice')
   * await asAlice.createNamespace('sales', { branch: 'alice.dev' }) // commit author: alice
   * ```
   */
  withAuthor(author: string): Lake {
    return new Lake({ ...this.connection, author }, this.root)
  }

  /**
   * The lake as an Iceberg catalog (namespaces, tables, Iceberg commits on tarn refs) whose commits carry this
   * handle's author: what the Iceberg REST catalog of `tarn serve` calls.
   *
   * @example
   * ```ts
   * const t = await lake.icebergCatalog().loadTable('main', 'sales.orders')
   * ```
   */
  icebergCatalog(): IcebergCatalog {
    return new IcebergCatalog({
      catalog: this.catalog,
      store: this.store,
      clock: this.clock,
      random: this.random,
      author: this.author,
      env: this.connection.env,
      metadataCache: this.metadataCache,
    })
  }

  /** Creates the lake if missing (idempotent) and opens it. */
  static async init(options: LakeOptions = {}): Promise<Lake> {
    return new Lake(await connectLake(options, true))
  }

  /** Opens an existing lake; `LAKE_NOT_FOUND` (with how to create one) when there is none. */
  static async open(options: LakeOptions = {}): Promise<Lake> {
    return new Lake(await connectLake(options, false))
  }

  /**
   * Scaffolds a pipeline project in a new or empty directory: `tarn_project.yml`, a SQL model, a TS model, an
   * expectation and a `tsconfig.json` for editors. Needs no open lake; `PROJECT_DIR_NOT_EMPTY` when `dir` holds
   * anything.
   *
   * @example
   * ```ts
   * const p = await Lake.newProject('./my-project')
   * p.files // ['tarn_project.yml', 'orders.sql', ...]
   * ```
   */
  static async newProject(dir: string): Promise<ScaffoldedProject> {
    const { scaffoldProject } = await import('../pipeline/scaffold-project.js')
    return scaffoldProject(dir)
  }

  // ---------------------------------------------------------------- namespaces and tables

  /** Namespaces at a ref (default: the active branch). */
  async listNamespaces(
    options: { ref?: string } = {},
  ): Promise<{ namespace: string; state: NamespaceState }[]> {
    const s = await this.catalog.state(options.ref ?? this.activeBranch())
    return Object.entries(s.namespaces).map(([namespace, state]) => ({ namespace, state }))
  }

  /** Creates a namespace on a branch (default: the active branch) and returns the commit. */
  createNamespace(
    name: string,
    options: { branch?: string; properties?: Record<string, string>; message?: string } = {},
  ): Promise<Commit> {
    assertIdentifier(name, 'namespace')
    return this.catalog.commit({
      branch: options.branch ?? this.activeBranch(),
      changes: [
        { type: 'createNamespace', name, ...(options.properties ? { properties: options.properties } : {}) },
      ],
      message: options.message ?? `Create namespace ${name}`,
      author: this.author,
    })
  }

  /** Drops an empty namespace on a branch (default: the active branch). */
  dropNamespace(name: string, options: { branch?: string; message?: string } = {}): Promise<Commit> {
    if (name === DEFAULT_NAMESPACE) {
      throw new TarnError(
        'INVALID_ARGUMENT',
        `the default namespace ${DEFAULT_NAMESPACE} cannot be dropped`,
        { namespace: name },
      )
    }
    return this.catalog.commit({
      branch: options.branch ?? this.activeBranch(),
      changes: [{ type: 'dropNamespace', name }],
      message: options.message ?? `Drop namespace ${name}`,
      author: this.author,
    })
  }

  /**
   * Tables at a ref (default: the active branch), optionally in one namespace; with `stats`, each with its rows,
   * data files and bytes (from its snapshot's summary, else from its manifests).
   *
   * @example
   * ```ts
   * for (const t of await lake.listTables({ stats: true })) console.log(t.table, t.stats?.rows)
   * ```
   */
  listTables(options: { ref?: string; namespace?: string; stats?: boolean } = {}): Promise<TableEntry[]> {
    const { ref, ...rest } = options
    return this.#tables.listTables(ref ?? this.activeBranch(), rest)
  }

  /** The Iceberg table behind a table key at a ref (or commit). */
  loadTable(
    table: string,
    options: { ref?: string } = {},
  ): Promise<{ loaded: LoadedTable; state: TableState }> {
    return this.#tables.loadTable(table, options.ref ?? this.activeBranch())
  }

  /** Schema, partition spec, snapshots, record count and size of a table at a ref (default: the active branch). */
  getTable(table: string, options: { ref?: string } = {}): Promise<TableDetails> {
    return this.#tables.getTable(table, options.ref ?? this.activeBranch())
  }

  /**
   * Creates a table on a branch from files (Parquet, CSV, JSON lines; local paths, globs or `s3://` URIs), with the
   * schema inferred from them and an optional partition spec (`day(ts), region`). One commit. Nothing is written
   * when a file is unreadable or its values do not fit the inferred schema.
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
  ): Promise<TableWriteResult> {
    return this.#tables.createTable(table, { ...options, branch: options.branch ?? this.activeBranch() })
  }

  /**
   * Appends files to a table on a branch as one commit; with `replace`, the files' rows replace the table's rows (an
   * Iceberg overwrite: same table, history kept). A file imported before (same location, size and time) is refused
   * unless `force` or `replace`; a file whose columns or values do not fit the table is refused naming file and column.
   * With `evolveSchema`, the files' new columns are added to the table (new field ids) and column types widened as
   * Iceberg allows, in place: the table keeps its uuid, location and snapshot history. An append that lost a race to
   * another append of the same table is rebased onto it and retried; a race with any other change is
   * `BRANCH_HEAD_CHANGED`.
   */
  importTable(
    table: string,
    options: {
      from: string | readonly string[]
      branch?: string
      force?: boolean
      replace?: boolean
      /** Add the files' new columns to the table and widen column types as Iceberg allows (int->long, ...). */
      evolveSchema?: boolean
      cwd?: string
      message?: string
    },
  ): Promise<TableWriteResult> {
    return this.#tables.importTable(table, { ...options, branch: options.branch ?? this.activeBranch() })
  }

  /**
   * Registers an existing Iceberg table (any engine's) by its metadata file, zero-copy. With `allowMovedPaths`, paths
   * under the recorded table location are read from the directory that holds the metadata now.
   */
  registerTable(
    table: string,
    options: { metadata: string; allowMovedPaths?: boolean; branch?: string; cwd?: string; message?: string },
  ): Promise<TableWriteResult> {
    return this.#tables.registerTable(table, { ...options, branch: options.branch ?? this.activeBranch() })
  }

  /** Drops a table from a branch (its files stay for other commits that reference them; GC removes the rest). */
  dropTable(table: string, options: { branch?: string; message?: string } = {}): Promise<Commit> {
    return this.#tables.dropTable(table, { ...options, branch: options.branch ?? this.activeBranch() })
  }

  // ---------------------------------------------------------------- pipelines and jobs

  /**
   * Runs a pipeline project as one transaction: forks the branch (default: the active branch) into a run branch,
   * materialises every model there, runs the expectations, and merges only if everything succeeded; on failure the
   * target is untouched and the run branch is sealed.
   */
  async run(options: RunPipelineOptions): Promise<RunOutcome> {
    const { runPipeline } = await import('../pipeline/run/run-pipeline.js')
    return runPipeline(this, options)
  }

  /**
   * Submits a run to the `tarn worker` processes of a lake with a PostgreSQL catalog (`NOT_SUPPORTED` otherwise):
   * planned, forked and recorded here, its nodes queued in the catalog's database at `priority` for `pool`'s workers,
   * which run them, land the run or seal it. With `wait` (default true) follows it to the end (node changes go to
   * the observer) and returns the final record, or throws the run's error; without, returns the running record.
   *
   * @example
   * ```ts
   * const job = await lake.runRemote({ dir: 'examples/taxi', priority: 'batch' })
   * console.log(job.id, job.status, job.mergeCommit)
   * ```
   */
  async runRemote(
    options: RemoteRunOptions & { readonly wait?: boolean; readonly observer?: RunObserver },
  ): Promise<JobRecord> {
    const [{ RunQueue }, { submitRemoteRun }, { awaitRemoteRun }] = await Promise.all([
      import('../pipeline/remote/run-queue.js'),
      import('../pipeline/remote/submit-remote-run.js'),
      import('../pipeline/remote/await-remote-run.js'),
    ])
    const queue = await RunQueue.open(this.config.catalogUrl)
    try {
      const job = await submitRemoteRun(this, queue, options)
      if (options.wait === false) return job
      return await awaitRemoteRun(queue, job.id, options.observer)
    } finally {
      await queue.close()
    }
  }

  /**
   * Runs this process as a worker of the lake's remote runs (PostgreSQL catalog) until `options.signal` aborts
   * (then drains): see `runWorker`.
   *
   * @example
   * ```ts
   * const drain = new AbortController()
   * process.once('SIGTERM', () => drain.abort())
   * const summary = await lake.worker({ pool: 'default', cpus: 2, memoryMb: 8192, signal: drain.signal })
   * ```
   */
  async worker(options: WorkerOptions = {}): Promise<WorkerSummary> {
    const [{ RunQueue }, { runWorker }] = await Promise.all([
      import('../pipeline/remote/run-queue.js'),
      import('../pipeline/remote/run-worker.js'),
    ])
    const queue = await RunQueue.open(this.config.catalogUrl, { supervise: true })
    try {
      return await runWorker(this, queue, options)
    } finally {
      await queue.close()
    }
  }

  /**
   * Plans a pipeline project against the lake at a ref (default: the active branch) without running anything: the
   * DAG, the scans with their pushed-down columns and filters, the steps, warnings and the namespaces a run would
   * create. Every project, parameter, selection, SQL, TS and Python error is thrown here, as a run would.
   *
   * @example
   * ```ts
   * const planned = await lake.plan({ dir: 'examples/taxi', select: ['trips_clean+'] })
   * planned.physical.steps.map((s) => s.id)
   * ```
   */
  async plan(options: PlanOptions): Promise<PlannedProject> {
    const [{ planProject }, { planLakeStateAt }] = await Promise.all([
      import('../pipeline/plan-project.js'),
      import('../pipeline/run/plan-lake-state.js'),
    ])
    const ref = options.ref ?? this.activeBranch()
    const { commit } = await this.catalog.resolve(ref)
    return planProject(options.dir, {
      ...(options.params ? { params: options.params } : {}),
      ...(options.select ? { select: [...options.select] } : {}),
      ref,
      lake: (tables, namespaces) => planLakeStateAt(this, commit, tables, namespaces),
    })
  }

  /** Re-executes a job's code snapshot on the data commit it read (or on `options.ref`). */
  async rerun(jobId: string, options: RerunOptions = {}): Promise<RunOutcome> {
    const { rerunJob } = await import('../pipeline/run/rerun.js')
    return rerunJob(this, jobId, options)
  }

  /**
   * The run jobs started at or after `sinceMs` as the simulator replays them (`tarn sim run --from-jobs`): the runs
   * `tarn worker` processes executed (from the queue's execution records in the PostgreSQL catalog) with those
   * workers, or, when there are none, the runs executed locally (from their job records' node timings).
   */
  async recordedJobs(sinceMs = 0): Promise<RecordedJobs> {
    const [{ readExecutionRecords }, { localRecordedJobs, remoteRecordedJobs }] = await Promise.all([
      import('../pipeline/remote/execution-records.js'),
      import('./recorded-jobs.js'),
    ])
    const remote = await readExecutionRecords(this.config.catalogUrl, sinceMs)
    if (remote.runs.length > 0) return remoteRecordedJobs(remote)
    return localRecordedJobs(await listJobs(this.store), sinceMs)
  }

  /** Every pipeline run job, newest first. */
  listJobs(): Promise<JobRecord[]> {
    return listJobs(this.store)
  }

  /**
   * Every job (runs, imports and CLI queries), newest first; `status` keeps only those, `limit` the first n.
   *
   * @example
   * ```ts
   * const failed = await lake.listAllJobs({ status: 'failed', limit: 10 })
   * ```
   */
  listAllJobs(options: { limit?: number; status?: JobStatus } = {}): Promise<AnyJobRecord[]> {
    return listAllJobs(this.store, options)
  }

  /**
   * Any job record (run, import or query) by id; `JOB_NOT_FOUND` when there is none.
   *
   * @example
   * ```ts
   * const j = await lake.getAnyJob('query-1a2b3c4d5e6f'); j.kind // 'query'
   * ```
   */
  getAnyJob(id: string): Promise<AnyJobRecord> {
    return getAnyJob(this.store, id)
  }

  /**
   * Runs an import or a query as a job with a record under `_tarn/jobs/` (kind, status, timings, what it read or
   * wrote), listed by {@link listAllJobs}. The CLI wraps its imports and queries in it.
   *
   * @example
   * ```ts
   * await lake.trackJob({ kind: 'import', target: 'main', table: 'orders' },
   *   () => lake.importTable('orders', { from: 'o.csv' }), (r) => ({ dataCommit: r.commit.hash, rows: r.addedRecords }))
   * ```
   */
  trackJob<T>(start: OperationStart, run: () => Promise<T>, end: (result: T) => OperationEnd): Promise<T> {
    return trackOperation(this.store, this, start, run, end)
  }

  /**
   * Writes the code snapshot of a run job into `dir` (created when missing), which must be empty: the project files
   * exactly as that run saw them. Returns the paths written, relative to `dir`.
   *
   * @example
   * ```ts
   * await lake.exportJobCode('job-1a2b3c4d5e6f', './job-code')
   * ```
   */
  async exportJobCode(id: string, dir: string): Promise<string[]> {
    const job = await this.getJob(id)
    const { files } = await getCodeSnapshot(this.store, job.codeHash)
    let existing: string[] = []
    try {
      existing = readdirSync(dir)
    } catch {
      existing = []
    }
    if (existing.length > 0) {
      throw new TarnError('INVALID_ARGUMENT', `${dir} is not empty; give an empty or new directory`, {
        dir,
        job: id,
      })
    }
    mkdirSync(dir, { recursive: true })
    await writeProjectFiles(dir, files)
    return Object.keys(files).sort()
  }

  /**
   * The code snapshot of a run job: its project files by relative path.
   *
   * @example
   * ```ts
   * Object.keys(await lake.jobCode('job-1a2b3c4d5e6f')) // ['tarn_project.yml', 'orders.sql']
   * ```
   */
  async jobCode(id: string): Promise<Record<string, string>> {
    const job = await this.getJob(id)
    return { ...(await getCodeSnapshot(this.store, job.codeHash)).files }
  }

  /** One job record. */
  getJob(id: string): Promise<JobRecord> {
    return getJob(this.store, id)
  }

  /** A job's log. */
  jobLog(id: string): Promise<string> {
    return getJobLog(this.store, id)
  }

  /**
   * Settles the jobs whose record says `running` although their process (on this host) has ended: a run is marked
   * failed (`JOB_INTERRUPTED`) with its run branch sealed, or succeeded when its landing merge had committed; an
   * import or query is marked failed. `tarn serve` calls it when it starts. Returns the jobs it settled.
   */
  settleInterruptedJobs(): Promise<InterruptedJob[]> {
    return settleInterruptedJobs(this)
  }

  /** Deletes warehouse files no commit within retention can reach (see {@link collectGarbage}). */
  gc(options: GcOptions): Promise<GcReport> {
    return collectGarbage(this.catalog, this.store, this.clock, options)
  }
}
