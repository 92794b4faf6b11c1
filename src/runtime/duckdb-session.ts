import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import { openDuckDB } from '../duckdb/open-duckdb.js'
import { quoteIdent } from '../duckdb/sql-quote.js'
import { TarnError } from '../util/errors.js'

/**
 * A relation a function reads, under the name its code uses: `name` or `namespace.name`, and the DuckDB SQL that
 * produces its rows.
 */
export interface NamedRelation {
  readonly name: string
  readonly sql: string
}

let sessions = 0

/**
 * Runs `fn` on a DuckDB connection where every relation is a view under its name (qualified names get their
 * schema), then drops it all. One session per function keeps each model's names its own: with `instance` (the run's
 * DuckDB), the session is a private in-memory database attached to it and made the connection's default (so
 * unqualified names resolve there, and functions running side by side never see each other's views), detached
 * afterwards; without, it is a fresh in-memory DuckDB, closed afterwards. Attaching is much cheaper than starting and
 * closing a DuckDB instance, which dominated the fixed cost of small runs.
 */
export async function withSession<T>(
  relations: readonly NamedRelation[],
  fn: (conn: DuckDBConnection) => Promise<T>,
  instance?: DuckDBInstance,
): Promise<T> {
  const own = instance ? null : await openDuckDB()
  const conn = await (instance ?? (own as DuckDBInstance)).connect()
  sessions += 1
  const db = instance ? `session_${process.pid}_${sessions}` : null
  try {
    // the session's set-up is one call to DuckDB (attach, use, schemas, views), not one per statement
    const setup: string[] = db ? [`ATTACH ':memory:' AS ${quoteIdent(db)}`, `USE ${quoteIdent(db)}`] : []
    const seen = new Map<string, NamedRelation>()
    for (const r of relations) {
      const key = r.name.toLowerCase()
      const other = seen.get(key)
      if (other !== undefined && other.sql !== r.sql) {
        throw new TarnError(
          'AMBIGUOUS_TABLE',
          `tables ${other.name} and ${r.name} differ only in letter case and cannot be told apart in one function`,
          { tables: [other.name, r.name] },
        )
      }
      if (other !== undefined) continue
      seen.set(key, r)
      const parts = r.name.split('.')
      if (parts.length === 2) setup.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(parts[0] as string)}`)
      const name = parts.map(quoteIdent).join('.')
      setup.push(`CREATE VIEW ${name} AS ${r.sql}`)
    }
    if (setup.length > 0) await conn.run(setup.join('\n;\n'))
    return await fn(conn)
  } finally {
    if (db) await conn.run(`USE memory; DETACH ${quoteIdent(db)}`).catch(() => undefined)
    conn.closeSync()
    own?.closeSync()
  }
}
