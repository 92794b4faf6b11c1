import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import { quoteIdent } from '../iceberg/index.js'

/**
 * A relation a function reads, under the name its code uses: `name` or `namespace.name`, and the DuckDB SQL that
 * produces its rows.
 *
 * @example
 * ```ts
 * const v: NamedRelation = { name: 'trips', sql: "SELECT * FROM read_parquet('/s/trips.parquet')" }
 * ```
 */
export interface NamedRelation {
  readonly name: string
  readonly sql: string
}

/**
 * Runs `fn` on a fresh in-memory DuckDB where every relation is a view under its name (qualified names get their
 * schema), then closes it. One session per function keeps each model's names its own.
 *
 * @example
 * ```ts
 * await withSession([{ name: 'trips', sql }], (conn) => conn.run('SELECT count(*) FROM trips'))
 * ```
 */
export async function withSession<T>(
  relations: readonly NamedRelation[],
  fn: (conn: DuckDBConnection) => Promise<T>,
): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:')
  const conn = await instance.connect()
  try {
    const seen = new Set<string>()
    for (const r of relations) {
      const key = r.name.toLowerCase()
      if (seen.has(key)) continue
      seen.add(key)
      const parts = r.name.split('.')
      if (parts.length === 2) await conn.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(parts[0] as string)}`)
      const name = parts.map(quoteIdent).join('.')
      await conn.run(`CREATE VIEW ${name} AS ${r.sql}`)
    }
    return await fn(conn)
  } finally {
    conn.closeSync()
    instance.closeSync()
  }
}
