import { isAbsolute, resolve as resolvePath } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Catalog } from '../catalog/catalog.js'
import { parseTableKey } from '../catalog/names.js'
import type { Commit, TableState } from '../catalog/types.js'
import { rebaseAppend } from '../iceberg/merge/append-rebaser.js'
import type { MetadataCache } from '../iceberg/metadata-cache.js'
import { registerTable } from '../iceberg/register-table.js'
import { planScan } from '../iceberg/scan-planner.js'
import type { NestedField } from '../iceberg/schema.js'
import { type LoadedTable, loadTable } from '../iceberg/table-loader.js'
import { currentSchema, snapshotById } from '../iceberg/table-metadata.js'
import { icebergTypeText } from '../iceberg/type-text.js'
import { applySchemaChanges, evolveSchema, schemaChangesFor } from '../iceberg/writer/schema-evolution.js'
import type { CommitResult } from '../iceberg/writer/snapshot-producer.js'
import type { ObjectStore } from '../storage/object-store.js'
import type { Clock } from '../util/clock.js'
import { isTarnError, TarnError } from '../util/errors.js'
import type { Random } from '../util/random.js'
import type { SourceFile } from './import-sources.js'
import { parsePartitionBy } from './partition-by.js'
import {
  importModules,
  importSources,
  importSummary,
  readImportSchema,
  refuseImportedAgain,
} from './table-import.js'
import type { TableDetails, TableEntry, TableStats, TableWriteResult } from './table-results.js'

/**
 * How a table append that lost a race to another write of the same table is rebased: the table it was written on,
 * its snapshot summary, and a check of the newer table state (e.g. that no file was imported twice meanwhile).
 */
export interface AppendRebase {
  readonly base: LoadedTable
  readonly summary: Readonly<Record<string, string>>
  readonly check?: (head: LoadedTable) => void
}

/** How often one append is rebased onto a table that other appends keep moving before giving up. */
const MAX_APPEND_REBASES = 100

/** What a table write commits besides the table: where, on which head, with which message and properties. */
interface TableCommit {
  readonly branch: string
  readonly key: string
  readonly base: string
  readonly message: string
  readonly properties: Record<string, string>
  readonly files: readonly SourceFile[]
  readonly appendRebase?: AppendRebase
}

/**
 * The lake's table operations on explicit branches and refs (the `Lake` façade fills in the active branch): list,
 * describe and load tables; create, import into, register and drop them, each write one commit.
 */
export class TableOperations {
  readonly #catalog: Catalog
  readonly #store: ObjectStore
  readonly #deps: { readonly clock: Clock; readonly random: Random; readonly metadataCache: MetadataCache }
  readonly #random: Random
  readonly #author: string

  constructor(parts: {
    readonly catalog: Catalog
    readonly store: ObjectStore
    readonly clock: Clock
    readonly random: Random
    readonly author: string
    readonly metadataCache: MetadataCache
  }) {
    this.#catalog = parts.catalog
    this.#store = parts.store
    this.#deps = { clock: parts.clock, random: parts.random, metadataCache: parts.metadataCache }
    this.#random = parts.random
    this.#author = parts.author
  }

  /** Tables at `ref`, optionally in one namespace, sorted; with `stats`, each with its rows, files and bytes. */
  async listTables(
    ref: string,
    options: { namespace?: string; stats?: boolean } = {},
  ): Promise<TableEntry[]> {
    const s = await this.#catalog.state(ref)
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

  /** Rows, data files and bytes of a table state: from its snapshot's summary, else from its manifests. */
  async #tableStats(state: TableState): Promise<TableStats> {
    const loaded = await loadTable(this.#store, state.metadataLocation, this.#deps)
    const snap = snapshotById(loaded.metadata, state.snapshotId)
    if (!snap) return { rows: 0, files: 0, sizeBytes: 0 }
    const num = (k: string): number | undefined => {
      const v = Number(snap.summary[k] ?? Number.NaN)
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

  /** The Iceberg table behind a table key at a ref (or `@commit`); `TABLE_NOT_FOUND` when there is none. */
  async loadTable(table: string, ref: string): Promise<{ loaded: LoadedTable; state: TableState }> {
    const key = parseTableKey(table)
    const state = await this.#catalog.getTable(ref, key.key)
    if (!state) {
      throw new TarnError('TABLE_NOT_FOUND', `table ${key.key} does not exist at ${ref}`, {
        table: key.key,
        ref,
      })
    }
    return { loaded: await loadTable(this.#store, state.metadataLocation, this.#deps), state }
  }

  /** Schema, partition spec, snapshots, record count and size of a table at a ref. */
  async getTable(table: string, ref: string): Promise<TableDetails> {
    const key = parseTableKey(table).key
    const { loaded, state } = await this.loadTable(key, ref)
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

  /** The head of `branch`, after checking that no table `key` exists there (nor one differing only in case). */
  async #headWithoutTable(branch: string, key: string, hint = ''): Promise<Commit> {
    const ref = await this.#catalog.getBranch(branch)
    const head = await this.#catalog.getCommit(ref.head)
    if (await this.#catalog.getTable(head, key)) {
      throw new TarnError('TABLE_EXISTS', `table ${key} already exists on ${branch}${hint}`, {
        table: key,
        branch,
      })
    }
    await this.#catalog.checkNewNames(head, { tables: [key] })
    return head
  }

  /**
   * Creates a table on a branch from files, with the schema inferred from them and an optional partition spec
   * (`day(ts), region`). One commit; nothing is written when a file is unreadable or does not fit the schema.
   */
  async createTable(
    table: string,
    options: {
      from: string | readonly string[]
      branch: string
      partitionedBy?: string
      cwd?: string
      message?: string
    },
  ): Promise<TableWriteResult> {
    const key = parseTableKey(table)
    const branch = options.branch
    const head = await this.#headWithoutTable(branch, key.key, '; use `tarn table import` to append')
    if (!(await this.#catalog.getNamespace(head, key.namespace))) {
      throw new TarnError('NAMESPACE_NOT_FOUND', `namespace ${key.namespace} does not exist on ${branch}`, {
        namespace: key.namespace,
        branch,
      })
    }
    const partitionBy = options.partitionedBy ? parsePartitionBy(options.partitionedBy) : []
    const { withConnection, createTable, sourcesQuery, validateSources } = await importModules()
    return withConnection(undefined, async (conn) => {
      const files = await importSources(options, this.#store, conn)
      const schema = await readImportSchema(conn, files)
      await validateSources(conn, files, schema)
      const suffix = Buffer.from(this.#random.bytes(4)).toString('hex')
      const result = await createTable(
        this.#store,
        {
          tableKey: `${key.namespace}/${key.name}-${suffix}`,
          schema,
          source: sourcesQuery(files),
          partitionBy,
          connection: conn,
          summary: importSummary(files),
        },
        this.#deps,
      )
      return this.#commitTable(result, {
        branch,
        key: key.key,
        base: head.hash,
        message: options.message ?? `Create table ${key.key} from ${files.length} file(s)`,
        properties: { 'tarn.operation': 'create-table', 'tarn.table': key.key },
        files,
      })
    })
  }

  /**
   * Appends files to a table on a branch as one commit (with `replace`, an Iceberg overwrite). A file imported before
   * is refused unless `force` or `replace`; with `evolveSchema`, new columns are added and types widened in place. An
   * append that lost a race to another append of the same table is rebased onto it and retried.
   */
  async importTable(
    table: string,
    options: {
      from: string | readonly string[]
      branch: string
      force?: boolean
      replace?: boolean
      evolveSchema?: boolean
      cwd?: string
      message?: string
    },
  ): Promise<TableWriteResult> {
    const key = parseTableKey(table)
    const ref = await this.#catalog.getBranch(options.branch)
    const head = await this.#catalog.getCommit(ref.head)
    const { loaded } = await this.loadTable(key.key, `@${head.hash}`)
    const { withConnection, appendRows, overwriteRows, sourcesQuery, validateSources } = await importModules()
    return withConnection(undefined, async (conn) => {
      const files = await importSources(options, this.#store, conn)
      const checkImported = (t: LoadedTable): void => {
        if (!options.force && !options.replace) refuseImportedAgain(t, key.key, files)
      }
      checkImported(loaded)
      const current = currentSchema(loaded.metadata)
      const changes = options.evolveSchema
        ? schemaChangesFor(current, await readImportSchema(conn, files), { table: key.key })
        : []
      const target =
        changes.length > 0
          ? applySchemaChanges(current, changes, loaded.metadata['last-column-id']).schema
          : current
      await validateSources(conn, files, target)
      const evolved =
        changes.length > 0
          ? await loadTable(
              this.#store,
              (await evolveSchema(loaded, changes, this.#deps)).metadataLocation,
              this.#deps,
            )
          : loaded
      const write = options.replace ? overwriteRows : appendRows
      const summary = importSummary(files)
      const result = await write(evolved, sourcesQuery(files), this.#deps, { connection: conn, summary })
      return this.#commitTable(result, {
        branch: options.branch,
        key: key.key,
        base: head.hash,
        message:
          options.message ??
          `${options.replace ? 'Replace rows of' : 'Import'} ${files.length} file(s) into ${key.key}`,
        properties: {
          'tarn.operation': options.replace ? 'import-replace' : 'import',
          'tarn.table': key.key,
        },
        files,
        ...(options.replace ? {} : { appendRebase: { base: loaded, summary, check: checkImported } }),
      })
    })
  }

  /**
   * Registers an existing Iceberg table (any engine's) by its metadata file, zero-copy. With `allowMovedPaths`, paths
   * under the recorded table location are read from the directory that holds the metadata now.
   */
  async registerTable(
    table: string,
    options: { metadata: string; branch: string; allowMovedPaths?: boolean; cwd?: string; message?: string },
  ): Promise<TableWriteResult> {
    const key = parseTableKey(table)
    const head = await this.#headWithoutTable(options.branch, key.key)
    const uri = /^[a-z][a-z0-9+.-]*:\/\//i.test(options.metadata)
      ? options.metadata
      : pathToFileURL(
          isAbsolute(options.metadata)
            ? options.metadata
            : resolvePath(options.cwd ?? process.cwd(), options.metadata),
        ).href
    const result = await registerTable(this.#store, uri, {
      allowMovedPaths: options.allowMovedPaths === true,
    })
    return this.#commitTable(result, {
      branch: options.branch,
      key: key.key,
      base: head.hash,
      message: options.message ?? `Register table ${key.key} from ${uri}`,
      properties: { 'tarn.operation': 'register-table', 'tarn.table': key.key },
      files: [],
    })
  }

  /** Drops a table from a branch (its files stay for other commits that reference them; GC removes the rest). */
  dropTable(table: string, options: { branch: string; message?: string }): Promise<Commit> {
    const key = parseTableKey(table)
    return this.#catalog.commit({
      branch: options.branch,
      changes: [{ type: 'dropTable', key: key.key }],
      message: options.message ?? `Drop table ${key.key}`,
      author: this.#author,
    })
  }

  /**
   * Commits a written table state on the head the write was based on. When an append lost a race to another write
   * of the same table, it is rebased onto that write (appends commute) and committed again.
   */
  async #commitTable(written: CommitResult, c: TableCommit): Promise<TableWriteResult> {
    let result = written
    let rebase = c.appendRebase
    let commit: Commit | undefined
    let expectedHead = c.base
    for (let attempt = 1; commit === undefined; attempt++) {
      try {
        commit = await this.#catalog.commit({
          branch: c.branch,
          changes: [{ type: 'putTable', key: c.key, state: result.state }],
          message: c.message,
          author: this.#author,
          expectedHead,
          properties: c.properties,
        })
      } catch (e) {
        if (rebase === undefined || !isTarnError(e, 'BRANCH_HEAD_CHANGED') || attempt >= MAX_APPEND_REBASES)
          throw e
        const moved = e.context.keys
        const actual = e.context.actualHead
        if (!Array.isArray(moved) || !moved.includes(c.key) || typeof actual !== 'string') throw e
        // another write changed this table meanwhile: appends commute, so append our files onto its new state
        const now = await this.#catalog.getTable(await this.#catalog.getCommit(actual), c.key)
        if (!now || now.tableUuid !== result.state.tableUuid) throw e
        const head = await loadTable(this.#store, now.metadataLocation, this.#deps)
        rebase.check?.(head)
        const ours = await loadTable(this.#store, result.metadataLocation, this.#deps)
        const out = await rebaseAppend(rebase.base, ours, head, rebase.summary, this.#deps)
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
      table: c.key,
      branch: c.branch,
      commit,
      state: result.state,
      files: c.files.map((f) => f.source),
      addedRecords: Number(snap?.summary['added-records'] ?? 0),
    }
  }
}
