import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import { quoteIdent } from '../iceberg/index.js'
import { TarnError } from '../util/errors.js'

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
