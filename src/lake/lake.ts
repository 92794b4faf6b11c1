import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CatalogBackend } from '../catalog/backend.js'
import { Catalog, DEFAULT_BRANCH, DEFAULT_NAMESPACE, type LogOptions } from '../catalog/catalog.js'
import { assertIdentifier } from '../catalog/names.js'
import type { LakeDiff, MergeResult, RevertResult } from '../catalog/results.js'
import type { TableMerger } from '../catalog/table-merger.js'
import type { Commit, NamespaceState, RefInfo, TableState } from '../catalog/types.js'
import type { ObjectStore } from '../storage/object-store.js'
import { openObjectStore } from '../storage/open.js'
import { type Clock, systemClock } from '../util/clock.js'
import { TarnError } from '../util/errors.js'
import { type Random, systemRandom } from '../util/random.js'
import { type LakeConfig, type LakeLocation, resolveLakeConfig } from './lake-config.js'
import { openCatalogBackend } from './open-backend.js'

/** Options of {@link Lake.open} and {@link Lake.init}. */
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
  /** Content-aware table merge used by merges (the Iceberg layer's append-only merger by default, once wired). */
  readonly tableMerger?: TableMerger
}

/** What `tarn info` reports. */
export interface LakeInfo {
  readonly version: string
  readonly home: string
  readonly catalog: { readonly backend: 'sqlite' | 'postgres'; readonly location: string }
  readonly warehouse: string
  readonly activeBranch: string
  readonly branches: number
  readonly tags: number
}

/** A branch or tag with its head commit. */
export interface RefWithCommit extends RefInfo {
  readonly commit: Commit
}

/** A table listed at a ref. */
export interface TableEntry {
  readonly table: string
  readonly namespace: string
  readonly name: string
  readonly state: TableState
}

function readVersion(): string {
  try {
    const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json')
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version
  } catch {
    return '0.0.0'
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
export class Lake {
  readonly config: LakeConfig
  readonly catalog: Catalog
  readonly store: ObjectStore
  readonly clock: Clock
  readonly random: Random
  readonly author: string

  private constructor(
    config: LakeConfig,
    catalog: Catalog,
    store: ObjectStore,
    o: { clock: Clock; random: Random; author: string },
  ) {
    this.config = config
    this.catalog = catalog
    this.store = store
    this.clock = o.clock
    this.random = o.random
    this.author = o.author
  }

  static async #connect(options: LakeOptions, create: boolean): Promise<Lake> {
    const env = options.env ?? process.env
    const config = resolveLakeConfig(options, env, options.cwd)
    const clock = options.clock ?? systemClock
    const random = options.random ?? systemRandom
    const author = options.author ?? defaultAuthor(env)
    if (create) mkdirSync(config.home, { recursive: true })
    const backend = options.backend ?? openCatalogBackend(config.catalogUrl, { mustExist: !create })
    const catalog = new Catalog(backend, {
      clock,
      author,
      ...(options.tableMerger ? { tableMerger: options.tableMerger } : {}),
    })
    let warehouse = config.warehouse
    try {
      if (create) {
        await catalog.init()
        warehouse = await backend.initMeta('warehouse', config.warehouse)
      } else {
        if (!(await catalog.isInitialized())) {
          throw new TarnError(
            'LAKE_NOT_FOUND',
            `no lake in ${backend.location}; create one with \`tarn init\``,
            {
              catalog: backend.location,
            },
          )
        }
        warehouse = (await backend.getMeta('warehouse')) ?? config.warehouse
      }
    } catch (e) {
      await backend.close()
      throw e
    }
    const store = await openObjectStore(warehouse)
    return new Lake({ ...config, warehouse }, catalog, store, { clock, random, author })
  }

  /** Creates the lake if missing (idempotent) and opens it. */
  static init(options: LakeOptions = {}): Promise<Lake> {
    return Lake.#connect(options, true)
  }

  /** Opens an existing lake; `LAKE_NOT_FOUND` (with how to create one) when there is none. */
  static open(options: LakeOptions = {}): Promise<Lake> {
    return Lake.#connect(options, false)
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

  /** Sets the active branch; with `create`, creates it first from `from` (default: the active branch). */
  async checkout(branch: string, options: { create?: boolean; from?: string } = {}): Promise<RefInfo> {
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
      version: readVersion(),
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

  /** Creates a branch (O(1)) from `from` (default: the active branch). */
  createBranch(name: string, options: { from?: string } = {}): Promise<RefInfo> {
    return this.catalog.createBranch(name, { from: options.from ?? this.activeBranch() })
  }

  /** Deletes a branch. */
  deleteBranch(name: string): Promise<RefInfo> {
    return this.catalog.deleteBranch(name)
  }

  /** Renames a branch (and follows it if it was the active one). */
  async renameBranch(from: string, to: string): Promise<RefInfo> {
    const ref = await this.catalog.renameBranch(from, to)
    if (this.activeBranch() === from) await this.checkout(to)
    return ref
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

  /** What `ref` has that `against` (default: the active branch) lacks. */
  diff(ref: string, against?: string): Promise<LakeDiff> {
    return this.catalog.diff(ref, against ?? this.activeBranch())
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

  /** Commit history from `ref` (default: the active branch), newest first. */
  log(ref?: string, options: LogOptions = {}): Promise<Commit[]> {
    return this.catalog.log(ref ?? this.activeBranch(), options)
  }

  /** Undoes a commit with a new commit on `on` (default: the active branch). */
  revert(commit: string, options: { on?: string; table?: string } = {}): Promise<RevertResult> {
    return this.catalog.revert(commit, {
      on: options.on ?? this.activeBranch(),
      author: this.author,
      ...(options.table !== undefined ? { table: options.table } : {}),
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
    options: { branch?: string; properties?: Record<string, string> } = {},
  ): Promise<Commit> {
    assertIdentifier(name, 'namespace')
    return this.catalog.commit({
      branch: options.branch ?? this.activeBranch(),
      changes: [
        { type: 'createNamespace', name, ...(options.properties ? { properties: options.properties } : {}) },
      ],
      message: `Create namespace ${name}`,
      author: this.author,
    })
  }

  /** Drops an empty namespace on a branch (default: the active branch). */
  dropNamespace(name: string, options: { branch?: string } = {}): Promise<Commit> {
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
      message: `Drop namespace ${name}`,
      author: this.author,
    })
  }

  /** Tables at a ref (default: the active branch), optionally in one namespace. */
  async listTables(options: { ref?: string; namespace?: string } = {}): Promise<TableEntry[]> {
    const s = await this.catalog.state(options.ref ?? this.activeBranch())
    return Object.entries(s.tables)
      .map(([table, state]) => {
        const dot = table.indexOf('.')
        return { table, namespace: table.slice(0, dot), name: table.slice(dot + 1), state }
      })
      .filter((t) => options.namespace === undefined || t.namespace === options.namespace)
  }

  /** Releases the catalog connection and storage clients. */
  async close(): Promise<void> {
    await Promise.allSettled([this.catalog.close(), this.store.close()])
  }
}
