import type { DuckDBConnection } from '@duckdb/node-api'
import { quoteIdent } from '../duckdb/sql-quote.js'
import type { ScanPlan } from '../iceberg/index.js'
import { TarnError } from '../util/errors.js'
import { oneLineDuckdbMessage } from './duckdb-error.js'
import type { PreparedScan } from './prepared-query.js'
import { FooterCache, scanViewSql } from './scan-view.js'

/** Idle view catalogs kept attached for reuse. */
const MAX_VIEW_CATALOGS = 32

/**
 * One view of a query's catalog: the schema and name the SQL uses and the scan it reads. Plain data.
 */
export interface ScanView {
  readonly schema: string
  readonly view: string
  readonly scan: PreparedScan
}

interface ViewCatalog {
  readonly name: string
  users: number
  readonly ready: Promise<void>
}

/**
 * The views a scan needs: one per name the SQL uses (`t` in schema main, `ns.t` in schema `ns`).
 */
export function viewsOf(s: PreparedScan): ScanView[] {
  const out = new Map<string, ScanView>()
  for (const r of s.references) {
    const v = r.schema !== '' ? { schema: r.schema, view: r.name } : { schema: 'main', view: r.name }
    out.set(`${v.schema}\u0000${v.view}`, { ...v, scan: s })
  }
  if (out.size === 0) {
    const dot = s.plan.table.indexOf('.')
    out.set(s.plan.table, { schema: s.plan.table.slice(0, dot), view: s.plan.table.slice(dot + 1), scan: s })
  }
  return [...out.values()]
}

/**
 * The in-memory databases (view catalogs) queries run in: each holds one view per table name a query uses, over
 * exactly the planned files (deletes applied, columns mapped by field id). Catalogs are keyed by their views (names
 * and scan plans) and reused by later queries that read the same files under the same names; the least recently
 * used idle ones are detached beyond 32. View SQL is cached per scan plan and Parquet footers per file.
 */
export class ViewCatalogs {
  readonly #footers = new FooterCache(100_000)
  /** View SQL per cached scan plan (its local paths are deterministic: the file itself or its cache entry). */
  readonly #views = new WeakMap<ScanPlan, Promise<string>>()
  /** View catalogs by their views, least recently used first. */
  readonly #catalogs = new Map<string, ViewCatalog>()
  readonly #planIds = new WeakMap<ScanPlan, number>()
  #planCount = 0
  #catalogCount = 0

  /**
   * The attached catalog holding the views of `scans`, created on first use; call `leave` when the query is done
   * with it.
   */
  async enter(
    conn: DuckDBConnection,
    scans: readonly PreparedScan[],
  ): Promise<{ name: string; leave: () => void }> {
    const views = scans.flatMap(viewsOf)
    const key = JSON.stringify(
      views.map((v) => [v.schema, v.view, this.#planId(v.scan.scan)]).sort((a, b) => (a < b ? -1 : 1)),
    )
    let entry = this.#catalogs.get(key)
    if (entry) {
      this.#catalogs.delete(key)
      this.#catalogs.set(key, entry)
    } else {
      const name = `tarn_v${++this.#catalogCount}`
      entry = { name, users: 0, ready: this.create(conn, name, views) }
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
    await this.#trim(conn)
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

  /**
   * Attaches an in-memory database `name` on `conn` holding `views` (schemas created as needed). A view DuckDB
   * cannot create fails with `SQL_ERROR` naming the table.
   */
  async create(conn: DuckDBConnection, name: string, views: readonly ScanView[]): Promise<void> {
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
        const message = e instanceof Error ? e.message : String(e)
        throw new TarnError(
          'SQL_ERROR',
          `cannot read table ${table}: ${oneLineDuckdbMessage(message, '')}`,
          { table, metadataLocation: v.scan.plan.metadataLocation },
          { cause: e },
        )
      }
    }
  }

  async #trim(conn: DuckDBConnection): Promise<void> {
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
}
