import { readdir } from 'node:fs/promises'
import { type RecordBatch, Table } from 'apache-arrow'
import type { LogOptions } from '../catalog/catalog.js'
import { parseTableKey } from '../catalog/names.js'
import type { MergeResult, RevertPlan, RevertResult } from '../catalog/results.js'
import type { Commit, RefInfo } from '../catalog/types.js'
import { quoteIdent } from '../duckdb/sql-quote.js'
import {
  type ExportOptions,
  type ExportResult,
  type QueryOptions,
  type QueryPlan,
  QueryResult,
} from '../engine/index.js'
import type { GcOptions, GcReport } from '../lake/garbage-collector.js'
import type {
  CommitWithDiff,
  LakeInfo,
  PlanOptions,
  RefWithCommit,
  SealedBranchCleanup,
  TableDetails,
  TableEntry,
  TableWriteResult,
} from '../lake/lake.js'
import type {
  LakeApi,
  NamespaceEntry,
  PrintedQuery,
  PrintQueryOptions,
  ProjectPlan,
  QueryBatches,
} from '../lake/lake-api.js'
import type { OperationEnd, OperationStart } from '../lake/operation-job.js'
import type { TextSink } from '../lake/query-output.js'
import type { RefDiff } from '../lake/ref-diff.js'
import { refuseReservedBranchName } from '../lake/reserved-branch.js'
import { writeProjectFiles } from '../pipeline/run/code-files.js'
import type {
  AnyJobRecord,
  JobRecord,
  JobStatus,
  RerunOptions,
  RunOutcome,
  RunPipelineOptions,
} from '../pipeline/run/index.js'
import { isErrorCode, TarnError } from '../util/errors.js'
import { HttpTransport, seg } from './http-transport.js'
import { absoluteSources, projectUpload } from './local-files.js'
import { openQueryStream } from './query-stream.js'
import { downloadExport } from './remote-export.js'

const DEFAULT_BRANCH = 'main'

/**
 * Where a {@link RemoteLake} connects: the server's base URL and an API key (`<id>.<secret>` from `tarn key create`;
 * none for an open loopback server).
 *
 * @example
 * ```ts
 * const o: RemoteLakeOptions = { url: 'http://127.0.0.1:8181', apiKey: secret }
 * ```
 */
export interface RemoteLakeOptions {
  readonly url: string
  readonly apiKey?: string
  /** The client's active branch: what reads and writes use when they name none (default `main`). */
  readonly activeBranch?: string
  /** Called when the active branch changes (`checkout`, a rename or forced delete of it), to keep it somewhere. */
  readonly onCheckout?: (branch: string) => void
}

/**
 * The {@link LakeApi} of a lake served by `tarn serve`, over HTTP: the same operations, plain-data results and
 * `TarnError` codes as the embedded `Lake`. Query results arrive as Arrow IPC: `query` collects an Arrow table,
 * `stream` yields record batches as they come off the wire, and closing the stream aborts the request (which stops
 * the query on the server). `run` and `plan` send the project's files (the ones a code snapshot keeps) and the
 * run's progress comes back as JSON lines, replayed into the caller's observer. The active branch is the client's own
 * (`activeBranch`, kept by `onCheckout`): every call that names no ref or branch sends it.
 *
 * @example
 * ```ts
 * const lake = RemoteLake.connect({ url: 'http://127.0.0.1:8181', apiKey: secret })
 * await lake.createBranch('alice.dev', { from: 'main' })
 * const { table } = await lake.query('SELECT count(*) AS n FROM orders', { ref: 'alice.dev' })
 * const { job } = await lake.run({ dir: './my-project', branch: 'alice.dev', observer: { node: (n) => console.log(n.id) } })
 * ```
 */
export class RemoteLake implements LakeApi {
  readonly url: string
  readonly #http: HttpTransport
  readonly #open = new Set<AbortController>()
  readonly #onCheckout: ((branch: string) => void) | undefined
  #active: string

  private constructor(options: RemoteLakeOptions) {
    this.#http = new HttpTransport(options.url, options.apiKey)
    this.url = this.#http.url
    this.#active = options.activeBranch ?? DEFAULT_BRANCH
    this.#onCheckout = options.onCheckout
  }

  #setActive(branch: string): void {
    this.#active = branch
    this.#onCheckout?.(branch)
  }

  /** A client of the server at `url` (no request is made until the first call). */
  static connect(options: RemoteLakeOptions): RemoteLake {
    return new RemoteLake(options)
  }

  async info(): Promise<LakeInfo> {
    return { ...(await this.#http.json<LakeInfo>('GET', '/info')), activeBranch: this.#active }
  }

  activeBranch(): string {
    return this.#active
  }

  async checkout(branch: string, options: { create?: boolean; from?: string } = {}): Promise<RefInfo> {
    let ref: RefInfo
    if (options.create) {
      refuseReservedBranchName(branch)
      ref = await this.createBranch(branch, { from: options.from ?? this.#active })
    } else {
      const { commit: _commit, ...info } = await this.getBranch(branch)
      ref = info
    }
    this.#setActive(branch)
    return ref
  }

  async ensureActiveBranch(): Promise<string | undefined> {
    const active = this.#active
    if (active === DEFAULT_BRANCH) return undefined
    try {
      await this.getBranch(active)
      return undefined
    } catch (e) {
      if (!(e instanceof TarnError) || e.code !== 'BRANCH_NOT_FOUND') throw e
    }
    this.#setActive(DEFAULT_BRANCH)
    return active
  }

  async listBranches(): Promise<RefInfo[]> {
    return (await this.#http.json<{ branches: RefInfo[] }>('GET', '/branches')).branches
  }

  async getBranch(name: string): Promise<RefWithCommit> {
    return (await this.#http.json<{ branch: RefWithCommit }>('GET', `/branches/${seg(name)}`)).branch
  }

  async createBranch(name: string, options: { from?: string } = {}): Promise<RefInfo> {
    const body = { name, from: options.from ?? this.#active }
    return (await this.#http.json<{ branch: RefInfo }>('POST', '/branches', { body })).branch
  }

  async deleteBranch(
    name: string,
    options: { force?: boolean } = {},
  ): Promise<RefInfo & { readonly activeReset?: boolean }> {
    const active = this.#active === name && name !== DEFAULT_BRANCH
    if (active && options.force !== true) {
      await this.getBranch(name)
      throw new TarnError(
        'BRANCH_ACTIVE',
        `branch ${name} is the active branch; \`tarn checkout\` another branch first (--force deletes it and switches to ${DEFAULT_BRANCH})`,
        { branch: name },
      )
    }
    const query = options.force ? { force: true } : {}
    const ref = (await this.#http.json<{ deleted: RefInfo }>('DELETE', `/branches/${seg(name)}`, { query }))
      .deleted
    if (!active) return ref
    this.#setActive(DEFAULT_BRANCH)
    return { ...ref, activeReset: true }
  }

  async renameBranch(from: string, to: string): Promise<RefInfo> {
    const ref = (
      await this.#http.json<{ branch: RefInfo }>('POST', `/branches/${seg(from)}/rename`, { body: { to } })
    ).branch
    if (this.#active === from) this.#setActive(to)
    return ref
  }

  async protectBranch(name: string): Promise<RefInfo> {
    return (await this.#http.json<{ branch: RefInfo }>('PUT', `/branches/${seg(name)}/protection`)).branch
  }

  async unprotectBranch(name: string): Promise<RefInfo> {
    return (await this.#http.json<{ branch: RefInfo }>('DELETE', `/branches/${seg(name)}/protection`)).branch
  }

  async protectedBranches(): Promise<string[]> {
    return (await this.#http.json<{ branches: string[] }>('GET', '/protected-branches')).branches
  }

  async listTags(): Promise<RefInfo[]> {
    return (await this.#http.json<{ tags: RefInfo[] }>('GET', '/tags')).tags
  }

  async createTag(name: string, options: { from?: string } = {}): Promise<RefInfo> {
    const body = { name, from: options.from ?? this.#active }
    return (await this.#http.json<{ tag: RefInfo }>('POST', '/tags', { body })).tag
  }

  async deleteTag(name: string): Promise<RefInfo> {
    return (await this.#http.json<{ deleted: RefInfo }>('DELETE', `/tags/${seg(name)}`)).deleted
  }

  log(ref?: string, options?: LogOptions & { patch?: false }): Promise<Commit[]>
  log(
    ref: string | undefined,
    options: LogOptions & { patch: true; rows?: number },
  ): Promise<CommitWithDiff[]>
  async log(
    ref?: string,
    options: LogOptions & { patch?: boolean; rows?: number } = {},
  ): Promise<Commit[] | CommitWithDiff[]> {
    const p = options.property
    const query = {
      ref: ref ?? this.#active,
      n: options.limit,
      message: options.message,
      author: options.author,
      property: p === undefined ? undefined : p.value === undefined ? p.key : `${p.key}=${p.value}`,
      first_parent: options.firstParent,
      patch: options.patch,
      rows: options.rows,
    }
    return (await this.#http.json<{ commits: CommitWithDiff[] }>('GET', '/log', { query })).commits
  }

  diff(ref: string, against?: string, options: { twoWay?: boolean; rows?: number } = {}): Promise<RefDiff> {
    return this.#http.json('GET', '/diff', {
      query: { ref, against: against ?? this.#active, two_way: options.twoWay, rows: options.rows },
    })
  }

  merge(
    source: string,
    options: { into?: string; message?: string; dryRun?: boolean } = {},
  ): Promise<MergeResult> {
    const body = { into: options.into ?? this.#active, message: options.message, dry_run: options.dryRun }
    return this.#http.json('POST', `/branches/${seg(source)}/merge`, { body })
  }

  revert(
    commit: string,
    options?: { on?: string; table?: string; message?: string; dryRun?: false },
  ): Promise<RevertResult>
  revert(commit: string, options: { on?: string; table?: string; dryRun: true }): Promise<RevertPlan>
  revert(
    commit: string,
    options: { on?: string; table?: string; message?: string; dryRun?: boolean } = {},
  ): Promise<RevertResult | RevertPlan> {
    const { dryRun, ...rest } = options
    const body = { commit, ...rest, on: options.on ?? this.#active, dry_run: dryRun }
    return this.#http.json('POST', '/revert', { body })
  }

  async deleteSealedBranches(
    options: { olderThanMs?: number; dryRun?: boolean } = {},
  ): Promise<SealedBranchCleanup> {
    const query = { older_than_ms: options.olderThanMs, dry_run: options.dryRun }
    return this.#http.json('DELETE', '/sealed-branches', { query })
  }

  async listNamespaces(options: { ref?: string } = {}): Promise<NamespaceEntry[]> {
    const query = { ref: options.ref ?? this.#active }
    return (await this.#http.json<{ namespaces: NamespaceEntry[] }>('GET', '/namespaces', { query }))
      .namespaces
  }

  async createNamespace(
    name: string,
    options: { branch?: string; properties?: Record<string, string>; message?: string } = {},
  ): Promise<Commit> {
    const body = { name, ...options, branch: options.branch ?? this.#active }
    return (await this.#http.json<{ commit: Commit }>('POST', '/namespaces', { body })).commit
  }

  async dropNamespace(name: string, options: { branch?: string; message?: string } = {}): Promise<Commit> {
    const query = { ...options, branch: options.branch ?? this.#active }
    return (await this.#http.json<{ commit: Commit }>('DELETE', `/namespaces/${seg(name)}`, { query })).commit
  }

  async listTables(
    options: { ref?: string; namespace?: string; stats?: boolean } = {},
  ): Promise<TableEntry[]> {
    const query = { ...options, ref: options.ref ?? this.#active }
    return (await this.#http.json<{ tables: TableEntry[] }>('GET', '/tables', { query })).tables
  }

  async getTable(table: string, options: { ref?: string } = {}): Promise<TableDetails> {
    const query = { ref: options.ref ?? this.#active }
    return (await this.#http.json<{ table: TableDetails }>('GET', `/tables/${seg(table)}`, { query })).table
  }

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
    const body = {
      table,
      from: absoluteSources(options.from, options.cwd),
      partitioned_by: options.partitionedBy,
      branch: options.branch ?? this.#active,
      message: options.message,
    }
    return this.#http.json('POST', '/tables', { body })
  }

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
  ): Promise<TableWriteResult> {
    const body = {
      from: absoluteSources(options.from, options.cwd),
      branch: options.branch ?? this.#active,
      force: options.force,
      replace: options.replace,
      evolve_schema: options.evolveSchema,
      message: options.message,
    }
    return this.#http.json('POST', `/tables/${seg(table)}/import`, { body })
  }

  registerTable(
    table: string,
    options: { metadata: string; allowMovedPaths?: boolean; branch?: string; cwd?: string; message?: string },
  ): Promise<TableWriteResult> {
    const body = {
      metadata: absoluteSources(options.metadata, options.cwd)[0],
      allow_moved_paths: options.allowMovedPaths,
      branch: options.branch ?? this.#active,
      message: options.message,
    }
    return this.#http.json('POST', `/tables/${seg(table)}/register`, { body })
  }

  async dropTable(table: string, options: { branch?: string; message?: string } = {}): Promise<Commit> {
    const query = { ...options, branch: options.branch ?? this.#active }
    return (await this.#http.json<{ commit: Commit }>('DELETE', `/tables/${seg(table)}`, { query })).commit
  }

  async query(sql: string, options: QueryOptions = {}): Promise<QueryResult> {
    const stream = await this.stream(sql, options)
    const batches: RecordBatch[] = []
    try {
      for await (const b of stream) batches.push(b)
    } finally {
      await stream.close()
    }
    return new QueryResult(stream.plan, batches.length > 0 ? new Table(batches) : new Table(stream.schema))
  }

  stream(sql: string, options: QueryOptions = {}): Promise<QueryBatches> {
    const body = { sql, ref: options.ref ?? this.#active, batch_rows: options.batchRows }
    return openQueryStream(this.#http, body, options.signal, this.#open)
  }

  async explain(sql: string, options: QueryOptions = {}): Promise<QueryPlan> {
    const body = { sql, ref: options.ref ?? this.#active }
    return (await this.#http.json<{ plan: QueryPlan }>('POST', '/explain', { body })).plan
  }

  async printQuery(sql: string, options: PrintQueryOptions, sink: TextSink): Promise<PrintedQuery> {
    const body = { sql, ref: options.ref ?? this.#active, format: options.format, limit: options.limit }
    const res = await this.#http.text('POST', '/query/text', { body }, sink)
    return { commit: res.headers.get('x-tarn-commit') ?? '' }
  }

  exportQuery(sql: string, options: ExportOptions): Promise<ExportResult> {
    return downloadExport(this.#http, sql, options.ref ?? this.#active, options)
  }

  exportTable(table: string, options: ExportOptions): Promise<ExportResult> {
    const key = parseTableKey(table)
    const dot = key.key.indexOf('.')
    const sql = `SELECT * FROM ${quoteIdent(key.key.slice(0, dot))}.${quoteIdent(key.key.slice(dot + 1))}`
    return this.exportQuery(sql, options)
  }

  async run(options: RunPipelineOptions): Promise<RunOutcome> {
    const { root, files } = await projectUpload(options.dir)
    const body = {
      files,
      project_dir: root,
      branch: options.branch ?? this.#active,
      params: options.params,
      select: options.select,
      strict: options.strict,
      message: options.message,
      data_ref: options.dataRef,
    }
    return this.#http.run('/runs', body, options.observer)
  }

  rerun(jobId: string, options: RerunOptions = {}): Promise<RunOutcome> {
    const body = { ref: options.ref, message: options.message }
    return this.#http.run(`/jobs/${seg(jobId)}/rerun`, body, options.observer)
  }

  async plan(options: PlanOptions): Promise<ProjectPlan> {
    const { root, files } = await projectUpload(options.dir)
    const body = {
      files,
      project_dir: root,
      ref: options.ref ?? this.#active,
      params: options.params,
      select: options.select,
    }
    const doc = await this.#http.json<{
      physical: ProjectPlan['physical']
      warnings: { code: string; message: string; context: Record<string, unknown> }[]
      createsNamespaces: string[]
    }>('POST', '/plan', { body })
    return {
      physical: doc.physical,
      createsNamespaces: doc.createsNamespaces,
      warnings: doc.warnings.map(
        (w) => new TarnError(isErrorCode(w.code) ? w.code : 'INTERNAL', w.message, w.context),
      ),
    }
  }

  async listJobs(): Promise<JobRecord[]> {
    return (await this.#http.json<{ jobs: JobRecord[] }>('GET', '/jobs')).jobs
  }

  async listAllJobs(options: { limit?: number; status?: JobStatus } = {}): Promise<AnyJobRecord[]> {
    const query = { all: true, limit: options.limit, status: options.status }
    return (await this.#http.json<{ jobs: AnyJobRecord[] }>('GET', '/jobs', { query })).jobs
  }

  async getJob(id: string): Promise<JobRecord> {
    return (await this.#http.json<{ job: JobRecord }>('GET', `/jobs/${seg(id)}`)).job
  }

  async getAnyJob(id: string): Promise<AnyJobRecord> {
    return (await this.#http.json<{ job: AnyJobRecord }>('GET', `/jobs/${seg(id)}`, { query: { any: true } }))
      .job
  }

  async jobCode(id: string): Promise<Record<string, string>> {
    return (await this.#http.json<{ files: Record<string, string> }>('GET', `/jobs/${seg(id)}/code`)).files
  }

  async exportJobCode(id: string, dir: string): Promise<string[]> {
    const files = await this.jobCode(id)
    const existing = await readdir(dir).catch(() => [])
    if (existing.length > 0) {
      throw new TarnError('INVALID_ARGUMENT', `${dir} is not empty; give an empty or new directory`, {
        dir,
        job: id,
      })
    }
    await writeProjectFiles(dir, files)
    return Object.keys(files).sort()
  }

  /** Runs `run` as is: the server keeps no record of the calls it serves (see {@link LakeApi.trackJob}). */
  trackJob<T>(_start: OperationStart, run: () => Promise<T>, _end: (result: T) => OperationEnd): Promise<T> {
    return run()
  }

  async jobLog(id: string): Promise<string> {
    return (await this.#http.request('GET', `/jobs/${seg(id)}/log`, { accept: 'text/plain' })).text()
  }

  gc(options: GcOptions): Promise<GcReport> {
    const body = { older_than_ms: options.olderThanMs, grace_ms: options.graceMs, dry_run: options.dryRun }
    return this.#http.json('POST', '/gc', { body })
  }

  /** Aborts the query streams still open. */
  async close(): Promise<void> {
    for (const a of this.#open) a.abort()
    this.#open.clear()
  }
}
