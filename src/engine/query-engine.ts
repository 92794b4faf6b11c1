import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DuckDBConnection, DuckDBInstance, DuckDBResult } from '@duckdb/node-api'
import { type RecordBatch, Table } from 'apache-arrow'
import { type Catalog, DEFAULT_NAMESPACE } from '../catalog/catalog.js'
import type { Commit } from '../catalog/types.js'
import {
  currentSchema,
  type Expression,
  type JsonValue,
  type LoadedTable,
  loadTable,
  planScan,
  quoteIdent,
  type ScanPlan,
  type Schema,
  snapshotById,
  stringifyJsonLossless,
} from '../iceberg/index.js'
import type { ObjectStore } from '../storage/object-store.js'
import type { Clock } from '../util/clock.js'
import { TarnError } from '../util/errors.js'
import { openSandbox } from './duckdb-sandbox.js'
import { FileCache } from './file-cache.js'
import { pushdownFilters } from './filter-pushdown.js'
import type { QueryPlan, TableScanPlan } from './query-plan.js'
import { QueryResult } from './query-result.js'
import { QueryStream } from './query-stream.js'
import { FooterCache, scanViewSql } from './scan-view.js'
import { analyzeAst, parseSelect, sqlError, type TableReference } from './sql-analysis.js'

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
}

const PASS_THROUGH_SCHEMAS = new Set(['information_schema', 'pg_catalog', 'main', 'system', 'temp'])

class BoundedMap<K, V> {
  readonly #max: number
  readonly #map = new Map<K, V>()
  constructor(max: number) {
    this.#max = max
  }
  get(k: K): V | undefined {
    return this.#map.get(k)
  }
  set(k: K, v: V): void {
    if (this.#map.size >= this.#max) {
      const oldest = this.#map.keys().next().value
      if (oldest !== undefined) this.#map.delete(oldest)
    }
    this.#map.set(k, v)
  }
  delete(k: K): void {
    this.#map.delete(k)
  }
}

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
  readonly #systemNames: ReadonlySet<string>
  #queries = 0
  #closed = false

  private constructor(
    options: QueryEngineOptions,
    cache: FileCache,
    duckdb: DuckDBInstance,
    systemNames: ReadonlySet<string>,
  ) {
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
    const cache = await FileCache.open({
      dir: options.cacheDir,
      ...(options.cacheMaxBytes !== undefined ? { maxBytes: options.cacheMaxBytes } : {}),
      ...(options.fetchConcurrency !== undefined ? { concurrency: options.fetchConcurrency } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    })
    const readable = [cache.dir]
    if (options.store.root.startsWith('file://')) readable.push(fileURLToPath(options.store.root))
    const duckdb = await openSandbox({
      readableDirectories: readable,
      scratchDir: options.scratchDir,
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.memoryLimit !== undefined ? { memoryLimit: options.memoryLimit } : {}),
    })
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
    return new QueryEngine(options, cache, duckdb, names)
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
    const stream = await this.stream(sql, options)
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
  async stream(sql: string, options: QueryOptions = {}): Promise<QueryStream> {
    const conn = await this.#connect()
    const id = `tarn_q${++this.#queries}`
    let unpin: (() => Promise<void>) | undefined
    let attached = false
    const release = async (): Promise<void> => {
      try {
        if (attached) {
          await conn.run('USE memory')
          await conn.run(`DETACH ${quoteIdent(id)}`)
        }
      } catch {
        // the connection is closed below anyway
      } finally {
        conn.closeSync()
        await unpin?.()
      }
    }
    try {
      const prepared = await this.#prepare(conn, sql, options.ref ?? 'main')
      unpin = await this.#fetch(prepared.scans)
      await conn.run(`ATTACH ':memory:' AS ${quoteIdent(id)}`)
      attached = true
      await conn.run(`USE ${quoteIdent(id)}`)
      await this.#createViews(conn, id, prepared.scans)
      let result: DuckDBResult
      try {
        result = await conn.stream(sql)
      } catch (e) {
        throw sqlError(duckdbMessage(e), sql)
      }
      return new QueryStream(prepared.plan, result, options.batchRows ?? 65_536, release, sql)
    } catch (e) {
      await release()
      throw e
    }
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
    const missing = (): TarnError =>
      new TarnError('TABLE_NOT_FOUND', `table ${shown} does not exist at ${ref}`, {
        table: shown,
        ref,
        commit: commit.hash,
      })
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
      throw missing()
    }
    for (const ns of [r.schema, r.schema.toLowerCase()]) {
      if (await this.catalog.getNamespace(commit, ns)) {
        const found = await lookup(ns)
        if (found) return found
        throw missing()
      }
    }
    if (PASS_THROUGH_SCHEMAS.has(r.schema.toLowerCase())) return undefined
    throw missing()
  }

  async #prepare(conn: DuckDBConnection, sql: string, ref: string): Promise<Prepared> {
    const analysis = analyzeAst(await parseSelect(conn, sql))
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
    return { plan: { sql, ref, commit: commit.hash, tables: scans.map((s) => s.plan) }, scans }
  }

  /** Fetches every kept data file and delete file (in parallel, pinned) and returns the release function. */
  async #fetch(scans: readonly PreparedScan[]): Promise<() => Promise<void>> {
    const uris = new Set<string>()
    for (const s of scans) {
      for (const t of s.scan.tasks) {
        for (const e of [t.dataFile, ...t.deletes]) {
          const key = this.store.keyOf(s.table.io.resolve(e.dataFile.filePath))
          if (key !== undefined) uris.add(this.store.uriOf(key))
        }
      }
    }
    return (await this.cache.acquire(this.store, [...uris])).release
  }

  async #createViews(conn: DuckDBConnection, catalog: string, scans: readonly PreparedScan[]): Promise<void> {
    const schemas = new Set<string>(['main'])
    for (const s of scans) {
      const dot = s.plan.table.indexOf('.')
      const ns = s.plan.table.slice(0, dot)
      const name = s.plan.table.slice(dot + 1)
      const body = await scanViewSql(s.table, s.scan, conn, this.#footers)
      // one view per name the SQL uses (`t` in the query catalog's main schema, `ns.t` in schema `ns`)
      const targets = new Set<string>()
      for (const r of s.references)
        targets.add(r.schema !== '' ? `${r.schema}\u0000${r.name}` : `main\u0000${r.name}`)
      if (targets.size === 0) targets.add(`${ns}\u0000${name}`)
      for (const t of targets) {
        const [schema, view] = t.split('\u0000') as [string, string]
        if (!schemas.has(schema)) {
          await conn.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(catalog)}.${quoteIdent(schema)}`)
          schemas.add(schema)
        }
        await conn.run(
          `CREATE OR REPLACE VIEW ${quoteIdent(catalog)}.${quoteIdent(schema)}.${quoteIdent(view)} AS ${body}`,
        )
      }
    }
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
