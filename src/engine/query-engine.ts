import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DuckDBConnection, DuckDBInstance, DuckDBResult } from '@duckdb/node-api'
import { type RecordBatch, Table } from 'apache-arrow'
import type { Catalog } from '../catalog/catalog.js'
import { openDuckDB, type SandboxOptions } from '../duckdb/open-duckdb.js'
import { quoteIdent } from '../duckdb/sql-quote.js'
import type { ObjectStore } from '../storage/object-store.js'
import type { Clock } from '../util/clock.js'
import { corruptParquet } from '../util/corrupt-file.js'
import { TarnError } from '../util/errors.js'
import { duckdbQueryError } from './duckdb-error.js'
import { exportTarget } from './export-target.js'
import { FileCache } from './file-cache.js'
import { createLakeCatalog } from './lake-catalog.js'
import { hiddenNamesOf, type PreparedQuery, type PreparedScan } from './prepared-query.js'
import { type ExportOptions, type ExportResult, writeExport } from './query-export.js'
import type { QueryPlan } from './query-plan.js'
import { QueryPlanner } from './query-planner.js'
import { QueryResult } from './query-result.js'
import { QueryStream } from './query-stream.js'
import { ViewCatalogs } from './view-catalogs.js'

/**
 * Options of {@link QueryEngine.create}.
 *
 * @example
 * ```ts
 * const o: QueryEngineOptions = { catalog: lake.catalog, store: lake.store, cacheDir: '/h/cache/files', scratchDir: '/h/cache/scratch' }
 * ```
 */
export interface QueryEngineOptions {
  readonly catalog: Catalog
  readonly store: ObjectStore
  /** The local file cache directory (remote files are fetched here). */
  readonly cacheDir: string
  /** DuckDB's scratch (spill) directory. */
  readonly scratchDir: string
  /** Size bound of the file cache in bytes (default 10 GiB). */
  readonly cacheMaxBytes?: number
  /** Files fetched at once (default 8). */
  readonly fetchConcurrency?: number
  /** DuckDB threads (default: DuckDB's choice). */
  readonly threads?: number
  readonly memoryLimit?: string
  readonly clock?: Clock
}

/**
 * Options of {@link QueryEngine.query}, {@link QueryEngine.explain} and {@link QueryEngine.stream}.
 *
 * @example
 * ```ts
 * const o: QueryOptions = { ref: 'main@3fa1c2' }
 * ```
 */
export interface QueryOptions {
  /** Branch, tag, `branch@hash`, `@hash`, `branch~N` or `branch*<ISO time>` (default `main`). */
  readonly ref?: string
  /** Rows per Arrow record batch (default 65536). */
  readonly batchRows?: number
  /**
   * Cancels the query: DuckDB is interrupted (also while it computes before the first row) and the call or the
   * stream fails with `QUERY_CANCELLED`. The server aborts it when the client goes away.
   */
  readonly signal?: AbortSignal
}

function cancelled(sql: string, e?: unknown): TarnError {
  return new TarnError('QUERY_CANCELLED', 'the query was cancelled', { sql }, e ? { cause: e } : undefined)
}

/** Files under a local warehouse root are read in place; any other file is copied into the cache first. */
function inPlaceTest(root: string): (uri: string) => boolean {
  if (!root.startsWith('file://')) return () => false
  const base = root.endsWith('/') ? root : `${root}/`
  return (uri) => uri.startsWith(base)
}

/**
 * Runs read-only DuckDB SQL over the tables visible at any ref. Each query is parsed with DuckDB's parser, its
 * tables are qualified against the ref, filters are pushed into Iceberg scan planning (files pruned by partition
 * values and column bounds), only the kept files are fetched (remote ones into a local content-addressed cache), and
 * each table is exposed as a view (deletes applied) under its qualified and unqualified names in a catalog private
 * to the query; the user's SQL then runs unchanged in a locked-down DuckDB. Results are Apache Arrow.
 *
 * @example
 * ```ts
 * const engine = await QueryEngine.create({ catalog: lake.catalog, store: lake.store, cacheDir, scratchDir })
 * const result = await engine.query('SELECT count(*) AS n FROM orders', { ref: 'main' })
 * result.table.getChild('n')?.get(0) // 42n
 * await engine.close()
 * ```
 */
export class QueryEngine {
  readonly catalog: Catalog
  readonly store: ObjectStore
  readonly cache: FileCache
  readonly #duckdb: DuckDBInstance
  readonly #planner: QueryPlanner
  readonly #views = new ViewCatalogs()
  /** Files read where they are (the local warehouse); everything else goes through the cache. */
  readonly #inPlace: (uri: string) => boolean
  /** The settings of the query sandbox (an export opens one more, that may also write its output file). */
  readonly #sandbox: SandboxOptions
  #closed = false

  private constructor(
    options: QueryEngineOptions,
    cache: FileCache,
    duckdb: DuckDBInstance,
    systemNames: ReadonlySet<string>,
    inPlace: (uri: string) => boolean,
    sandbox: SandboxOptions,
  ) {
    this.#inPlace = inPlace
    this.#sandbox = sandbox
    this.catalog = options.catalog
    this.store = options.store
    this.cache = cache
    this.#duckdb = duckdb
    this.#planner = new QueryPlanner(options.catalog, options.store, cache, systemNames)
  }

  /**
   * Opens an engine: the file cache and a locked-down DuckDB that may read only the cache, the scratch directory
   * and (for a local warehouse) the warehouse directory.
   *
   * @example
   * ```ts
   * const engine = await QueryEngine.create({ catalog, store, cacheDir: join(home, 'cache', 'files'), scratchDir: join(home, 'cache', 'scratch') })
   * ```
   */
  static async create(options: QueryEngineOptions): Promise<QueryEngine> {
    const inPlace = inPlaceTest(options.store.root)
    const cache = await FileCache.open({
      dir: options.cacheDir,
      inPlace,
      ...(options.cacheMaxBytes !== undefined ? { maxBytes: options.cacheMaxBytes } : {}),
      ...(options.fetchConcurrency !== undefined ? { concurrency: options.fetchConcurrency } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    })
    const readable = [cache.dir]
    if (options.store.root.startsWith('file://')) readable.push(fileURLToPath(options.store.root))
    const sandbox: SandboxOptions = {
      readableDirectories: readable,
      scratchDir: options.scratchDir,
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.memoryLimit !== undefined ? { memoryLimit: options.memoryLimit } : {}),
    }
    const duckdb = await openDuckDB(sandbox)
    const conn = await duckdb.connect()
    let names: Set<string>
    try {
      const r = await conn.runAndReadAll(
        'SELECT lower(view_name) FROM duckdb_views() WHERE internal UNION SELECT lower(table_name) FROM duckdb_tables() WHERE internal',
      )
      names = new Set(r.getRows().map((row) => String(row[0])))
    } finally {
      conn.closeSync()
    }
    return new QueryEngine(options, cache, duckdb, names, inPlace, sandbox)
  }

  /**
   * Plans a query without running it: the tables it reads at the ref, their snapshots, the pushed filters and the
   * files kept out of the total (`tarn query --explain`).
   *
   * @example
   * ```ts
   * const plan = await engine.explain("SELECT * FROM events WHERE ts >= '2024-03-01' AND ts < '2024-03-02'", { ref: 'main' })
   * plan.tables[0]?.filesKept // 1
   * ```
   */
  async explain(sql: string, options: QueryOptions = {}): Promise<QueryPlan> {
    const conn = await this.#connect()
    try {
      return (await this.#planner.prepare(conn, sql, options.ref ?? 'main')).plan
    } finally {
      conn.closeSync()
    }
  }

  /**
   * Runs a query and returns the whole result as an Arrow table (see {@link stream} for large results).
   *
   * @example
   * ```ts
   * const { table, plan } = await engine.query('SELECT * FROM orders LIMIT 5', { ref: 'v1' })
   * ```
   */
  async query(sql: string, options: QueryOptions = {}): Promise<QueryResult> {
    const stream = await this.#open(sql, options, false)
    const batches: RecordBatch[] = []
    try {
      for await (const b of stream) batches.push(b)
    } finally {
      await stream.close()
    }
    const table = batches.length > 0 ? new Table(batches) : new Table(stream.schema)
    return new QueryResult(stream.plan, table)
  }

  /**
   * Runs a query and returns a stream of Arrow record batches: rows are converted as DuckDB produces them, so large
   * results are never held in memory whole. Iterate it to the end or call `close()`.
   *
   * @example
   * ```ts
   * const stream = await engine.stream('SELECT * FROM big', { ref: 'main' })
   * for await (const batch of stream) console.log(batch.numRows)
   * ```
   */
  stream(sql: string, options: QueryOptions = {}): Promise<QueryStream> {
    return this.#open(sql, options, true)
  }

  /**
   * Runs a query and writes its whole result to a local file through DuckDB's own `COPY` (Parquet, CSV or JSON
   * lines), never through JavaScript. The output is checked first (its directory exists; it is not inside the lake's
   * directories; it does not exist unless `force`); the query runs in a sandbox of its own whose only writable path
   * is a temporary sibling of the output, renamed into place once the whole result is written (a failed export
   * leaves nothing behind and an overwritten file intact).
   *
   * @example
   * ```ts
   * const r = await engine.export('SELECT * FROM events', { ref: 'main', output: '/data/events.parquet' })
   * r.rows // 5000000
   * ```
   */
  async export(sql: string, options: ExportOptions): Promise<ExportResult> {
    const target = await exportTarget(options.output, {
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      ...(options.format !== undefined ? { format: options.format } : {}),
      ...(options.force !== undefined ? { force: options.force } : {}),
      forbidden: [...this.#sandbox.readableDirectories, this.#sandbox.scratchDir],
    })
    const conn = await this.#connect()
    let unpin: (() => Promise<void>) | undefined
    let prepared: PreparedQuery
    try {
      prepared = await this.#planner.prepare(conn, sql, options.ref ?? 'main')
      unpin = await this.#fetch(prepared.scans)
    } finally {
      conn.closeSync()
    }
    try {
      return await writeExport(sql, prepared, target, { sandbox: this.#sandbox, views: this.#views })
    } finally {
      await unpin?.()
    }
  }

  /** Plans, fetches, picks the view catalog and starts the query: streaming, or materialised inside DuckDB. */
  async #open(sql: string, options: QueryOptions, streaming: boolean): Promise<QueryStream> {
    const signal = options.signal
    if (signal?.aborted) throw cancelled(sql)
    const conn = await this.#connect()
    let unpin: (() => Promise<void>) | undefined
    let leave: (() => void) | undefined
    let running: DuckDBConnection = conn
    // interrupts whatever DuckDB runs for this query: planning, the query itself, or a pending fetch
    const interrupt = (): void => running.interrupt()
    signal?.addEventListener('abort', interrupt, { once: true })
    const release = async (): Promise<void> => {
      signal?.removeEventListener('abort', interrupt)
      conn.closeSync()
      leave?.()
      await unpin?.()
    }
    try {
      const prepared = await this.#planner.prepare(conn, sql, options.ref ?? 'main')
      unpin = await this.#fetch(prepared.scans)
      let runner: DuckDBConnection = conn
      if (prepared.catalogQuery) {
        // a DuckDB of its own, whose catalog holds every table of the ref and nothing else
        const own = await openDuckDB(this.#sandbox)
        const ownConn = await own.connect()
        leave = () => {
          ownConn.closeSync()
          own.closeSync()
        }
        await createLakeCatalog(ownConn, prepared, {
          catalog: this.catalog,
          views: this.#views,
          loadTable: (m) => this.#planner.loadTable(m),
        })
        runner = ownConn
        running = ownConn
      } else {
        const catalog = await this.#views.enter(conn, prepared.scans)
        leave = catalog.leave
        await conn.run(`USE ${quoteIdent(catalog.name)}`)
      }
      const hidden = await hiddenNamesOf(prepared.scans)
      const errorOf = (e: unknown): TarnError =>
        signal?.aborted ? cancelled(sql, e) : (corruptParquet(e) ?? duckdbQueryError(e, sql, hidden))
      if (signal?.aborted) throw cancelled(sql)
      let result: DuckDBResult
      try {
        result = streaming ? await runner.stream(sql) : await runner.run(sql)
      } catch (e) {
        throw errorOf(e)
      }
      return new QueryStream(prepared.plan, result, options.batchRows ?? 65_536, release, errorOf, signal)
    } catch (e) {
      await release()
      if (signal?.aborted && !(e instanceof TarnError && e.code === 'QUERY_CANCELLED'))
        throw cancelled(sql, e)
      throw corruptParquet(e) ?? e
    }
  }

  /**
   * The engine's locked-down DuckDB, shared with work that must run under the same sandbox: a pipeline run's scans,
   * models and commits run on connections of it (each in a session database of its own), so a run starts no DuckDB.
   * The engine owns it: never close it.
   *
   * @example
   * ```ts
   * const conn = await engine.duckdb().connect()
   * try { await conn.run('SELECT 1') } finally { conn.closeSync() }
   * ```
   */
  duckdb(): DuckDBInstance {
    if (this.#closed) throw new TarnError('INVALID_ARGUMENT', 'the query engine is closed')
    return this.#duckdb
  }

  /**
   * The scratch directory of the engine's DuckDB (where it spills), readable and writable inside its sandbox: work
   * sharing {@link duckdb} keeps its files under it.
   *
   * @example
   * ```ts
   * join(engine.scratchDir(), 'runs', jobId)
   * ```
   */
  scratchDir(): string {
    return this.#sandbox.scratchDir
  }

  /** Closes DuckDB. The file cache stays on disk for the next engine. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#duckdb.closeSync()
  }

  async #connect(): Promise<DuckDBConnection> {
    if (this.#closed) throw new TarnError('INVALID_ARGUMENT', 'the query engine is closed')
    return this.#duckdb.connect()
  }

  /** Fetches every kept data file and delete file (in parallel, pinned) and returns the release function. */
  async #fetch(scans: readonly PreparedScan[]): Promise<() => Promise<void>> {
    const uris = new Set<string>()
    for (const s of scans) {
      for (const t of s.scan.tasks) {
        for (const e of [t.dataFile, ...t.deletes]) {
          const resolved = s.table.io.resolve(e.dataFile.filePath)
          if (this.#inPlace(resolved)) continue
          const key = this.store.keyOf(resolved)
          const uri = key === undefined ? undefined : this.store.uriOf(key)
          if (uri !== undefined && !this.#inPlace(uri)) uris.add(uri)
        }
      }
    }
    if (uris.size === 0) return async () => undefined
    return (await this.cache.acquire(this.store, [...uris])).release
  }
}

/**
 * The cache and scratch directories of a lake home: `<home>/cache/files` and `<home>/cache/scratch`.
 */
export function engineDirs(home: string): { cacheDir: string; scratchDir: string } {
  return { cacheDir: join(home, 'cache', 'files'), scratchDir: join(home, 'cache', 'scratch') }
}
