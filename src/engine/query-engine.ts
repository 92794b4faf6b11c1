import { link, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DuckDBConnection, DuckDBInstance, DuckDBResult } from '@duckdb/node-api'
import { type RecordBatch, Table } from 'apache-arrow'
import { type Catalog, DEFAULT_NAMESPACE } from '../catalog/catalog.js'
import type { Commit } from '../catalog/types.js'
import {
  currentSchema,
  duckdbTypeOf,
  type Expression,
  type JsonValue,
  type LoadedTable,
  loadTable,
  planScan,
  quoteIdent,
  type ScanPlan,
  type Schema,
  snapshotById,
  sqlString,
  stringifyJsonLossless,
} from '../iceberg/index.js'
import type { ObjectStore } from '../storage/object-store.js'
import type { Clock } from '../util/clock.js'
import { corruptParquet } from '../util/corrupt-file.js'
import { TarnError } from '../util/errors.js'
import { BoundedMap } from './bounded-map.js'
import { duckdbQueryError, type HiddenNames, oneLineDuckdbMessage } from './duckdb-error.js'
import { openSandbox, type SandboxOptions } from './duckdb-sandbox.js'
import { copyOptions, type ExportFormat, exportTarget } from './export-target.js'
import { FileCache } from './file-cache.js'
import { pushdownFilters } from './filter-pushdown.js'
import type { QueryPlan, TableScanPlan } from './query-plan.js'
import { QueryResult } from './query-result.js'
import { QueryStream } from './query-stream.js'
import { FooterCache, scanViewSql } from './scan-view.js'
import { analyzeAst, parseSelect, type QueryAnalysis, type TableReference } from './sql-analysis.js'

/**
 * Options of {@link QueryEngine.export}.
 *
 * @example
 * ```ts
 * const o: ExportOptions = { ref: 'v1', output: 'events.parquet', cwd: process.cwd(), force: true }
 * ```
 */
export interface ExportOptions {
  /** The ref to read (default `main`). */
  readonly ref?: string
  /** The file to write; relative paths resolve against `cwd`. */
  readonly output: string
  /** `parquet`, `csv` or `jsonl` (default: from the output's extension). */
  readonly format?: string
  /** Overwrite an existing file. */
  readonly force?: boolean
  /** Directory relative outputs resolve against (default: the process's). */
  readonly cwd?: string
}

/**
 * What an export wrote: the plan it ran with, the absolute output path, its format, rows and bytes. Plain data.
 *
 * @example
 * ```ts
 * const r: ExportResult = await engine.export('SELECT * FROM t', { output: '/tmp/t.csv' })
 * ```
 */
export interface ExportResult {
  readonly plan: QueryPlan
  readonly output: string
  readonly format: ExportFormat
  readonly rows: number
  readonly bytes: number
}

/** The SQL of one statement without trailing semicolons or a trailing line comment, to nest inside `COPY (...)`. */
function queryBody(sql: string): string {
  let body = sql
  for (;;) {
    const trimmed = body.replace(/[\s;]+$/, '')
    const lastLine = trimmed.slice(trimmed.lastIndexOf('\n') + 1)
    const next = lastLine.trimStart().startsWith('--')
      ? trimmed.slice(0, trimmed.lastIndexOf('\n') + 1)
      : trimmed
    if (next === body) return body
    body = next
  }
}

/** Moves a finished export into place: atomically refusing an existing file, or replacing it when forced. */
async function placeOutput(temporary: string, output: string, force: boolean): Promise<void> {
  if (force) {
    await rename(temporary, output)
    return
  }
  try {
    await link(temporary, output)
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code
    if (errno === 'EEXIST') {
      throw new TarnError('FILE_EXISTS', `${output} already exists; use --force to overwrite it`, { output })
    }
    await rename(temporary, output)
  }
}

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
}

interface PreparedScan {
  readonly plan: TableScanPlan
  readonly table: LoadedTable
  readonly scan: ScanPlan
  /** References (by index) this table serves. */
  readonly references: readonly TableReference[]
}

interface Prepared {
  readonly plan: QueryPlan
  readonly scans: readonly PreparedScan[]
  /** The commit the ref resolved to. */
  readonly commit: Commit
  /** The query reads DuckDB's catalog (SHOW TABLES, information_schema, duckdb_tables()). */
  readonly catalogQuery: boolean
}

/** The database a catalog query sees the lake as: namespaces are its schemas, tables its tables. */
const LAKE_DATABASE = 'lake'

/** Files under a local warehouse root are read in place; any other file is copied into the cache first. */
function inPlaceTest(root: string): (uri: string) => boolean {
  if (!root.startsWith('file://')) return () => false
  const base = root.endsWith('/') ? root : `${root}/`
  return (uri) => uri.startsWith(base)
}

/** Idle view catalogs kept attached for reuse. */
const MAX_VIEW_CATALOGS = 32

interface ViewCatalog {
  readonly name: string
  users: number
  readonly ready: Promise<void>
}

/** The views a scan needs: one per name the SQL uses (`t` in schema main, `ns.t` in schema `ns`). */
function viewNames(s: PreparedScan): { schema: string; view: string }[] {
  const out = new Map<string, { schema: string; view: string }>()
  for (const r of s.references) {
    const v = r.schema !== '' ? { schema: r.schema, view: r.name } : { schema: 'main', view: r.name }
    out.set(`${v.schema}\u0000${v.view}`, v)
  }
  if (out.size === 0) {
    const dot = s.plan.table.indexOf('.')
    out.set(s.plan.table, { schema: s.plan.table.slice(0, dot), view: s.plan.table.slice(dot + 1) })
  }
  return [...out.values()]
}

/**
 * Refuses a query that names two tables whose keys differ only in letter case (a lake made before such names were
 * refused): DuckDB would resolve both names to one view and silently read one table twice.
 */
function refuseCaseTwins(keys: readonly string[], ref: string): void {
  const seen = new Map<string, string>()
  for (const key of keys) {
    const other = seen.get(key.toLowerCase())
    if (other !== undefined && other !== key) {
      throw new TarnError(
        'AMBIGUOUS_TABLE',
        `tables ${other} and ${key} differ only in letter case and cannot be told apart in one query at ${ref}; read them in separate queries`,
        { tables: [other, key], ref },
      )
    }
    seen.set(key.toLowerCase(), key)
  }
}

const PASS_THROUGH_SCHEMAS = new Set(['information_schema', 'pg_catalog', 'main', 'system', 'temp'])

function combineFilters(filters: readonly (Expression | undefined)[]): Expression | undefined {
  if (filters.length === 0 || filters.some((f) => f === undefined)) return undefined
  const unique = new Map(
    filters.map((f) => [stringifyJsonLossless(f as unknown as JsonValue), f as Expression]),
  )
  const list = [...unique.values()]
  return list.length === 1 ? list[0] : { op: 'or', args: list }
}

function duckdbMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
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
  readonly #footers = new FooterCache(100_000)
  readonly #tables = new BoundedMap<string, Promise<LoadedTable>>(256)
  readonly #plans = new BoundedMap<string, Promise<ScanPlan>>(512)
  /** View SQL per cached scan plan (its local paths are deterministic: the file itself or its cache entry). */
  readonly #views = new WeakMap<ScanPlan, Promise<string>>()
  /** Parsed queries by SQL text (parsing is deterministic). */
  readonly #analyses = new BoundedMap<string, QueryAnalysis>(256)
  /** View catalogs by their views, least recently used first. */
  readonly #catalogs = new Map<string, ViewCatalog>()
  readonly #planIds = new WeakMap<ScanPlan, number>()
  #planCount = 0
  #catalogCount = 0
  readonly #systemNames: ReadonlySet<string>
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
    this.#systemNames = systemNames
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
    const duckdb = await openSandbox(sandbox)
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
      return (await this.#prepare(conn, sql, options.ref ?? 'main')).plan
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
    let prepared: Prepared
    try {
      prepared = await this.#prepare(conn, sql, options.ref ?? 'main')
      unpin = await this.#fetch(prepared.scans)
    } finally {
      conn.closeSync()
    }
    const sandbox = await openSandbox({ ...this.#sandbox, writablePaths: [target.temporary] })
    const writer = await sandbox.connect()
    try {
      const views = prepared.scans.flatMap((s) => viewNames(s).map((v) => ({ ...v, scan: s })))
      await this.#createCatalog(writer, 'tarn_v0', views)
      await writer.run('USE tarn_v0')
      const hidden = await this.#hiddenNames(prepared.scans)
      let rows: number
      try {
        const r = await writer.runAndReadAll(
          `COPY (\n${queryBody(sql)}\n) TO ${sqlString(target.temporary)} ${copyOptions(target.format)}`,
        )
        rows = Number(r.getRows()[0]?.[0] ?? 0)
      } catch (e) {
        throw duckdbQueryError(e, sql, hidden)
      }
      await placeOutput(target.temporary, target.output, target.force)
      const bytes = (await stat(target.output)).size
      return { plan: prepared.plan, output: target.output, format: target.format, rows, bytes }
    } finally {
      writer.closeSync()
      sandbox.closeSync()
      await rm(target.temporary, { force: true }).catch(() => undefined)
      await unpin?.()
    }
  }

  /** Plans, fetches, picks the view catalog and starts the query: streaming, or materialised inside DuckDB. */
  async #open(sql: string, options: QueryOptions, streaming: boolean): Promise<QueryStream> {
    const conn = await this.#connect()
    let unpin: (() => Promise<void>) | undefined
    let leave: (() => void) | undefined
    const release = async (): Promise<void> => {
      conn.closeSync()
      leave?.()
      await unpin?.()
    }
    try {
      const prepared = await this.#prepare(conn, sql, options.ref ?? 'main')
      unpin = await this.#fetch(prepared.scans)
      let runner: DuckDBConnection = conn
      if (prepared.catalogQuery) {
        // a DuckDB of its own, whose catalog holds every table of the ref and nothing else
        const own = await openSandbox(this.#sandbox)
        const ownConn = await own.connect()
        leave = () => {
          ownConn.closeSync()
          own.closeSync()
        }
        await this.#lakeCatalog(ownConn, prepared)
        runner = ownConn
      } else {
        const catalog = await this.#viewCatalog(conn, prepared.scans)
        leave = catalog.leave
        await conn.run(`USE ${quoteIdent(catalog.name)}`)
      }
      const hidden = await this.#hiddenNames(prepared.scans)
      const errorOf = (e: unknown): TarnError => corruptParquet(e) ?? duckdbQueryError(e, sql, hidden)
      let result: DuckDBResult
      try {
        result = streaming ? await runner.stream(sql) : await runner.run(sql)
      } catch (e) {
        throw errorOf(e)
      }
      return new QueryStream(prepared.plan, result, options.batchRows ?? 65_536, release, errorOf)
    } catch (e) {
      await release()
      throw corruptParquet(e) ?? e
    }
  }

  /**
   * The in-memory catalog holding one view per table name the query uses, over exactly the planned files. Catalogs
   * are keyed by their views (names and scan plans) and reused by later queries that read the same files under the
   * same names; the least recently used idle ones are detached beyond {@link MAX_VIEW_CATALOGS}.
   */
  async #viewCatalog(
    conn: DuckDBConnection,
    scans: readonly PreparedScan[],
  ): Promise<{ name: string; leave: () => void }> {
    const views = scans.flatMap((s) => viewNames(s).map((v) => ({ ...v, scan: s })))
    const key = JSON.stringify(
      views.map((v) => [v.schema, v.view, this.#planId(v.scan.scan)]).sort((a, b) => (a < b ? -1 : 1)),
    )
    let entry = this.#catalogs.get(key)
    if (entry) {
      this.#catalogs.delete(key)
      this.#catalogs.set(key, entry)
    } else {
      const name = `tarn_v${++this.#catalogCount}`
      entry = { name, users: 0, ready: this.#createCatalog(conn, name, views) }
      this.#catalogs.set(key, entry)
      entry.ready.catch(() => this.#catalogs.delete(key))
    }
    const e = entry
    e.users++
    try {
      await e.ready
    } catch (err) {
      e.users--
      throw err
    }
    await this.#trimCatalogs(conn)
    let left = false
    return {
      name: e.name,
      leave: () => {
        if (left) return
        left = true
        e.users--
      },
    }
  }

  async #createCatalog(
    conn: DuckDBConnection,
    name: string,
    views: readonly { schema: string; view: string; scan: PreparedScan }[],
  ): Promise<void> {
    await conn.run(`ATTACH ':memory:' AS ${quoteIdent(name)}`)
    const schemas = new Set<string>(['main'])
    for (const v of views) {
      let pending = this.#views.get(v.scan.scan)
      if (!pending) {
        pending = scanViewSql(v.scan.table, v.scan.scan, conn, this.#footers)
        pending.catch(() => this.#views.delete(v.scan.scan))
        this.#views.set(v.scan.scan, pending)
      }
      const body = await pending
      if (!schemas.has(v.schema)) {
        await conn.run(`CREATE SCHEMA ${quoteIdent(name)}.${quoteIdent(v.schema)}`)
        schemas.add(v.schema)
      }
      try {
        await conn.run(
          `CREATE OR REPLACE VIEW ${quoteIdent(name)}.${quoteIdent(v.schema)}.${quoteIdent(v.view)} AS ${body}`,
        )
      } catch (e) {
        const table = v.scan.plan.table
        throw new TarnError(
          'SQL_ERROR',
          `cannot read table ${table}: ${oneLineDuckdbMessage(duckdbMessage(e), '')}`,
          { table, metadataLocation: v.scan.plan.metadataLocation },
          { cause: e },
        )
      }
    }
  }

  /**
   * The `lake` database of a catalog query: one schema per namespace of the ref, the tables the query reads as views
   * over their files, every other table as an empty table of its schema (so `SHOW TABLES`, `information_schema` and
   * `duckdb_tables()` list them); the default schema is the default namespace.
   */
  async #lakeCatalog(conn: DuckDBConnection, prepared: Prepared): Promise<void> {
    const state = await this.catalog.stateOf(prepared.commit)
    const read = new Set(prepared.scans.map((s) => s.plan.table))
    const views = prepared.scans.map((s) => {
      const dot = s.plan.table.indexOf('.')
      return { schema: s.plan.table.slice(0, dot), view: s.plan.table.slice(dot + 1), scan: s }
    })
    await this.#createCatalog(conn, LAKE_DATABASE, views)
    const db = quoteIdent(LAKE_DATABASE)
    for (const ns of Object.keys(state.namespaces)) {
      await conn.run(`CREATE SCHEMA IF NOT EXISTS ${db}.${quoteIdent(ns)}`)
    }
    for (const [key, t] of Object.entries(state.tables)) {
      if (read.has(key)) continue
      const table = await this.#loadTable(t.metadataLocation)
      const current = table.metadata['current-snapshot-id']
      const isCurrent = t.snapshotId === null || (current !== null && BigInt(t.snapshotId) === current)
      const schema = currentSchema(
        table.metadata,
        isCurrent ? undefined : snapshotById(table.metadata, t.snapshotId)?.['schema-id'],
      )
      const dot = key.indexOf('.')
      const ns = quoteIdent(key.slice(0, dot))
      const columns = schema.fields.map((f) => `${quoteIdent(f.name)} ${duckdbTypeOf(f.type)}`)
      await conn.run(`CREATE SCHEMA IF NOT EXISTS ${db}.${ns}`)
      await conn.run(`CREATE TABLE ${db}.${ns}.${quoteIdent(key.slice(dot + 1))} (${columns.join(', ')})`)
    }
    const home = state.namespaces[DEFAULT_NAMESPACE] ? `.${quoteIdent(DEFAULT_NAMESPACE)}` : ''
    await conn.run(`USE ${db}${home}`)
  }

  /** The local paths of the files a query reads, by table, so errors name the table instead of a cache path. */
  async #hiddenNames(scans: readonly PreparedScan[]): Promise<HiddenNames> {
    const files = new Map<string, string>()
    for (const s of scans) {
      const paths = await Promise.all(
        s.scan.tasks.map((t) => s.table.io.localPath(t.dataFile.dataFile.filePath)),
      )
      for (const p of paths) files.set(p, s.plan.table)
    }
    return { files }
  }

  async #trimCatalogs(conn: DuckDBConnection): Promise<void> {
    if (this.#catalogs.size <= MAX_VIEW_CATALOGS) return
    for (const [key, entry] of this.#catalogs) {
      if (this.#catalogs.size <= MAX_VIEW_CATALOGS) break
      if (entry.users > 0) continue
      this.#catalogs.delete(key)
      await entry.ready.then(
        () => conn.run(`DETACH DATABASE IF EXISTS ${quoteIdent(entry.name)}`),
        () => undefined,
      )
    }
  }

  #planId(plan: ScanPlan): number {
    let id = this.#planIds.get(plan)
    if (id === undefined) {
      id = ++this.#planCount
      this.#planIds.set(plan, id)
    }
    return id
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

  async #loadTable(metadataLocation: string): Promise<LoadedTable> {
    let p = this.#tables.get(metadataLocation)
    if (!p) {
      p = loadTable(this.store, metadataLocation, {
        localPathOf: (uri) => this.cache.localPath(this.store, uri),
      })
      p.catch(() => this.#tables.delete(metadataLocation))
      this.#tables.set(metadataLocation, p)
    }
    return p
  }

  async #planScan(
    table: LoadedTable,
    snapshotId: string | null,
    schema: Schema,
    filter: Expression | undefined,
  ): Promise<ScanPlan> {
    const f = filter ? stringifyJsonLossless(filter as unknown as JsonValue) : ''
    const key = `${table.metadataLocation}|${snapshotId ?? ''}|${schema['schema-id']}|${f}`
    let p = this.#plans.get(key)
    if (!p) {
      p = planScan(table, { snapshotId, schema, ...(filter ? { filter } : {}) })
      p.catch(() => this.#plans.delete(key))
      this.#plans.set(key, p)
    }
    return p
  }

  /**
   * Live data files of the snapshot before pruning. The planner counts only files of the manifests it kept, so with a
   * filter this is the snapshot summary's `total-data-files`, else an unfiltered plan (cached).
   */
  async #totalDataFiles(
    table: LoadedTable,
    snapshotId: string | null,
    schema: Schema,
    scan: ScanPlan,
    filter: Expression | undefined,
  ): Promise<number> {
    if (filter === undefined || scan.snapshotId === null) return scan.totalDataFiles
    const summary = snapshotById(table.metadata, scan.snapshotId)?.summary
    const recorded = Number(summary?.['total-data-files'] ?? Number.NaN)
    if (Number.isInteger(recorded) && recorded >= scan.totalDataFiles) return recorded
    return (await this.#planScan(table, snapshotId, schema, undefined)).totalDataFiles
  }

  async #resolveTable(
    commit: Commit,
    ref: string,
    r: TableReference,
    cteNames: ReadonlySet<string>,
  ): Promise<{ key: string; state: NonNullable<Awaited<ReturnType<Catalog['getTable']>>> } | undefined> {
    const shown = [r.catalog, r.schema, r.name].filter((x) => x !== '').join('.')
    const missing = async (): Promise<TarnError> => {
      // Only on the error path: the whole state is read to suggest same-named tables of other namespaces.
      const name = r.name.toLowerCase()
      const others = Object.keys((await this.catalog.stateOf(commit)).tables)
        .filter((k) => k.slice(k.indexOf('.') + 1).toLowerCase() === name && k !== shown)
        .sort()
      const hint = others.length > 0 ? ` (did you mean ${others.join(' or ')}?)` : ''
      return new TarnError('TABLE_NOT_FOUND', `table ${shown} does not exist at ${ref}${hint}`, {
        table: shown,
        ref,
        commit: commit.hash,
        ...(others.length > 0 ? { suggestions: others } : {}),
      })
    }
    if (r.catalog !== '') return undefined
    const lookup = async (ns: string) => {
      for (const name of [r.name, r.name.toLowerCase()]) {
        const key = `${ns}.${name}`
        const state = await this.catalog.getTable(commit, key)
        if (state) return { key, state }
      }
      return undefined
    }
    if (r.schema === '') {
      if (cteNames.has(r.name.toLowerCase())) return undefined
      const found = await lookup(DEFAULT_NAMESPACE)
      if (found) return found
      if (this.#systemNames.has(r.name.toLowerCase())) return undefined
      throw await missing()
    }
    for (const ns of [r.schema, r.schema.toLowerCase()]) {
      if (await this.catalog.getNamespace(commit, ns)) {
        const found = await lookup(ns)
        if (found) return found
        throw await missing()
      }
    }
    if (PASS_THROUGH_SCHEMAS.has(r.schema.toLowerCase())) return undefined
    throw await missing()
  }

  async #prepare(conn: DuckDBConnection, sql: string, ref: string): Promise<Prepared> {
    let analysis = this.#analyses.get(sql)
    if (!analysis) {
      analysis = analyzeAst(await parseSelect(conn, sql))
      this.#analyses.set(sql, analysis)
    }
    const { commit } = await this.catalog.resolve(ref)
    const cteNames = new Set(analysis.cteNames)
    const resolved = await Promise.all(
      analysis.references.map((r) => this.#resolveTable(commit, ref, r, cteNames)),
    )
    const byKey = new Map<
      string,
      { state: NonNullable<(typeof resolved)[number]>['state']; refs: TableReference[] }
    >()
    resolved.forEach((res, i) => {
      if (!res) return
      const entry = byKey.get(res.key) ?? { state: res.state, refs: [] }
      entry.refs.push(analysis.references[i] as TableReference)
      byKey.set(res.key, entry)
    })
    refuseCaseTwins([...byKey.keys()], ref)
    const loaded = new Map<string, { table: LoadedTable; schema: Schema }>()
    await Promise.all(
      [...byKey].map(async ([key, { state }]) => {
        const table = await this.#loadTable(state.metadataLocation)
        // the table's own current snapshot reads with the current schema (renames after the last write apply);
        // an older snapshot reads with the schema it was written with
        const current = table.metadata['current-snapshot-id']
        const isCurrent =
          state.snapshotId === null || (current !== null && BigInt(state.snapshotId) === current)
        const snap = snapshotById(table.metadata, state.snapshotId)
        const schema = currentSchema(table.metadata, isCurrent ? undefined : snap?.['schema-id'])
        loaded.set(key, { table, schema })
      }),
    )
    const schemas = new Map<number, Schema>()
    for (const [key, { refs }] of byKey) {
      for (const r of refs) schemas.set(r.index, (loaded.get(key) as { schema: Schema }).schema)
    }
    const filters = pushdownFilters(analysis, schemas)
    const starAll = analysis.stars.includes('')
    const scans = await Promise.all(
      [...byKey].map(async ([key, { state, refs }]): Promise<PreparedScan> => {
        const { table, schema } = loaded.get(key) as { table: LoadedTable; schema: Schema }
        const filter = combineFilters(refs.map((r) => filters.get(r.index)))
        const scan = await this.#planScan(table, state.snapshotId, schema, filter)
        const filesTotal = await this.#totalDataFiles(table, state.snapshotId, schema, scan, filter)
        const starred =
          starAll ||
          refs.some((r) => analysis.stars.includes((r.alias !== '' ? r.alias : r.name).toLowerCase()))
        const mentioned = new Set(analysis.columns)
        const columns = starred
          ? scan.schema.fields
          : scan.schema.fields.filter((f) => mentioned.has(f.name.toLowerCase()))
        const ids = new Set(columns.map((f) => f.id))
        const deletes = new Map<string, number>()
        let bytes = 0
        let rows = 0
        for (const t of scan.tasks) {
          const df = t.dataFile.dataFile
          rows += df.recordCount
          if (df.columnSizes && df.columnSizes.size > 0) {
            for (const [id, size] of df.columnSizes) if (ids.has(id)) bytes += size
          } else bytes += df.fileSizeInBytes
          for (const d of t.deletes) deletes.set(d.dataFile.filePath, d.dataFile.fileSizeInBytes)
        }
        for (const size of deletes.values()) bytes += size
        const names = [...new Set(refs.map((r) => (r.schema !== '' ? `${r.schema}.${r.name}` : r.name)))]
        return {
          table,
          scan,
          references: refs,
          plan: {
            table: key,
            names,
            metadataLocation: state.metadataLocation,
            snapshotId: scan.snapshotId === null ? null : scan.snapshotId.toString(),
            columns: columns.map((f) => f.name),
            filter,
            filesKept: scan.tasks.length,
            filesTotal,
            deleteFiles: deletes.size,
            rowsToRead: rows,
            bytesToRead: bytes,
            files: scan.tasks.map((t) => t.dataFile.dataFile.filePath),
          },
        }
      }),
    )
    return {
      plan: { sql, ref, commit: commit.hash, tables: scans.map((s) => s.plan) },
      scans,
      commit,
      catalogQuery: analysis.catalog,
    }
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
 *
 * @example
 * ```ts
 * engineDirs('/home/me/.tarn') // { cacheDir: '/home/me/.tarn/cache/files', scratchDir: '/home/me/.tarn/cache/scratch' }
 * ```
 */
export function engineDirs(home: string): { cacheDir: string; scratchDir: string } {
  return { cacheDir: join(home, 'cache', 'files'), scratchDir: join(home, 'cache', 'scratch') }
}
