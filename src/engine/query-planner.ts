import type { DuckDBConnection } from '@duckdb/node-api'
import type { Catalog } from '../catalog/catalog.js'
import {
  currentSchema,
  type Expression,
  type LoadedTable,
  loadTable,
  planScan,
  type ScanPlan,
  type Schema,
  snapshotById,
} from '../iceberg/index.js'
import type { ObjectStore } from '../storage/object-store.js'
import { type JsonValue, stringifyJsonLossless } from '../util/lossless-json.js'
import { BoundedMap } from './bounded-map.js'
import type { FileCache } from './file-cache.js'
import { pushdownFilters } from './filter-pushdown.js'
import type { PreparedQuery, PreparedScan } from './prepared-query.js'
import { type ResolvedTable, refuseCaseTwins, resolveTable } from './resolve-table.js'
import { analyzeAst, parseSelect, type QueryAnalysis, type TableReference } from './sql-analysis.js'

/** One filter that serves every reference of a table (their disjunction), or undefined when any has none. */
function combineFilters(filters: readonly (Expression | undefined)[]): Expression | undefined {
  if (filters.length === 0 || filters.some((f) => f === undefined)) return undefined
  const unique = new Map(
    filters.map((f) => [stringifyJsonLossless(f as unknown as JsonValue), f as Expression]),
  )
  const list = [...unique.values()]
  return list.length === 1 ? list[0] : { op: 'or', args: list }
}

/**
 * Plans queries at a ref: parses the SQL (parses cached by text), resolves its table references against the ref,
 * loads each table (cached by metadata location), pushes the query's filters into Iceberg scan planning (plans
 * cached by table, snapshot, schema and filter) and counts the files, rows and bytes each scan will read.
 */
export class QueryPlanner {
  readonly #catalog: Catalog
  readonly #store: ObjectStore
  readonly #cache: FileCache
  /** Names DuckDB defines itself (`duckdb_tables`, `pg_class`, ...), left to DuckDB when no lake table has them. */
  readonly #systemNames: ReadonlySet<string>
  readonly #tables = new BoundedMap<string, Promise<LoadedTable>>(256)
  readonly #plans = new BoundedMap<string, Promise<ScanPlan>>(512)
  /** Parsed queries by SQL text (parsing is deterministic). */
  readonly #analyses = new BoundedMap<string, QueryAnalysis>(256)

  constructor(catalog: Catalog, store: ObjectStore, cache: FileCache, systemNames: ReadonlySet<string>) {
    this.#catalog = catalog
    this.#store = store
    this.#cache = cache
    this.#systemNames = systemNames
  }

  /**
   * A table's metadata, loaded once per metadata location (remote manifests go through the file cache).
   */
  loadTable(metadataLocation: string): Promise<LoadedTable> {
    let p = this.#tables.get(metadataLocation)
    if (!p) {
      p = loadTable(this.#store, metadataLocation, {
        localPathOf: (uri) => this.#cache.localPath(this.#store, uri),
      })
      p.catch(() => this.#tables.delete(metadataLocation))
      this.#tables.set(metadataLocation, p)
    }
    return p
  }

  /**
   * Parses `sql` (one read-only SELECT), resolves its tables at `ref` and plans one pruned scan per table.
   */
  async prepare(conn: DuckDBConnection, sql: string, ref: string): Promise<PreparedQuery> {
    let analysis = this.#analyses.get(sql)
    if (!analysis) {
      analysis = analyzeAst(await parseSelect(conn, sql))
      this.#analyses.set(sql, analysis)
    }
    const { commit } = await this.#catalog.resolve(ref)
    const cteNames = new Set(analysis.cteNames)
    const resolved = await Promise.all(
      analysis.references.map((r) =>
        resolveTable(this.#catalog, commit, ref, r, cteNames, this.#systemNames),
      ),
    )
    const byKey = new Map<string, { state: ResolvedTable['state']; refs: TableReference[] }>()
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
        const table = await this.loadTable(state.metadataLocation)
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

  #planScan(
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
}
