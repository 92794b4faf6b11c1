import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { isAbsolute, join, resolve as resolvePath } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { DuckDBConnection } from '@duckdb/node-api'
import type { CatalogBackend } from '../catalog/backend.js'
import { Catalog, DEFAULT_BRANCH, DEFAULT_NAMESPACE, type LogOptions } from '../catalog/catalog.js'
import { assertIdentifier, parseTableKey } from '../catalog/names.js'
import type { MergeResult, RevertPlan, RevertResult } from '../catalog/results.js'
import type { TableMerger } from '../catalog/table-merger.js'
import type { Commit, NamespaceState, RefInfo, TableState } from '../catalog/types.js'
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
import { quoteIdent } from '../iceberg/duckdb-sql.js'
import { appendOnlyTableMerger } from '../iceberg/merge/append-only-merger.js'
import { appendOnlyTableReverter } from '../iceberg/merge/append-only-reverter.js'
import { rebaseAppend } from '../iceberg/merge/append-rebaser.js'
import { registerTable } from '../iceberg/register-table.js'
import { planScan } from '../iceberg/scan-planner.js'
import type { NestedField, Schema } from '../iceberg/schema.js'
import { type LoadedTable, loadTable } from '../iceberg/table-loader.js'
import { currentSchema, snapshotById } from '../iceberg/table-metadata.js'
import { icebergTypeText } from '../iceberg/type-text.js'
import { applySchemaChanges, evolveSchema, schemaChangesFor } from '../iceberg/writer/schema-evolution.js'
import type { CommitResult } from '../iceberg/writer/snapshot-producer.js'
import type { PlannedProject } from '../pipeline/plan-project.js'
import { writeProjectFiles } from '../pipeline/run/code-files.js'
import type {
  AnyJobRecord,
  JobRecord,
  JobStatus,
  RerunOptions,
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
import { unfinishedRunAt } from '../pipeline/run/unfinished-run.js'
import type { ScaffoldedProject } from '../pipeline/scaffold-project.js'
import type { ObjectStore } from '../storage/object-store.js'
import { openObjectStore } from '../storage/open.js'
import { RoutingObjectStore } from '../storage/routing.js'
import { type Clock, systemClock } from '../util/clock.js'
import { isTarnError, messageOf, TarnError } from '../util/errors.js'
import { packageVersion } from '../util/package-version.js'
import { type Random, systemRandom } from '../util/random.js'
import { collectGarbage, type GcOptions, type GcReport } from './garbage-collector.js'
import { IcebergCatalog } from './iceberg-catalog.js'
import type { SourceFile } from './import-sources.js'
import type { LakeApi } from './lake-api.js'
import { type LakeConfig, type LakeLocation, resolveLakeConfig } from './lake-config.js'
import { openCatalogBackend } from './open-backend.js'
import { type OperationEnd, type OperationStart, trackOperation } from './operation-job.js'
import { parsePartitionBy } from './partition-by.js'
import { describeDiff, type RefDiff } from './ref-diff.js'
import { refuseReservedBranchName } from './reserved-branch.js'

/**
 * What {@link Lake.deleteSealedBranches} did (or, with `dryRun`, would do): the sealed branches deleted, how many
 * sealed branches are kept (younger, or active).
 *
 * @example
 * ```ts
 * const r: SealedBranchCleanup = { dryRun: true, deleted: [], kept: 0 }
 * ```
 */
export interface SealedBranchCleanup {
  readonly dryRun: boolean
  readonly deleted: readonly RefInfo[]
  readonly kept: number
  /** Set when the active branch is sealed and old enough: it is never deleted. */
  readonly keptActive?: string
}

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
 * Options of {@link Lake.open} and {@link Lake.init}.
 *
 * @example
 * ```ts
 * await Lake.open({ home: '/tmp/lake', author: 'alice', clock: fixedClock(0), random: seededRandom(1) })
 * ```
 */
export interface LakeOptions extends LakeLocation {
  /** Environment to read `TARN_*` variables from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly cwd?: string
  readonly clock?: Clock
  readonly random?: Random
  /** Author of commits (default `TARN_USER`, else the OS user name). */
  readonly author?: string
  /** A ready backend (tests and embedders); overrides the catalog URL. */
  readonly backend?: CatalogBackend
  /**
   * A ready warehouse store (tests and embedders, e.g. fault injection); overrides the store opened from the
   * warehouse URI. Absolute URIs outside it are still routed to their own stores.
   */
  readonly store?: ObjectStore
  /** Content-aware table merge used by merges (the Iceberg layer's append-only merger by default, once wired). */
  readonly tableMerger?: TableMerger
}

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
 * A branch or tag with its head commit.
 *
 * @example
 * ```ts
 * const { head, commit } = await lake.getBranch('main'); commit.message
 * ```
 */
export interface RefWithCommit extends RefInfo {
  readonly commit: Commit
}

/**
 * What a table write (create, import, register) did.
 *
 * @example
 * ```ts
 * const { addedRecords, commit } = await lake.importTable('orders', { from: 'more/*.csv' })
 * ```
 */
export interface TableWriteResult {
  readonly table: string
  readonly branch: string
  readonly commit: Commit
  readonly state: TableState
  /** Files read (imports). */
  readonly files: readonly string[]
  /** Rows added by this write. */
  readonly addedRecords: number
}

/**
 * A table's Iceberg description at a ref: schema, partition spec, snapshots, size.
 *
 * @example
 * ```ts
 * const { schema, recordCount, snapshots } = await lake.getTable('orders', { ref: 'v1' })
 * ```
 */
export interface TableDetails {
  readonly table: string
  readonly ref: string
  readonly state: TableState
  readonly formatVersion: number
  readonly location: string
  readonly schema: readonly { id: number; name: string; type: string; required: boolean }[]
  readonly partitionSpec: readonly { name: string; transform: string; sourceColumn: string }[]
  readonly snapshots: readonly {
    snapshotId: string
    parentId: string | null
    timestamp: string
    operation: string
    summary: Record<string, string>
  }[]
  readonly currentSnapshotId: string | null
  /** Rows in the live data files (before delete files are applied). */
  readonly recordCount: number
  readonly dataFiles: number
  readonly deleteFiles: number
  readonly sizeBytes: number
  readonly properties: Readonly<Record<string, string>>
}

/**
 * A commit with its diff against its first parent (`lake.log(ref, { patch: true })`).
 *
 * @example
 * ```ts
 * const [c] = await lake.log('main', { limit: 1, patch: true }); c?.diff.tableChanges
 * ```
 */
export interface CommitWithDiff extends Commit {
  readonly diff: RefDiff
}

/**
 * A table listed at a ref.
 *
 * @example
 * ```ts
 * for (const t of await lake.listTables({ namespace: 'sales' })) console.log(t.table)
 * ```
 */
export interface TableEntry {
  readonly table: string
  readonly namespace: string
  readonly name: string
  readonly state: TableState
  /** Rows, data files and bytes (when listed with `stats`). */
  readonly stats?: TableStats
}

/**
 * The size of a table at a ref: rows in its live data files (before deletes), data files and their bytes.
 *
 * @example
 * ```ts
 * const s: TableStats = { rows: 5000000, files: 12, sizeBytes: 48_000_000 }
 * ```
 */
export interface TableStats {
  readonly rows: number
  readonly files: number
  readonly sizeBytes: number
}

/**
 * The modules of imports (DuckDB, the Parquet writer), loaded on the first import rather than when the lake opens.
 */
async function writeModules() {
  const [reader, schema, writer, sources] = await Promise.all([
    import('../iceberg/table-reader.js'),
    import('../iceberg/writer/duckdb-schema.js'),
    import('../iceberg/writer/table-writer.js'),
    import('./import-sources.js'),
  ])
  return {
    withConnection: reader.withConnection,
    schemaFromQuery: schema.schemaFromQuery,
    createTable: writer.createTable,
    appendRows: writer.appendRows,
    overwriteRows: writer.overwriteRows,
    sourcesQuery: sources.sourcesQuery,
    validateSources: sources.validateSources,
  }
}

/**
 * How a table append that lost a race to another write of the same table is rebased: the table it was written on,
 * its snapshot summary, and a check of the newer table state (e.g. that no file was imported twice meanwhile).
 *
 * @example
 * ```ts
 * const r: AppendRebase = { base: loaded, summary: { 'tarn.import-fingerprints': fp } }
 * ```
 */
export interface AppendRebase {
  readonly base: LoadedTable
  readonly summary: Readonly<Record<string, string>>
  readonly check?: (head: LoadedTable) => void
}

/** How often one append is rebased onto a table that other appends keep moving before giving up. */
const MAX_APPEND_REBASES = 100

async function readSchema(conn: DuckDBConnection, files: readonly SourceFile[]): Promise<Schema> {
  const { schemaFromQuery, sourcesQuery } = await writeModules()
  try {
    return await schemaFromQuery(conn, sourcesQuery(files))
  } catch (e) {
    throw new TarnError(
      'INVALID_FILE',
      `cannot read the files to import: ${messageOf(e)}`,
      { files: files.map((f) => f.source) },
      { cause: e },
    )
  }
}

function refuseImportedAgain(table: LoadedTable, key: string, files: readonly SourceFile[]): void {
  const seen = new Set(
    table.metadata.snapshots.flatMap((sn) =>
      (sn.summary['tarn.import-fingerprints'] ?? '').split(',').filter(Boolean),
    ),
  )
  const again = files.filter((f) => seen.has(f.fingerprint))
  if (again.length > 0) {
    throw new TarnError(
      'ALREADY_IMPORTED',
      `already imported into ${key}: ${again.map((f) => f.source).join(', ')} (use --force to import again)`,
      { table: key, files: again.map((f) => f.source) },
    )
  }
}

function defaultAuthor(env: Readonly<Record<string, string | undefined>>): string {
  if (env.TARN_USER) return env.TARN_USER
  try {
    return userInfo().username
  } catch {
    return 'tarn'
  }
}

/**
 * A lake: one catalog plus one warehouse, opened on a home directory (embedded default) or on explicit catalog and
 * warehouse settings. The public SDK: one method per operation, returning plain typed values. The CLI is a thin
 * layer over it. Close it when done.
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
export class Lake implements LakeApi {
  readonly config: LakeConfig
  readonly catalog: Catalog
  /** The warehouse, able to read files outside it by absolute URI (registered foreign tables). */
  readonly store: ObjectStore
  readonly clock: Clock
  readonly random: Random
  readonly author: string
  /** The handle that owns the connections (itself, or the lake an {@link Lake.withAuthor} handle came from). */
  readonly #root: Lake
  /** The environment the lake was opened with (`TARN_CACHE_MAX_BYTES` bounds the query engine's cache). */
  readonly #env: Readonly<Record<string, string | undefined>>
  /** The query engine, opened on the first query and closed by {@link close}; only the root handle holds one. */
  #engine: Promise<QueryEngine> | undefined

  private constructor(
    config: LakeConfig,
    catalog: Catalog,
    store: ObjectStore,
    o: {
      clock: Clock
      random: Random
      author: string
      env: Readonly<Record<string, string | undefined>>
      root?: Lake
    },
  ) {
    this.config = config
    this.catalog = catalog
    this.store = store
    this.clock = o.clock
    this.random = o.random
    this.author = o.author
    this.#env = o.env
    this.#root = o.root ?? this
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
    return new Lake(this.config, this.catalog, this.store, {
      clock: this.clock,
      random: this.random,
      author,
      env: this.#env,
      root: this.#root,
    })
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
      env: this.#env,
    })
  }

  static async #connect(options: LakeOptions, create: boolean): Promise<Lake> {
    const env = options.env ?? process.env
    const config = resolveLakeConfig(options, env, options.cwd)
    const clock = options.clock ?? systemClock
    const random = options.random ?? systemRandom
    const author = options.author ?? defaultAuthor(env)
    // A warehouse that cannot be used (an S3 bucket without a region) fails init before anything is created.
    if (create && options.store === undefined) await (await openObjectStore(config.warehouse)).close()
    if (create) mkdirSync(config.home, { recursive: true })
    const backend = options.backend ?? openCatalogBackend(config.catalogUrl, { mustExist: !create })
    let warehouse = config.warehouse
    let store: RoutingObjectStore
    try {
      await backend.migrate()
      warehouse = create
        ? await backend.initMeta('warehouse', config.warehouse)
        : ((await backend.getMeta('warehouse')) ?? config.warehouse)
      store = new RoutingObjectStore(options.store ?? (await openObjectStore(warehouse)))
    } catch (e) {
      await backend.close()
      throw e
    }
    const catalog = new Catalog(backend, {
      clock,
      author,
      tableMerger: options.tableMerger ?? appendOnlyTableMerger(store, { clock, random }),
      tableReverter: appendOnlyTableReverter(store, { clock, random }),
    })
    try {
      if (create) await catalog.init()
      else if (!(await catalog.isInitialized())) {
        throw new TarnError(
          'LAKE_NOT_FOUND',
          `no lake in ${backend.location}; create one with \`tarn init\``,
          {
            catalog: backend.location,
          },
        )
      }
    } catch (e) {
      await Promise.allSettled([backend.close(), store.close()])
      throw e
    }
    return new Lake({ ...config, warehouse }, catalog, store, { clock, random, author, env })
  }

  /** Creates the lake if missing (idempotent) and opens it. */
  static init(options: LakeOptions = {}): Promise<Lake> {
    return Lake.#connect(options, true)
  }

  /** Opens an existing lake; `LAKE_NOT_FOUND` (with how to create one) when there is none. */
  static open(options: LakeOptions = {}): Promise<Lake> {
    return Lake.#connect(options, false)
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

  // ---------------------------------------------------------------- active branch

  get #statePath(): string {
    return join(this.config.home, 'state.json')
  }

  /** The branch commands use when none is given (`main` in a new lake). */
  activeBranch(): string {
    try {
      const s = JSON.parse(readFileSync(this.#statePath, 'utf8')) as { activeBranch?: string }
      return s.activeBranch ?? DEFAULT_BRANCH
    } catch {
      return DEFAULT_BRANCH
    }
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
    mkdirSync(this.config.home, { recursive: true })
    const tmp = `${this.#statePath}.${process.pid}.tmp`
    writeFileSync(tmp, `${JSON.stringify({ activeBranch: branch }, null, 2)}\n`)
    renameSync(tmp, this.#statePath)
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

  // ---------------------------------------------------------------- branches and tags

  /** Every branch. */
  listBranches(): Promise<RefInfo[]> {
    return this.catalog.listBranches()
  }

  /** A branch with its head commit. */
  async getBranch(name: string): Promise<RefWithCommit> {
    const ref = await this.catalog.getBranch(name)
    return { ...ref, commit: await this.catalog.getCommit(ref.head) }
  }

  /**
   * Creates a branch (O(1)) from `from` (default: the active branch). A branch forked from a sealed branch, or from a
   * commit that shows part of a run (running, failed, or not its last commit), is a sealed, read-only copy.
   *
   * @example
   * ```ts
   * await lake.createBranch('dev', { from: 'main' })
   * ```
   */
  async createBranch(name: string, options: { from?: string } = {}): Promise<RefInfo> {
    refuseReservedBranchName(name)
    return this.catalog.createBranch(name, {
      from: options.from ?? this.activeBranch(),
      seal: async (commit) => (await unfinishedRunAt(this.catalog, this.store, commit)) !== undefined,
    })
  }

  /**
   * Deletes a branch. The active branch is refused (`BRANCH_ACTIVE`, as Git refuses to delete the checked-out branch);
   * with `force` it is deleted and the active branch falls back to `main` (`activeReset` in the result says so). The
   * branch of a run that is still running, or of a failed run (kept sealed for debugging), is protected
   * (`BRANCH_PROTECTED`); `force` deletes it anyway (a running run then fails without touching its target).
   *
   * @example
   * ```ts
   * await lake.deleteBranch('dev')
   * await lake.deleteBranch('run/job-1a2b3c4d5e6f', { force: true }) // clean up a failed run
   * ```
   */
  async deleteBranch(
    name: string,
    options: { force?: boolean } = {},
  ): Promise<RefInfo & { readonly activeReset?: boolean }> {
    const active = this.activeBranch() === name && name !== DEFAULT_BRANCH
    if (options.force !== true) {
      if (active) {
        await this.catalog.getBranch(name)
        throw new TarnError(
          'BRANCH_ACTIVE',
          `branch ${name} is the active branch; \`tarn checkout\` another branch first (--force deletes it and switches to ${DEFAULT_BRANCH})`,
          { branch: name },
        )
      }
      await this.#refuseRunBranch(name, 'deleted')
    }
    const ref = await this.catalog.deleteBranch(name)
    if (!active) return ref
    await this.checkout(DEFAULT_BRANCH)
    return { ...ref, activeReset: true }
  }

  /**
   * Deletes every sealed branch (failed runs' branches and their sealed forks), optionally only those created more
   * than `olderThanMs` ago; the active branch is kept. With `dryRun`, lists what would go and deletes nothing.
   *
   * @example
   * ```ts
   * const { deleted } = await lake.deleteSealedBranches({ olderThanMs: 7 * 86_400_000, dryRun: true })
   * ```
   */
  async deleteSealedBranches(
    options: { olderThanMs?: number; dryRun?: boolean } = {},
  ): Promise<SealedBranchCleanup> {
    const now = this.clock.now()
    const active = this.activeBranch()
    const sealed = (await this.catalog.listBranches()).filter((b) => b.sealed)
    const old = sealed.filter(
      (b) => options.olderThanMs === undefined || now - b.createdAt > options.olderThanMs,
    )
    const chosen = old.filter((b) => b.name !== active)
    const deleted: RefInfo[] = []
    for (const b of chosen) deleted.push(options.dryRun ? b : await this.catalog.deleteBranch(b.name))
    return {
      dryRun: options.dryRun === true,
      deleted,
      kept: sealed.length - deleted.length,
      ...(chosen.length < old.length ? { keptActive: active } : {}),
    }
  }

  /** Refuses to change the branch of a running or failed run. */
  async #refuseRunBranch(name: string, what: string): Promise<void> {
    const m = /^run\/(job-[0-9a-f]+)$/.exec(name)
    if (!m) return
    await this.catalog.getBranch(name)
    const job = await getJob(this.store, m[1] as string).catch(() => undefined)
    if (job === undefined || job.runBranch !== name || job.status === 'succeeded') return
    const why =
      job.status === 'running'
        ? `run ${job.id} is still running on it`
        : `it is the sealed branch of failed run ${job.id}, kept for debugging`
    throw new TarnError('BRANCH_PROTECTED', `branch ${name} cannot be ${what}: ${why} (--force overrides)`, {
      branch: name,
      job: job.id,
      status: job.status,
    })
  }

  /**
   * Renames a branch (and follows it if it was the active one). The branch of a running or failed run cannot be
   * renamed (`BRANCH_PROTECTED`).
   *
   * @example
   * ```ts
   * await lake.renameBranch('dev', 'feature/x')
   * ```
   */
  async renameBranch(from: string, to: string): Promise<RefInfo> {
    refuseReservedBranchName(to)
    await this.#refuseRunBranch(from, 'renamed')
    const ref = await this.catalog.renameBranch(from, to)
    if (this.activeBranch() === from) await this.checkout(to)
    return ref
  }

  /**
   * Protects a branch: it then takes only merges (no direct commit or revert) and cannot be deleted or renamed.
   *
   * @example
   * ```ts
   * await lake.protectBranch('main')
   * ```
   */
  protectBranch(name: string): Promise<RefInfo> {
    return this.catalog.protectBranch(name)
  }

  /** Lifts a branch's protection. */
  unprotectBranch(name: string): Promise<RefInfo> {
    return this.catalog.unprotectBranch(name)
  }

  /** Names of the protected branches. */
  protectedBranches(): Promise<string[]> {
    return this.catalog.protectedBranches()
  }

  /** Every tag. */
  listTags(): Promise<RefInfo[]> {
    return this.catalog.listTags()
  }

  /** Creates a tag at `from` (default: the active branch). */
  createTag(name: string, options: { from?: string } = {}): Promise<RefInfo> {
    return this.catalog.createTag(name, { from: options.from ?? this.activeBranch() })
  }

  /** Deletes a tag. */
  deleteTag(name: string): Promise<RefInfo> {
    return this.catalog.deleteTag(name)
  }

  /**
   * What `ref` has that `against` (default: the active branch) lacks. By default three-dot, as lakeFS and Nessie
   * show it: the changes made on `ref` since its merge base with `against` (what merging `ref` into `against` would
   * bring); with `twoWay`, the plain comparison of the two states. Every added, removed or changed table is described
   * from its Iceberg metadata and manifests (schema changes by field id, partition spec, files and records added and
   * removed); with `rows`, up to that many rows of the added and of the removed data files are read too.
   *
   * @example
   * ```ts
   * const d = await lake.diff('dev', 'main')                       // what dev would bring into main
   * const s = await lake.diff('dev', 'main', { twoWay: true })     // how the two states differ
   * const r = await lake.diff('dev', 'main', { rows: 5 })          // with sample rows
   * for (const t of d.tableChanges) console.log(t.table, t.records.added, t.records.removed)
   * ```
   */
  async diff(
    ref: string,
    against?: string,
    options: { twoWay?: boolean; rows?: number } = {},
  ): Promise<RefDiff> {
    if (options.rows !== undefined && (!Number.isInteger(options.rows) || options.rows < 0)) {
      throw new TarnError('INVALID_ARGUMENT', `rows must be a non-negative integer, got ${options.rows}`, {
        rows: options.rows,
      })
    }
    const d = await this.catalog.diff(ref, against ?? this.activeBranch(), {
      mode: options.twoWay ? 'two-way' : 'three-dot',
    })
    return describeDiff(this.store, d, options.rows === undefined ? {} : { rows: options.rows })
  }

  /** Merges `source` into `into` (default: the active branch). See {@link Catalog.merge}. */
  merge(
    source: string,
    options: { into?: string; message?: string; dryRun?: boolean } = {},
  ): Promise<MergeResult> {
    return this.catalog.merge(source, {
      into: options.into ?? this.activeBranch(),
      author: this.author,
      ...(options.message !== undefined ? { message: options.message } : {}),
      ...(options.dryRun !== undefined ? { dryRun: options.dryRun } : {}),
    })
  }

  /**
   * Commit history from `ref` (default: the active branch), newest first; `firstParent` follows only first parents.
   * With `patch`, each commit comes with its diff against its first parent (tables described as in {@link diff}).
   *
   * @example
   * ```ts
   * const last = await lake.log('main', { limit: 5, firstParent: true })
   * const withChanges = await lake.log('main', { limit: 3, patch: true })
   * withChanges[0]?.diff?.tableChanges
   * ```
   */
  log(ref?: string, options?: LogOptions & { patch?: false }): Promise<Commit[]>
  log(
    ref: string | undefined,
    options: LogOptions & { patch: true; rows?: number },
  ): Promise<CommitWithDiff[]>
  async log(
    ref?: string,
    options: LogOptions & { patch?: boolean; rows?: number } = {},
  ): Promise<Commit[] | CommitWithDiff[]> {
    const { patch, rows, ...filters } = options
    const commits = await this.catalog.log(ref ?? this.activeBranch(), filters)
    if (!patch) return commits
    const out: CommitWithDiff[] = []
    for (const c of commits)
      out.push({ ...c, diff: await this.commitDiff(c, rows === undefined ? {} : { rows }) })
    return out
  }

  /**
   * The changes one commit made against its first parent (the whole state, for the first commit), described as in
   * {@link diff}.
   *
   * @example
   * ```ts
   * const d = await lake.commitDiff((await lake.log('main', { limit: 1 }))[0]!)
   * ```
   */
  async commitDiff(commit: Commit, options: { rows?: number } = {}): Promise<RefDiff> {
    return describeDiff(this.store, await this.catalog.diffCommit(commit), options)
  }

  /**
   * Undoes a commit with a new commit on `on` (default: the active branch). With `dryRun`, nothing is written and the
   * result is the plan: which tables and namespaces would be restored or dropped, and for tables that only grew since,
   * how many appended files and records would be removed.
   *
   * @example
   * ```ts
   * const plan = await lake.revert('main~1', { dryRun: true }); plan.steps
   * await lake.revert('main~1', { message: 'undo the bad import' })
   * ```
   */
  revert(
    commit: string,
    options?: { on?: string; table?: string; message?: string; dryRun?: false },
  ): Promise<RevertResult>
  revert(commit: string, options: { on?: string; table?: string; dryRun: true }): Promise<RevertPlan>
  revert(
    commit: string,
    options: { on?: string; table?: string; message?: string; dryRun?: boolean } = {},
  ): Promise<RevertResult | RevertPlan> {
    const on = options.on ?? this.activeBranch()
    const table = options.table !== undefined ? { table: options.table } : {}
    if (options.dryRun) return this.catalog.planRevert(commit, { on, ...table })
    return this.catalog.revert(commit, {
      on,
      author: this.author,
      ...table,
      ...(options.message !== undefined ? { message: options.message } : {}),
    })
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
  async listTables(
    options: { ref?: string; namespace?: string; stats?: boolean } = {},
  ): Promise<TableEntry[]> {
    const s = await this.catalog.state(options.ref ?? this.activeBranch())
    const entries = Object.entries(s.tables)
      .map(([table, state]) => {
        const dot = table.indexOf('.')
        return { table, namespace: table.slice(0, dot), name: table.slice(dot + 1), state }
      })
      .filter((t) => options.namespace === undefined || t.namespace === options.namespace)
      .sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0))
    if (!options.stats) return entries
    return Promise.all(entries.map(async (e) => ({ ...e, stats: await this.#tableStats(e.state) })))
  }

  async #tableStats(state: TableState): Promise<TableStats> {
    const loaded = await loadTable(this.store, state.metadataLocation)
    const snap = snapshotById(loaded.metadata, state.snapshotId)
    if (!snap) return { rows: 0, files: 0, sizeBytes: 0 }
    const sum = snap.summary
    const num = (k: string): number | undefined => {
      const v = Number(sum[k] ?? Number.NaN)
      return Number.isFinite(v) ? v : undefined
    }
    const rows = num('total-records')
    const files = num('total-data-files')
    const size = num('total-files-size')
    if (rows !== undefined && files !== undefined && size !== undefined)
      return { rows, files, sizeBytes: size }
    const plan = await planScan(loaded, { snapshotId: state.snapshotId })
    return {
      rows: plan.tasks.reduce((a, t) => a + t.dataFile.dataFile.recordCount, 0),
      files: plan.tasks.length,
      sizeBytes: plan.tasks.reduce((a, t) => a + t.dataFile.dataFile.fileSizeInBytes, 0),
    }
  }

  /** The Iceberg table behind a table key at a ref (or commit). */
  async loadTable(
    table: string,
    options: { ref?: string } = {},
  ): Promise<{ loaded: LoadedTable; state: TableState }> {
    const key = parseTableKey(table)
    const ref = options.ref ?? this.activeBranch()
    const state = await this.catalog.getTable(ref, key.key)
    if (!state)
      throw new TarnError('TABLE_NOT_FOUND', `table ${key.key} does not exist at ${ref}`, {
        table: key.key,
        ref,
      })
    return { loaded: await loadTable(this.store, state.metadataLocation), state }
  }

  /** Schema, partition spec, snapshots, record count and size of a table at a ref (default: the active branch). */
  async getTable(table: string, options: { ref?: string } = {}): Promise<TableDetails> {
    const ref = options.ref ?? this.activeBranch()
    const key = parseTableKey(table).key
    const { loaded, state } = await this.loadTable(key, { ref })
    const m = loaded.metadata
    const schema = currentSchema(m)
    const spec = m['partition-specs'].find((p) => p['spec-id'] === m['default-spec-id'])
    const byId = new Map(schema.fields.map((f) => [f.id, f.name]))
    const plan = snapshotById(m) ? await planScan(loaded) : undefined
    const deletes = new Set(plan?.tasks.flatMap((t) => t.deletes.map((d) => d.dataFile.filePath)) ?? [])
    return {
      table: key,
      ref,
      state,
      formatVersion: m['format-version'],
      location: m.location,
      schema: schema.fields.map((f: NestedField) => ({
        id: f.id,
        name: f.name,
        type: icebergTypeText(f.type),
        required: f.required,
      })),
      partitionSpec: (spec?.fields ?? []).map((f) => ({
        name: f.name,
        transform: f.transform,
        sourceColumn: byId.get(f['source-id']) ?? String(f['source-id']),
      })),
      snapshots: m.snapshots.map((sn) => ({
        snapshotId: sn['snapshot-id'].toString(),
        parentId: sn['parent-snapshot-id'] === undefined ? null : sn['parent-snapshot-id'].toString(),
        timestamp: new Date(sn['timestamp-ms']).toISOString(),
        operation: sn.summary.operation,
        summary: { ...sn.summary },
      })),
      currentSnapshotId: m['current-snapshot-id'] === null ? null : String(m['current-snapshot-id']),
      recordCount: plan?.tasks.reduce((a, t) => a + t.dataFile.dataFile.recordCount, 0) ?? 0,
      dataFiles: plan?.tasks.length ?? 0,
      deleteFiles: deletes.size,
      sizeBytes: plan?.tasks.reduce((a, t) => a + t.dataFile.dataFile.fileSizeInBytes, 0) ?? 0,
      properties: { ...m.properties },
    }
  }

  async #sources(
    options: { from: string | readonly string[]; cwd?: string },
    conn: DuckDBConnection,
  ): Promise<SourceFile[]> {
    const from = typeof options.from === 'string' ? [options.from] : options.from
    const { resolveSources } = await import('./import-sources.js')
    return resolveSources(from, { cwd: options.cwd ?? process.cwd(), store: this.store, conn })
  }

  #deps(): { clock: Clock; random: Random } {
    return { clock: this.clock, random: this.random }
  }

  async #commitTable(
    branch: string,
    key: string,
    written: CommitResult,
    base: string,
    message: string,
    properties: Record<string, string>,
    files: readonly SourceFile[],
    appendRebase?: AppendRebase,
  ): Promise<TableWriteResult> {
    let result = written
    let rebase = appendRebase
    let commit: Commit | undefined
    let expectedHead = base
    for (let attempt = 1; commit === undefined; attempt++) {
      try {
        commit = await this.catalog.commit({
          branch,
          changes: [{ type: 'putTable', key, state: result.state }],
          message,
          author: this.author,
          expectedHead,
          properties,
        })
      } catch (e) {
        if (rebase === undefined || !isTarnError(e, 'BRANCH_HEAD_CHANGED') || attempt >= MAX_APPEND_REBASES)
          throw e
        const moved = e.context.keys
        const actual = e.context.actualHead
        if (!Array.isArray(moved) || !moved.includes(key) || typeof actual !== 'string') throw e
        // another write changed this table meanwhile: appends commute, so append our files onto its new state
        const now = await this.catalog.getTable(await this.catalog.getCommit(actual), key)
        if (!now || now.tableUuid !== result.state.tableUuid) throw e
        const head = await loadTable(this.store, now.metadataLocation)
        rebase.check?.(head)
        const ours = await loadTable(this.store, result.metadataLocation)
        const out = await rebaseAppend(rebase.base, ours, head, rebase.summary, this.#deps())
        if (out.kind === 'conflict') {
          throw new TarnError('BRANCH_HEAD_CHANGED', `${e.message}: ${out.reason}`, e.context, { cause: e })
        }
        result = out.result
        rebase = { ...rebase, base: head }
        expectedHead = actual
      }
    }
    const snap = snapshotById(result.metadata)
    return {
      table: key,
      branch,
      commit,
      state: result.state,
      files: files.map((f) => f.source),
      addedRecords: Number(snap?.summary['added-records'] ?? 0),
    }
  }

  /**
   * Creates a table on a branch from files (Parquet, CSV, JSON lines; local paths, globs or `s3://` URIs), with the
   * schema inferred from them and an optional partition spec (`day(ts), region`). One commit. Nothing is written
   * when a file is unreadable or its values do not fit the inferred schema.
   */
  async createTable(
    table: string,
    options: {
      from: string | readonly string[]
      partitionedBy?: string
      branch?: string
      cwd?: string
      message?: string
    },
  ): Promise<TableWriteResult> {
    const key = parseTableKey(table)
    const branch = options.branch ?? this.activeBranch()
    const ref = await this.catalog.getBranch(branch)
    const head = await this.catalog.getCommit(ref.head)
    if (await this.catalog.getTable(head, key.key)) {
      throw new TarnError(
        'TABLE_EXISTS',
        `table ${key.key} already exists on ${branch}; use \`tarn table import\` to append`,
        {
          table: key.key,
          branch,
        },
      )
    }
    await this.catalog.checkNewNames(head, { tables: [key.key] })
    if (!(await this.catalog.getNamespace(head, key.namespace))) {
      throw new TarnError('NAMESPACE_NOT_FOUND', `namespace ${key.namespace} does not exist on ${branch}`, {
        namespace: key.namespace,
        branch,
      })
    }
    const partitionBy = options.partitionedBy ? parsePartitionBy(options.partitionedBy) : []
    const { withConnection, createTable, sourcesQuery, validateSources } = await writeModules()
    return withConnection(undefined, async (conn) => {
      const files = await this.#sources(options, conn)
      const schema = await readSchema(conn, files)
      await validateSources(conn, files, schema)
      const suffix = Buffer.from(this.random.bytes(4)).toString('hex')
      const result = await createTable(
        this.store,
        {
          tableKey: `${key.namespace}/${key.name}-${suffix}`,
          schema,
          source: sourcesQuery(files),
          partitionBy,
          connection: conn,
          summary: { 'tarn.import-fingerprints': files.map((f) => f.fingerprint).join(',') },
        },
        this.#deps(),
      )
      return this.#commitTable(
        branch,
        key.key,
        result,
        head.hash,
        options.message ?? `Create table ${key.key} from ${files.length} file(s)`,
        {
          'tarn.operation': 'create-table',
          'tarn.table': key.key,
        },
        files,
      )
    })
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
  async importTable(
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
    const key = parseTableKey(table)
    const branch = options.branch ?? this.activeBranch()
    const ref = await this.catalog.getBranch(branch)
    const head = await this.catalog.getCommit(ref.head)
    const { loaded } = await this.loadTable(key.key, { ref: `@${head.hash}` })
    const { withConnection, appendRows, overwriteRows, sourcesQuery, validateSources } = await writeModules()
    return withConnection(undefined, async (conn) => {
      const files = await this.#sources(options, conn)
      const checkImported = (t: LoadedTable): void => {
        if (!options.force && !options.replace) refuseImportedAgain(t, key.key, files)
      }
      checkImported(loaded)
      const current = currentSchema(loaded.metadata)
      const changes = options.evolveSchema
        ? schemaChangesFor(current, await readSchema(conn, files), { table: key.key })
        : []
      const target =
        changes.length > 0
          ? applySchemaChanges(current, changes, loaded.metadata['last-column-id']).schema
          : current
      await validateSources(conn, files, target)
      const table =
        changes.length > 0
          ? await loadTable(this.store, (await evolveSchema(loaded, changes, this.#deps())).metadataLocation)
          : loaded
      const write = options.replace ? overwriteRows : appendRows
      const summary = { 'tarn.import-fingerprints': files.map((f) => f.fingerprint).join(',') }
      const result = await write(table, sourcesQuery(files), this.#deps(), { connection: conn, summary })
      return this.#commitTable(
        branch,
        key.key,
        result,
        head.hash,
        options.message ??
          `${options.replace ? 'Replace rows of' : 'Import'} ${files.length} file(s) into ${key.key}`,
        {
          'tarn.operation': options.replace ? 'import-replace' : 'import',
          'tarn.table': key.key,
        },
        files,
        options.replace ? undefined : { base: loaded, summary, check: checkImported },
      )
    })
  }

  /**
   * Registers an existing Iceberg table (any engine's) by its metadata file, zero-copy. With `allowMovedPaths`, paths
   * under the recorded table location are read from the directory that holds the metadata now.
   */
  async registerTable(
    table: string,
    options: { metadata: string; allowMovedPaths?: boolean; branch?: string; cwd?: string; message?: string },
  ): Promise<TableWriteResult> {
    const key = parseTableKey(table)
    const branch = options.branch ?? this.activeBranch()
    const ref = await this.catalog.getBranch(branch)
    const head = await this.catalog.getCommit(ref.head)
    if (await this.catalog.getTable(head, key.key)) {
      throw new TarnError('TABLE_EXISTS', `table ${key.key} already exists on ${branch}`, {
        table: key.key,
        branch,
      })
    }
    await this.catalog.checkNewNames(head, { tables: [key.key] })
    const uri = /^[a-z][a-z0-9+.-]*:\/\//i.test(options.metadata)
      ? options.metadata
      : pathToFileURL(
          isAbsolute(options.metadata)
            ? options.metadata
            : resolvePath(options.cwd ?? process.cwd(), options.metadata),
        ).href
    const result = await registerTable(this.store, uri, { allowMovedPaths: options.allowMovedPaths === true })
    return this.#commitTable(
      branch,
      key.key,
      result,
      head.hash,
      options.message ?? `Register table ${key.key} from ${uri}`,
      {
        'tarn.operation': 'register-table',
        'tarn.table': key.key,
      },
      [],
    )
  }

  /** Drops a table from a branch (its files stay for other commits that reference them; GC removes the rest). */
  dropTable(table: string, options: { branch?: string; message?: string } = {}): Promise<Commit> {
    const key = parseTableKey(table)
    return this.catalog.commit({
      branch: options.branch ?? this.activeBranch(),
      changes: [{ type: 'dropTable', key: key.key }],
      message: options.message ?? `Drop table ${key.key}`,
      author: this.author,
    })
  }

  /**
   * Runs read-only DuckDB SQL over the tables visible at a ref (default: the active branch): scans are planned and
   * pruned first, files fetched into the local cache, and the result comes back as an Apache Arrow table.
   */
  async query(sql: string, options: QueryOptions = {}): Promise<QueryResult> {
    return (await this.queryEngine()).query(sql, this.#atRef(options))
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
   * first query and shared by every later query, run and {@link withAuthor} handle of this lake until {@link close}.
   * Its cache is bounded by `TARN_CACHE_MAX_BYTES` in the environment the lake was opened with.
   *
   * @example
   * ```ts
   * const engine = await lake.queryEngine()
   * engine.cache.stats()
   * ```
   */
  queryEngine(): Promise<QueryEngine> {
    const root = this.#root
    if (root !== this) return root.queryEngine()
    if (this.#engine === undefined) {
      const opening = openLakeEngine(this, this.#env)
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
   * Runs a pipeline project as one transaction: forks the branch (default: the active branch) into a run branch,
   * materialises every model there, runs the expectations, and merges only if everything succeeded; on failure the
   * target is untouched and the run branch is sealed.
   */
  async run(options: RunPipelineOptions): Promise<RunOutcome> {
    const { runPipeline } = await import('../pipeline/run/run-pipeline.js')
    return runPipeline(this, options)
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

  /** One job record. */
  getJob(id: string): Promise<JobRecord> {
    return getJob(this.store, id)
  }

  /** A job's log. */
  jobLog(id: string): Promise<string> {
    return getJobLog(this.store, id)
  }

  /** Deletes warehouse files no commit within retention can reach (see {@link collectGarbage}). */
  gc(options: GcOptions): Promise<GcReport> {
    return collectGarbage(this.catalog, this.store, this.clock, options)
  }

  /**
   * Releases the query engine (when a query opened one), the catalog connection and storage clients. Closing a
   * {@link withAuthor} handle releases nothing.
   *
   * @example
   * ```ts
   * const lake = await Lake.open()
   * try { await lake.query('SELECT 1') } finally { await lake.close() }
   * ```
   */
  async close(): Promise<void> {
    if (this.#root !== this) return
    const engine = this.#engine
    this.#engine = undefined
    await engine?.then((e) => e.close()).catch(() => undefined)
    await Promise.allSettled([this.catalog.close(), this.store.close()])
  }
}
