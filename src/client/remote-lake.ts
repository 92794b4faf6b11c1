import { isAbsolute, resolve as resolvePath } from 'node:path'
import { RecordBatch as Batch, type RecordBatch, RecordBatchReader, Schema, Table } from 'apache-arrow'
import type { LogOptions } from '../catalog/catalog.js'
import type { MergeResult, RevertResult } from '../catalog/results.js'
import type { Commit, RefInfo } from '../catalog/types.js'
import { type QueryOptions, type QueryPlan, QueryResult } from '../engine/index.js'
import type { GcOptions, GcReport } from '../lake/garbage-collector.js'
import type { LakeInfo, RefWithCommit, TableDetails, TableEntry, TableWriteResult } from '../lake/lake.js'
import type { LakeApi, NamespaceEntry, QueryBatches } from '../lake/lake-api.js'
import type { RefDiff } from '../lake/ref-diff.js'
import type { JobRecord, RerunOptions, RunOutcome, RunPipelineOptions } from '../pipeline/run/index.js'
import { isErrorCode, TarnError } from '../util/errors.js'

const ARROW_STREAM = 'application/vnd.apache.arrow.stream'
const PLAN_METADATA_KEY = 'tarn.plan'

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
}

interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>
  readonly body?: unknown
  readonly accept?: string
  readonly signal?: AbortSignal
}

/** Absolute paths for local sources so the server (on the same machine) reads what the caller meant. */
function absoluteSources(from: string | readonly string[], cwd: string | undefined): string[] {
  const list = typeof from === 'string' ? [from] : [...from]
  return list.map((s) =>
    /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || isAbsolute(s) ? s : resolvePath(cwd ?? process.cwd(), s),
  )
}

function seg(name: string): string {
  return encodeURIComponent(name)
}

/** Drops the plan metadata so batches look exactly like the embedded engine's. */
function plainSchema(schema: Schema): Schema {
  return new Schema(schema.fields)
}

/**
 * The {@link LakeApi} of a lake served by `tarn serve`, over HTTP: the same operations, plain-data results and
 * `TarnError` codes as the embedded `Lake`. Query results arrive as Arrow IPC: `query` collects an Arrow table,
 * `stream` yields record batches as they come off the wire, and closing the stream aborts the request (which stops
 * the query on the server). Runs need the project on the server and are not available over HTTP yet
 * (`NOT_SUPPORTED`).
 *
 * @example
 * ```ts
 * const lake = RemoteLake.connect({ url: 'http://127.0.0.1:8181', apiKey: secret })
 * await lake.createBranch('alice.dev', { from: 'main' })
 * const { table } = await lake.query('SELECT count(*) AS n FROM orders', { ref: 'alice.dev' })
 * ```
 */
export class RemoteLake implements LakeApi {
  readonly url: string
  readonly #apiKey: string | undefined
  readonly #open = new Set<AbortController>()

  private constructor(options: RemoteLakeOptions) {
    this.url = options.url.replace(/\/+$/, '')
    this.#apiKey = options.apiKey
  }

  /** A client of the server at `url` (no request is made until the first call). */
  static connect(options: RemoteLakeOptions): RemoteLake {
    return new RemoteLake(options)
  }

  async #request(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
    const qs = new URLSearchParams()
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) qs.set(k, String(v))
    const url = `${this.url}/api/v1${path}${qs.size > 0 ? `?${qs}` : ''}`
    const headers: Record<string, string> = { accept: o.accept ?? 'application/json' }
    if (this.#apiKey !== undefined) headers.authorization = `Bearer ${this.#apiKey}`
    if (o.body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      })
    } catch (e) {
      throw new TarnError(
        'SERVER_UNREACHABLE',
        `cannot reach the tarn server at ${this.url}: ${(e as Error).message}`,
        { url: this.url },
        { cause: e },
      )
    }
    if (res.ok) return res
    const text = await res.text()
    let doc: { error?: { code?: string; message?: string; context?: Record<string, unknown> } } | undefined
    try {
      doc = JSON.parse(text) as typeof doc
    } catch {
      doc = undefined
    }
    const err = doc?.error
    if (err?.code !== undefined) {
      if (isErrorCode(err.code)) throw new TarnError(err.code, err.message ?? err.code, err.context ?? {})
      throw new TarnError('INTERNAL', err.message ?? err.code, {
        ...(err.context ?? {}),
        serverCode: err.code,
      })
    }
    throw new TarnError('INTERNAL', `HTTP ${res.status} from ${method} ${path}: ${text.slice(0, 200)}`, {
      status: res.status,
    })
  }

  async #json<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    return (await (await this.#request(method, path, o)).json()) as T
  }

  info(): Promise<LakeInfo> {
    return this.#json('GET', '/info')
  }

  async listBranches(): Promise<RefInfo[]> {
    return (await this.#json<{ branches: RefInfo[] }>('GET', '/branches')).branches
  }

  async getBranch(name: string): Promise<RefWithCommit> {
    return (await this.#json<{ branch: RefWithCommit }>('GET', `/branches/${seg(name)}`)).branch
  }

  async createBranch(name: string, options: { from?: string } = {}): Promise<RefInfo> {
    return (await this.#json<{ branch: RefInfo }>('POST', '/branches', { body: { name, ...options } })).branch
  }

  async deleteBranch(name: string, options: { force?: boolean } = {}): Promise<RefInfo> {
    const query = options.force ? { force: true } : {}
    return (await this.#json<{ deleted: RefInfo }>('DELETE', `/branches/${seg(name)}`, { query })).deleted
  }

  async renameBranch(from: string, to: string): Promise<RefInfo> {
    return (await this.#json<{ branch: RefInfo }>('POST', `/branches/${seg(from)}/rename`, { body: { to } }))
      .branch
  }

  async protectBranch(name: string): Promise<RefInfo> {
    return (await this.#json<{ branch: RefInfo }>('PUT', `/branches/${seg(name)}/protection`)).branch
  }

  async unprotectBranch(name: string): Promise<RefInfo> {
    return (await this.#json<{ branch: RefInfo }>('DELETE', `/branches/${seg(name)}/protection`)).branch
  }

  async protectedBranches(): Promise<string[]> {
    return (await this.#json<{ branches: string[] }>('GET', '/protected-branches')).branches
  }

  async listTags(): Promise<RefInfo[]> {
    return (await this.#json<{ tags: RefInfo[] }>('GET', '/tags')).tags
  }

  async createTag(name: string, options: { from?: string } = {}): Promise<RefInfo> {
    return (await this.#json<{ tag: RefInfo }>('POST', '/tags', { body: { name, ...options } })).tag
  }

  async deleteTag(name: string): Promise<RefInfo> {
    return (await this.#json<{ deleted: RefInfo }>('DELETE', `/tags/${seg(name)}`)).deleted
  }

  async log(ref?: string, options: LogOptions = {}): Promise<Commit[]> {
    const p = options.property
    const query = {
      ref,
      n: options.limit,
      message: options.message,
      author: options.author,
      property: p === undefined ? undefined : p.value === undefined ? p.key : `${p.key}=${p.value}`,
    }
    return (await this.#json<{ commits: Commit[] }>('GET', '/log', { query })).commits
  }

  diff(ref: string, against?: string, options: { twoWay?: boolean; rows?: number } = {}): Promise<RefDiff> {
    return this.#json('GET', '/diff', {
      query: { ref, against, two_way: options.twoWay, rows: options.rows },
    })
  }

  merge(
    source: string,
    options: { into?: string; message?: string; dryRun?: boolean } = {},
  ): Promise<MergeResult> {
    const body = { into: options.into, message: options.message, dry_run: options.dryRun }
    return this.#json('POST', `/branches/${seg(source)}/merge`, { body })
  }

  revert(
    commit: string,
    options: { on?: string; table?: string; message?: string } = {},
  ): Promise<RevertResult> {
    return this.#json('POST', '/revert', { body: { commit, ...options } })
  }

  async listNamespaces(options: { ref?: string } = {}): Promise<NamespaceEntry[]> {
    return (await this.#json<{ namespaces: NamespaceEntry[] }>('GET', '/namespaces', { query: options }))
      .namespaces
  }

  async createNamespace(
    name: string,
    options: { branch?: string; properties?: Record<string, string>; message?: string } = {},
  ): Promise<Commit> {
    return (await this.#json<{ commit: Commit }>('POST', '/namespaces', { body: { name, ...options } }))
      .commit
  }

  async dropNamespace(name: string, options: { branch?: string; message?: string } = {}): Promise<Commit> {
    return (await this.#json<{ commit: Commit }>('DELETE', `/namespaces/${seg(name)}`, { query: options }))
      .commit
  }

  async listTables(options: { ref?: string; namespace?: string } = {}): Promise<TableEntry[]> {
    return (await this.#json<{ tables: TableEntry[] }>('GET', '/tables', { query: options })).tables
  }

  async getTable(table: string, options: { ref?: string } = {}): Promise<TableDetails> {
    return (await this.#json<{ table: TableDetails }>('GET', `/tables/${seg(table)}`, { query: options }))
      .table
  }

  createTable(
    table: string,
    options: { from: string | readonly string[]; partitionedBy?: string; branch?: string; cwd?: string },
  ): Promise<TableWriteResult> {
    const body = {
      table,
      from: absoluteSources(options.from, options.cwd),
      partitioned_by: options.partitionedBy,
      branch: options.branch,
    }
    return this.#json('POST', '/tables', { body })
  }

  importTable(
    table: string,
    options: {
      from: string | readonly string[]
      branch?: string
      force?: boolean
      replace?: boolean
      cwd?: string
    },
  ): Promise<TableWriteResult> {
    const body = {
      from: absoluteSources(options.from, options.cwd),
      branch: options.branch,
      force: options.force,
      replace: options.replace,
    }
    return this.#json('POST', `/tables/${seg(table)}/import`, { body })
  }

  registerTable(
    table: string,
    options: { metadata: string; allowMovedPaths?: boolean; branch?: string; cwd?: string },
  ): Promise<TableWriteResult> {
    const body = {
      metadata: absoluteSources(options.metadata, options.cwd)[0],
      allow_moved_paths: options.allowMovedPaths,
      branch: options.branch,
    }
    return this.#json('POST', `/tables/${seg(table)}/register`, { body })
  }

  async dropTable(table: string, options: { branch?: string; message?: string } = {}): Promise<Commit> {
    return (await this.#json<{ commit: Commit }>('DELETE', `/tables/${seg(table)}`, { query: options }))
      .commit
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

  async stream(sql: string, options: QueryOptions = {}): Promise<QueryBatches> {
    const abort = new AbortController()
    const signal = options.signal
    const cancelled = (): TarnError => new TarnError('QUERY_CANCELLED', 'the query was cancelled', { sql })
    if (signal?.aborted) throw cancelled()
    // the caller's signal aborts the request, which stops the query on the server
    const onAbort = (): void => abort.abort()
    signal?.addEventListener('abort', onAbort, { once: true })
    this.#open.add(abort)
    const body = { sql, ref: options.ref, batch_rows: options.batchRows }
    try {
      const res = await this.#request('POST', '/query', { body, accept: ARROW_STREAM, signal: abort.signal })
      if (res.body === null) throw new TarnError('INTERNAL', 'the server sent no query result', {})
      const reader = await (await RecordBatchReader.from(res.body)).open()
      const schema = plainSchema(reader.schema)
      const plan = JSON.parse(reader.schema.metadata.get(PLAN_METADATA_KEY) ?? 'null') as QueryPlan
      const open = this.#open
      let done = false
      const close = async (): Promise<void> => {
        if (done) return
        done = true
        signal?.removeEventListener('abort', onAbort)
        abort.abort()
        open.delete(abort)
        await reader.cancel().catch(() => undefined)
      }
      return {
        plan,
        schema,
        close,
        async *[Symbol.asyncIterator](): AsyncGenerator<RecordBatch> {
          try {
            for await (const b of reader) {
              if (signal?.aborted) break
              yield new Batch(schema, b.data)
            }
            // an aborted request ends the stream early: that is a cancellation, not the end of the result
            if (signal?.aborted) throw cancelled()
          } catch (e) {
            if (signal?.aborted) throw cancelled()
            if (e instanceof TarnError) throw e
            throw new TarnError(
              'SERVER_UNREACHABLE',
              `the query result stream broke: ${(e as Error).message}`,
              {
                sql,
              },
            )
          } finally {
            await close()
          }
        },
      }
    } catch (e) {
      this.#open.delete(abort)
      signal?.removeEventListener('abort', onAbort)
      if (signal?.aborted) throw cancelled()
      throw e
    }
  }

  async explain(sql: string, options: QueryOptions = {}): Promise<QueryPlan> {
    return (await this.#json<{ plan: QueryPlan }>('POST', '/explain', { body: { sql, ref: options.ref } }))
      .plan
  }

  run(_options: RunPipelineOptions): Promise<RunOutcome> {
    return Promise.reject(
      new TarnError(
        'NOT_SUPPORTED',
        'pipeline runs over HTTP are not available yet: run them where the lake is',
        {},
      ),
    )
  }

  rerun(jobId: string, _options: RerunOptions = {}): Promise<RunOutcome> {
    return Promise.reject(
      new TarnError('NOT_SUPPORTED', 'reruns over HTTP are not available yet: rerun where the lake is', {
        job: jobId,
      }),
    )
  }

  async listJobs(): Promise<JobRecord[]> {
    return (await this.#json<{ jobs: JobRecord[] }>('GET', '/jobs')).jobs
  }

  async getJob(id: string): Promise<JobRecord> {
    return (await this.#json<{ job: JobRecord }>('GET', `/jobs/${seg(id)}`)).job
  }

  async jobLog(id: string): Promise<string> {
    return (await this.#request('GET', `/jobs/${seg(id)}/log`, { accept: 'text/plain' })).text()
  }

  gc(options: GcOptions): Promise<GcReport> {
    const body = { older_than_ms: options.olderThanMs, grace_ms: options.graceMs, dry_run: options.dryRun }
    return this.#json('POST', '/gc', { body })
  }

  /** Aborts the query streams still open. */
  async close(): Promise<void> {
    for (const a of this.#open) a.abort()
    this.#open.clear()
  }
}
