import type { Catalog } from '../catalog/catalog.js'
import { DEFAULT_BRANCH } from '../catalog/defaults.js'
import { parseTableKey } from '../catalog/names.js'
import type { RefInfo } from '../catalog/types.js'
import { quoteIdent } from '../duckdb/sql-quote.js'
import type {
  ExportOptions,
  ExportResult,
  QueryEngine,
  QueryOptions,
  QueryPlan,
  QueryResult,
  QueryStream,
} from '../engine/index.js'
import { openLakeEngine } from '../engine/lake-engine.js'
import type { MetadataCache } from '../iceberg/metadata-cache.js'
import type { ObjectStore } from '../storage/object-store.js'
import type { Clock } from '../util/clock.js'
import { packageVersion } from '../util/package-version.js'
import type { Random } from '../util/random.js'
import { ActiveBranch } from './active-branch.js'
import type { PrintedQuery, PrintQueryOptions } from './lake-api.js'
import type { LakeConfig } from './lake-config.js'
import type { LakeConnection } from './lake-connection.js'
import type { TextSink } from './query-output.js'
import { refuseReservedBranchName } from './reserved-branch.js'

/**
 * What `tarn info` reports.
 *
 * @example
 * ```ts
 * const { activeBranch, catalog } = await lake.info()
 * ```
 */
export interface LakeInfo {
  readonly version: string
  readonly home: string
  readonly catalog: { readonly backend: 'sqlite' | 'postgres'; readonly location: string }
  readonly warehouse: string
  readonly activeBranch: string
  readonly branches: number
  readonly tags: number
}

/**
 * The base of the SDK's `Lake`: an open lake's catalog, warehouse and settings, its active branch, and the query
 * engine it owns (opened on the first query, shared by every handle on the same lake, closed by {@link close}).
 * `LakeRefs` adds branches, tags and history on top, and `Lake` tables, runs and jobs.
 */
export abstract class LakeHandle {
  readonly config: LakeConfig
  readonly catalog: Catalog
  /** The warehouse, able to read files outside it by absolute URI (registered foreign tables). */
  readonly store: ObjectStore
  readonly clock: Clock
  readonly random: Random
  readonly author: string
  /**
   * The lake's parsed Iceberg metadata files by URI (metadata files never change): a table a commit just wrote is
   * the base of the next commit without a read, like the engine's file cache. Each lake has its own.
   */
  readonly metadataCache: MetadataCache
  /** The parts this handle was opened with; the environment bounds the query engine's cache. */
  protected readonly connection: LakeConnection
  /** The handle that owns the connections and the query engine (itself, or the lake a handle came from). */
  protected readonly root: LakeHandle
  /** The query engine, opened on the first query and closed by {@link close}; only the root handle holds one. */
  #engine: Promise<QueryEngine> | undefined
  readonly #active: ActiveBranch

  protected constructor(connection: LakeConnection, root?: LakeHandle) {
    this.connection = connection
    this.config = connection.config
    this.catalog = connection.catalog
    this.store = connection.store
    this.clock = connection.clock
    this.random = connection.random
    this.author = connection.author
    this.metadataCache = connection.metadataCache
    this.root = root ?? this
    this.#active = new ActiveBranch(connection.config.home)
  }

  // ---------------------------------------------------------------- active branch

  /** The branch commands use when none is given (`main` in a new lake). */
  activeBranch(): string {
    return this.#active.get()
  }

  /**
   * Makes sure the active branch still exists. When it was deleted (by another process, or with `force`), the active
   * branch falls back to `main` and the name of the missing branch is returned, so that callers can say so;
   * otherwise undefined.
   *
   * @example
   * ```ts
   * const gone = await lake.ensureActiveBranch()
   * if (gone) console.error(`branch ${gone} no longer exists; now on main`)
   * ```
   */
  async ensureActiveBranch(): Promise<string | undefined> {
    const active = this.activeBranch()
    if (active === DEFAULT_BRANCH) return undefined
    const ref = await this.catalog.getRef(active)
    if (ref?.kind === 'branch') return undefined
    await this.checkout(DEFAULT_BRANCH)
    return active
  }

  /** Sets the active branch; with `create`, creates it first from `from` (default: the active branch). */
  async checkout(branch: string, options: { create?: boolean; from?: string } = {}): Promise<RefInfo> {
    if (options.create) refuseReservedBranchName(branch)
    const ref = options.create
      ? await this.catalog.createBranch(branch, { from: options.from ?? this.activeBranch() })
      : await this.catalog.getBranch(branch)
    this.#active.set(branch)
    return ref
  }

  /** Version, lake location, catalog backend, warehouse and active branch. */
  async info(): Promise<LakeInfo> {
    const [branches, tags] = await Promise.all([this.catalog.listBranches(), this.catalog.listTags()])
    return {
      version: packageVersion(),
      home: this.config.home,
      catalog: { backend: this.catalog.backend.kind, location: this.catalog.backend.location },
      warehouse: this.config.warehouse,
      activeBranch: this.activeBranch(),
      branches: branches.length,
      tags: tags.length,
    }
  }

  // ---------------------------------------------------------------- queries

  /**
   * Runs read-only DuckDB SQL over the tables visible at a ref (default: the active branch): scans are planned and
   * pruned first, files fetched into the local cache, and the result comes back as an Apache Arrow table.
   */
  async query(sql: string, options: QueryOptions = {}): Promise<QueryResult> {
    return (await this.queryEngine()).query(sql, this.#atRef(options))
  }

  /**
   * Prints a result the way `tarn query` does, streaming it to `sink` (see {@link LakeApi.printQuery}).
   *
   * @example
   * ```ts
   * await lake.printQuery('SELECT * FROM orders', { format: 'csv' }, { out: (s) => process.stdout.write(s) })
   * ```
   */
  async printQuery(sql: string, options: PrintQueryOptions, sink: TextSink): Promise<PrintedQuery> {
    const { printResult } = await import('./query-output.js')
    const stream = await this.stream(sql, { ref: options.ref ?? this.activeBranch(), batchRows: 4096 })
    try {
      const printed = await printResult(sink, stream, options.format, options.limit)
      return { ...printed, commit: stream.plan.commit }
    } finally {
      await stream.close()
    }
  }

  /**
   * Like {@link query}, streaming the result: Arrow record batches when iterated, or DuckDB's own chunks through
   * `chunks()` (what the CLI prints from). Iterate it to the end or close it.
   *
   * @example
   * ```ts
   * const stream = await lake.stream('SELECT * FROM big', { ref: 'v1', batchRows: 4096 })
   * try { for await (const batch of stream) console.log(batch.numRows) } finally { await stream.close() }
   * ```
   */
  async stream(sql: string, options: QueryOptions = {}): Promise<QueryStream> {
    return (await this.queryEngine()).stream(sql, this.#atRef(options))
  }

  /**
   * The lake's query engine (DuckDB, the scan planner and the file cache in `<home>/cache/files`), opened on the
   * first query and shared by every later query, run and {@link Lake.withAuthor} handle of this lake until {@link close}.
   * Its cache is bounded by `TARN_CACHE_MAX_BYTES` in the environment the lake was opened with.
   *
   * @example
   * ```ts
   * const engine = await lake.queryEngine()
   * engine.cache.stats()
   * ```
   */
  queryEngine(): Promise<QueryEngine> {
    const root = this.root
    if (root !== this) return root.queryEngine()
    if (this.#engine === undefined) {
      const opening = openLakeEngine(this, this.connection.env)
      opening.catch(() => {
        if (this.#engine === opening) this.#engine = undefined
      })
      this.#engine = opening
    }
    return this.#engine
  }

  /** Query options with the ref defaulted to the active branch. */
  #atRef<T extends QueryOptions>(options: T): T & { ref: string } {
    return { ...options, ref: options.ref ?? this.activeBranch() }
  }

  /**
   * Writes the whole result of read-only SQL at a ref (default: the active branch) to a local file through DuckDB's
   * own `COPY`: Parquet, CSV (with a header) or JSON lines, from `format` or the output's extension (`.parquet`,
   * `.csv`, `.jsonl`). The output's directory must exist, and the file must not unless `force`; the query's sandbox
   * may write only that output (through a temporary sibling renamed into place when complete).
   *
   * @example
   * ```ts
   * const r = await lake.exportQuery('SELECT * FROM events WHERE day = 3', { ref: 'v1', output: '/data/day3.parquet' })
   * console.log(r.rows, r.bytes)
   * ```
   */
  async exportQuery(sql: string, options: ExportOptions): Promise<ExportResult> {
    return (await this.queryEngine()).export(sql, this.#atRef(options))
  }

  /**
   * Writes a whole table at a ref (default: the active branch) to a local Parquet, CSV or JSON-lines file, as
   * {@link exportQuery} does for `SELECT * FROM <table>`.
   *
   * @example
   * ```ts
   * await lake.exportTable('sales.orders', { ref: 'main~1', output: 'orders.csv', force: true })
   * ```
   */
  exportTable(table: string, options: ExportOptions): Promise<ExportResult> {
    const key = parseTableKey(table)
    const dot = key.key.indexOf('.')
    const sql = `SELECT * FROM ${quoteIdent(key.key.slice(0, dot))}.${quoteIdent(key.key.slice(dot + 1))}`
    return this.exportQuery(sql, options)
  }

  /** The scan plan of a query (tables, snapshots, files kept of total, bytes) without running it. */
  async explain(sql: string, options: QueryOptions = {}): Promise<QueryPlan> {
    return (await this.queryEngine()).explain(sql, this.#atRef(options))
  }

  /**
   * Releases the query engine (when a query opened one), the catalog connection and storage clients. Closing a
   * {@link Lake.withAuthor} handle releases nothing.
   *
   * @example
   * ```ts
   * const lake = await Lake.open()
   * try { await lake.query('SELECT 1') } finally { await lake.close() }
   * ```
   */
  async close(): Promise<void> {
    if (this.root !== this) return
    const engine = this.#engine
    this.#engine = undefined
    await engine?.then((e) => e.close()).catch(() => undefined)
    await Promise.allSettled([this.catalog.close(), this.store.close()])
  }
}
