import type { DuckDBConnection } from '@duckdb/node-api'
import { type Catalog, DEFAULT_NAMESPACE } from '../catalog/catalog.js'
import { quoteIdent } from '../duckdb/sql-quote.js'
import { currentSchema, duckdbTypeOf, type LoadedTable, snapshotById } from '../iceberg/index.js'
import type { PreparedQuery } from './prepared-query.js'
import type { ViewCatalogs } from './view-catalogs.js'

/** The database a catalog query sees the lake as: namespaces are its schemas, tables its tables. */
const LAKE_DATABASE = 'lake'

/**
 * Sets up the `lake` database of a catalog query (`SHOW TABLES`, `information_schema`, `duckdb_tables()`) on `conn`,
 * a DuckDB of the query's own: one schema per namespace of the ref, the tables the query reads as views over their
 * files, every other table as an empty table of its schema (so the catalog lists them); the default schema is the
 * default namespace.
 */
export async function createLakeCatalog(
  conn: DuckDBConnection,
  prepared: PreparedQuery,
  deps: {
    readonly catalog: Catalog
    readonly views: ViewCatalogs
    readonly loadTable: (metadataLocation: string) => Promise<LoadedTable>
  },
): Promise<void> {
  const state = await deps.catalog.stateOf(prepared.commit)
  const read = new Set(prepared.scans.map((s) => s.plan.table))
  const views = prepared.scans.map((s) => {
    const dot = s.plan.table.indexOf('.')
    return { schema: s.plan.table.slice(0, dot), view: s.plan.table.slice(dot + 1), scan: s }
  })
  await deps.views.create(conn, LAKE_DATABASE, views)
  const db = quoteIdent(LAKE_DATABASE)
  for (const ns of Object.keys(state.namespaces)) {
    await conn.run(`CREATE SCHEMA IF NOT EXISTS ${db}.${quoteIdent(ns)}`)
  }
  for (const [key, t] of Object.entries(state.tables)) {
    if (read.has(key)) continue
    const table = await deps.loadTable(t.metadataLocation)
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
