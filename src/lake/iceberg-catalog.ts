import type { Catalog } from '../catalog/catalog.js'
import { assertIdentifier, parseTableKey } from '../catalog/names.js'
import type { Change, Commit, TableState } from '../catalog/types.js'
import { newTableMetadata } from '../iceberg/commit/new-table-metadata.js'
import type { MetadataCache } from '../iceberg/metadata-cache.js'
import type { PartitionSpec, SortOrder } from '../iceberg/partition-spec.js'
import { registerTable } from '../iceberg/register-table.js'
import type { Schema } from '../iceberg/schema.js'
import { loadTable } from '../iceberg/table-loader.js'
import type { TableMetadata } from '../iceberg/table-metadata.js'
import { writeMetadataFile } from '../iceberg/writer/snapshot-producer.js'
import type { ObjectStore } from '../storage/object-store.js'
import type { Clock } from '../util/clock.js'
import { isTarnError, TarnError } from '../util/errors.js'
import type { Random } from '../util/random.js'
import { notFoundNamespace, notFoundTable, tableExists } from './iceberg-errors.js'
import {
  commitIcebergTables,
  type IcebergCommitResult,
  type IcebergTableCommit,
} from './iceberg-table-commit.js'
import { WarehousePaths } from './warehouse-paths.js'

export type { IcebergCommitResult, IcebergTableCommit } from './iceberg-table-commit.js'

/**
 * A table as an Iceberg catalog answers it: its metadata and where that metadata is stored (absent for a staged
 * create, which is not committed yet).
 *
 * @example
 * ```ts
 * const t: IcebergTable = await iceberg.loadTable('dev', 'sales.orders'); t.metadata['current-snapshot-id']
 * ```
 */
export interface IcebergTable {
  readonly table: string
  readonly metadataLocation?: string
  readonly metadata: TableMetadata
}

/**
 * What a new table is made of, as an Iceberg client asks for it.
 *
 * @example
 * ```ts
 * const t: IcebergNewTable = { schema, properties: { owner: 'ops' } }
 * ```
 */
export interface IcebergNewTable {
  readonly schema: Schema
  readonly location?: string
  readonly partitionSpec?: PartitionSpec
  readonly sortOrder?: SortOrder
  readonly properties?: Readonly<Record<string, string>>
}

/**
 * The lake as an Iceberg catalog: namespaces, tables and Iceberg commits (requirements + updates) on tarn refs, for
 * the Iceberg REST catalog of `tarn serve`. Reads take any ref; writes take a branch (a tag or commit is refused with
 * `NOT_A_BRANCH`). Every write is one tarn commit on the branch. A commit's requirements are checked against the
 * table states of the head it is committed on: the catalog's compare-and-swap moves the branch only if no commit in
 * between changed those tables, and when one did the commit is rebuilt on the new head (requirements checked again),
 * so a requirement never passes against a state that is not the one committed on.
 *
 * @example
 * ```ts
 * const iceberg = lake.icebergCatalog()
 * await iceberg.createNamespace('dev', 'sales', {})
 * const t = await iceberg.createTable('dev', 'sales.orders', { schema })
 * ```
 */
export class IcebergCatalog {
  readonly #catalog: Catalog
  readonly #store: ObjectStore
  readonly #clock: Clock
  readonly #random: Random
  readonly #author: string
  readonly #env: Readonly<Record<string, string | undefined>>
  readonly #paths: WarehousePaths
  readonly #metadataCache: MetadataCache | undefined

  constructor(deps: {
    catalog: Catalog
    store: ObjectStore
    clock: Clock
    random: Random
    author: string
    /** The environment the lake was opened with (the S3 endpoint, region and addressing clients need). */
    env?: Readonly<Record<string, string | undefined>>
    /** The lake's parsed metadata files (see `Lake.metadataCache`). */
    metadataCache?: MetadataCache
  }) {
    this.#catalog = deps.catalog
    this.#store = deps.store
    this.#clock = deps.clock
    this.#random = deps.random
    this.#author = deps.author
    this.#env = deps.env ?? {}
    this.#paths = new WarehousePaths(deps.store, deps.random)
    this.#metadataCache = deps.metadataCache
  }

  /**
   * What an Iceberg client needs to reach the warehouse's files, as Iceberg catalog properties: for an S3 warehouse
   * the endpoint (`s3.endpoint`, from `AWS_ENDPOINT_URL_S3`), path-style addressing (`s3.path-style-access`, as the
   * lake uses it) and the region (`s3.region`, `client.region`); nothing for a local warehouse, whose `file://`
   * paths clients open directly. Credentials are the client's own (none are vended).
   */
  storageConfig(): Record<string, string> {
    if (!this.#store.root.startsWith('s3://')) return {}
    const env = this.#env
    const endpoint = env.AWS_ENDPOINT_URL_S3 || undefined
    const flag = env.TARN_S3_FORCE_PATH_STYLE
    const pathStyle = flag === 'true' ? true : flag === 'false' ? false : endpoint !== undefined
    const region =
      env.AWS_REGION || env.AWS_DEFAULT_REGION || (endpoint !== undefined ? 'us-east-1' : undefined)
    return {
      ...(endpoint !== undefined ? { 's3.endpoint': endpoint } : {}),
      's3.path-style-access': String(pathStyle),
      's3.force-virtual-addressing': String(!pathStyle),
      ...(region !== undefined ? { 's3.region': region, 'client.region': region } : {}),
    }
  }

  /** The root URI of the warehouse (where tables created here live). */
  get warehouse(): string {
    return this.#store.root
  }

  /** The commit a ref names, and its branch when it is exactly a branch name. */
  async resolve(ref: string): Promise<{ commit: Commit; branch?: string }> {
    const r = await this.#catalog.resolve(ref)
    return { commit: r.commit, ...(r.branch !== undefined ? { branch: r.branch } : {}) }
  }

  /** Throws `NOT_A_BRANCH` unless `ref` is exactly a branch name: tags and commits are read-only. */
  async writableBranch(ref: string): Promise<string> {
    return (await this.#writableHead(ref)).branch
  }

  /** The branch `ref` names and its head, in one read of the ref (`NOT_A_BRANCH` for a tag or commit). */
  async #writableHead(ref: string): Promise<{ branch: string; head: Commit }> {
    const r = await this.#catalog.resolve(ref)
    if (r.branch === undefined) {
      const what = r.named?.kind === 'tag' ? 'a tag' : 'a commit'
      throw new TarnError(
        'NOT_A_BRANCH',
        `${ref} is ${what} and read-only: write through a branch (warehouse=<branch>)`,
        { ref, reason: 'read-only' },
      )
    }
    return { branch: r.branch, head: r.commit }
  }

  // ---------------------------------------------------------------- namespaces

  /** Namespace names at a ref, sorted. */
  async listNamespaces(ref: string): Promise<string[]> {
    const state = await this.#catalog.state(ref)
    return Object.keys(state.namespaces).sort()
  }

  /** A namespace's properties at a ref (`NAMESPACE_NOT_FOUND`). */
  async loadNamespace(ref: string, name: string): Promise<Readonly<Record<string, string>>> {
    const ns = await this.#catalog.getNamespace(ref, name)
    if (!ns) throw notFoundNamespace(name, ref)
    return ns.properties
  }

  /** Creates a namespace on a branch (one commit). */
  async createNamespace(
    branch: string,
    name: string,
    properties: Readonly<Record<string, string>>,
  ): Promise<Commit> {
    assertIdentifier(name, 'namespace')
    return this.#commit(
      await this.writableBranch(branch),
      [{ type: 'createNamespace', name, properties: { ...properties } }],
      `Iceberg: create namespace ${name}`,
      { 'tarn.operation': 'iceberg-create-namespace' },
    )
  }

  /** Drops an empty namespace from a branch (one commit; `NAMESPACE_NOT_EMPTY` while it holds tables). */
  async dropNamespace(branch: string, name: string): Promise<Commit> {
    return this.#commit(
      await this.writableBranch(branch),
      [{ type: 'dropNamespace', name }],
      `Iceberg: drop namespace ${name}`,
      {
        'tarn.operation': 'iceberg-drop-namespace',
      },
    )
  }

  /** Sets and removes namespace properties on a branch (one commit); says which keys changed and which were missing. */
  async updateNamespaceProperties(
    branch: string,
    name: string,
    change: { readonly updates: Readonly<Record<string, string>>; readonly removals: readonly string[] },
  ): Promise<{ updated: string[]; removed: string[]; missing: string[] }> {
    const b = await this.writableBranch(branch)
    const overlap = change.removals.filter((k) => Object.hasOwn(change.updates, k))
    if (overlap.length > 0) {
      throw new TarnError('INVALID_ARGUMENT', `properties both set and removed: ${overlap.join(', ')}`, {
        namespace: name,
      })
    }
    const head = (await this.#catalog.resolve(b)).commit
    const ns = await this.#catalog.getNamespace(head, name)
    if (!ns) throw notFoundNamespace(name, b)
    const removed = change.removals.filter((k) => Object.hasOwn(ns.properties, k))
    const missing = change.removals.filter((k) => !Object.hasOwn(ns.properties, k))
    const properties = Object.fromEntries(
      Object.entries({ ...ns.properties, ...change.updates }).filter(([k]) => !change.removals.includes(k)),
    )
    await this.#catalog.commit({
      branch: b,
      changes: [
        { type: 'dropNamespace', name },
        { type: 'createNamespace', name, properties },
      ],
      message: `Iceberg: update properties of namespace ${name}`,
      author: this.#author,
      expectedHead: head.hash,
      properties: { 'tarn.operation': 'iceberg-update-namespace' },
    })
    return { updated: Object.keys(change.updates), removed, missing }
  }

  // ---------------------------------------------------------------- tables

  /** Table names of a namespace at a ref, sorted (`NAMESPACE_NOT_FOUND`). */
  async listTables(ref: string, namespace: string): Promise<string[]> {
    const state = await this.#catalog.state(ref)
    if (!state.namespaces[namespace]) throw notFoundNamespace(namespace, ref)
    return Object.keys(state.tables)
      .filter((k) => k.startsWith(`${namespace}.`))
      .map((k) => k.slice(namespace.length + 1))
      .sort()
  }

  /** A table's metadata at a ref (`TABLE_NOT_FOUND`), or of the catalog state {@link tableState} returned. */
  async loadTable(ref: string, table: string, state?: TableState): Promise<IcebergTable> {
    const key = parseTableKey(table).key
    const found = state ?? (await this.#catalog.getTable(ref, key))
    if (!found) throw notFoundTable(key, ref)
    const loaded = await loadTable(this.#store, found.metadataLocation, this.#cacheOption())
    return { table: key, metadataLocation: loaded.metadataLocation, metadata: loaded.metadata }
  }

  /** The catalog's record of a table at a ref, or undefined: cheap (no metadata file read). */
  async tableState(ref: string, table: string): Promise<TableState | undefined> {
    return this.#catalog.getTable(ref, parseTableKey(table).key)
  }

  /**
   * Creates an empty table on a branch (one commit) in a new directory of the warehouse, unless `stage`: then only
   * the metadata comes back, and a later commit with `assert-create` creates the table.
   */
  async createTable(
    branch: string,
    table: string,
    t: IcebergNewTable,
    options: { readonly stage?: boolean } = {},
  ): Promise<IcebergTable> {
    const key = parseTableKey(table)
    const b = await this.writableBranch(branch)
    const head = (await this.#catalog.resolve(b)).commit
    if (await this.#catalog.getTable(head, key.key)) throw tableExists(key.key, b)
    if (!(await this.#catalog.getNamespace(head, key.namespace))) throw notFoundNamespace(key.namespace, b)
    await this.#catalog.checkNewNames(head, { tables: [key.key] })
    const location = this.#paths.location(t.location ?? this.#paths.defaultLocation(key.namespace, key.name))
    const metadata = newTableMetadata(
      {
        schema: t.schema,
        location,
        ...(t.partitionSpec ? { partitionSpec: t.partitionSpec } : {}),
        ...(t.sortOrder ? { sortOrder: t.sortOrder } : {}),
        ...(t.properties ? { properties: t.properties } : {}),
      },
      { uuid: this.#random.uuid(), now: this.#clock.now() },
    )
    if (options.stage) return { table: key.key, metadata }
    const written = await writeMetadataFile(this.#store, this.#paths.rootKey(location), metadata, undefined, {
      clock: this.#clock,
      random: this.#random,
      ...this.#cacheOption(),
    })
    try {
      await this.#catalog.commit({
        branch: b,
        changes: [{ type: 'putTable', key: key.key, state: written.state }],
        message: `Iceberg: create table ${key.key}`,
        author: this.#author,
        expectedHead: head.hash,
        properties: { 'tarn.operation': 'iceberg-create-table', 'tarn.table': key.key },
      })
    } catch (e) {
      if (isTarnError(e, 'BRANCH_HEAD_CHANGED') && (await this.#catalog.getTable(b, key.key)))
        throw tableExists(key.key, b)
      throw e
    }
    return { table: key.key, metadataLocation: written.metadataLocation, metadata }
  }

  /** Drops a table from a branch (one commit). Its files stay for the commits that still see it; gc removes the rest. */
  async dropTable(branch: string, table: string): Promise<Commit> {
    const key = parseTableKey(table).key
    const b = await this.writableBranch(branch)
    if (!(await this.#catalog.getTable(b, key))) throw notFoundTable(key, b)
    return this.#commit(b, [{ type: 'dropTable', key }], `Iceberg: drop table ${key}`, {
      'tarn.operation': 'iceberg-drop-table',
      'tarn.table': key,
    })
  }

  /** Renames (or moves to another namespace) a table on a branch, in one commit. */
  async renameTable(branch: string, from: string, to: string): Promise<Commit> {
    const src = parseTableKey(from).key
    const dst = parseTableKey(to)
    const b = await this.writableBranch(branch)
    const head = (await this.#catalog.resolve(b)).commit
    const state = await this.#catalog.getTable(head, src)
    if (!state) throw notFoundTable(src, b)
    if (await this.#catalog.getTable(head, dst.key)) throw tableExists(dst.key, b)
    if (!(await this.#catalog.getNamespace(head, dst.namespace))) throw notFoundNamespace(dst.namespace, b)
    return this.#catalog.commit({
      branch: b,
      changes: [
        { type: 'dropTable', key: src },
        { type: 'putTable', key: dst.key, state },
      ],
      message: `Iceberg: rename table ${src} to ${dst.key}`,
      author: this.#author,
      expectedHead: head.hash,
      properties: { 'tarn.operation': 'iceberg-rename-table', 'tarn.table': dst.key },
    })
  }

  /** Registers an existing Iceberg table by its metadata file on a branch (one commit); `overwrite` replaces one. */
  async registerTable(
    branch: string,
    table: string,
    metadataLocation: string,
    options: { readonly overwrite?: boolean } = {},
  ): Promise<IcebergTable> {
    const key = parseTableKey(table)
    const b = await this.writableBranch(branch)
    const head = (await this.#catalog.resolve(b)).commit
    if (!options.overwrite && (await this.#catalog.getTable(head, key.key))) throw tableExists(key.key, b)
    const result = await registerTable(this.#store, metadataLocation)
    await this.#catalog.commit({
      branch: b,
      changes: [{ type: 'putTable', key: key.key, state: result.state }],
      message: `Iceberg: register table ${key.key} from ${metadataLocation}`,
      author: this.#author,
      expectedHead: head.hash,
      properties: { 'tarn.operation': 'iceberg-register-table', 'tarn.table': key.key },
    })
    return { table: key.key, metadataLocation: result.metadataLocation, metadata: result.metadata }
  }

  /**
   * Commits Iceberg changes to one or more tables of a branch as one tarn commit, all or nothing. Every requirement
   * is checked against the table state the commit is made on (`COMMIT_REQUIREMENT_FAILED` naming what differs); a
   * table without `assert-create` must exist (`TABLE_NOT_FOUND`); with it, it is created from the updates. When
   * another commit changes one of these tables meanwhile, the commit is rebuilt on the new head; after
   * 4 rebuilds it fails with `BRANCH_HEAD_CHANGED`.
   */
  commitTables(branch: string, changes: readonly IcebergTableCommit[]): Promise<IcebergCommitResult> {
    const deps = {
      catalog: this.#catalog,
      store: this.#store,
      clock: this.#clock,
      random: this.#random,
      author: this.#author,
      paths: this.#paths,
      writableHead: (ref: string) => this.#writableHead(ref),
      ...this.#cacheOption(),
    }
    return commitIcebergTables(deps, branch, changes)
  }

  #cacheOption(): { metadataCache?: MetadataCache } {
    return this.#metadataCache ? { metadataCache: this.#metadataCache } : {}
  }

  async #commit(
    branch: string,
    changes: readonly Change[],
    message: string,
    properties: Readonly<Record<string, string>>,
  ): Promise<Commit> {
    return this.#catalog.commit({ branch, changes, message, author: this.#author, properties })
  }
}
