import type { DuckDBConnection } from '@duckdb/node-api'
import { openDuckDB } from './open-duckdb.js'

/**
 * Runs `fn` with `conn`, or with a connection to a fresh in-memory DuckDB ({@link openDuckDB}) that is closed
 * afterwards.
 */
export async function withConnection<T>(
  conn: DuckDBConnection | undefined,
  fn: (c: DuckDBConnection) => Promise<T>,
): Promise<T> {
  if (conn) return fn(conn)
  const instance = await openDuckDB()
  try {
    const c = await instance.connect()
    try {
      return await fn(c)
    } finally {
      c.closeSync()
    }
  } finally {
    instance.closeSync()
  }
}
