import type { DuckDBConnection } from '@duckdb/node-api'
import { openDuckDB, type SandboxOptions } from '../../duckdb/open-duckdb.js'
import { quoteIdent } from '../../duckdb/sql-quote.js'
import type { NamedRelation } from '../../runtime/duckdb-session.js'

/**
 * Runs `fn` on a fresh DuckDB locked down like `tarn query`'s (files only under the given directories, no network,
 * no extensions, configuration locked), where every relation is a view under its name; then closes it. SQL models
 * run here, so a model that slipped past planning still cannot read `/etc/passwd`, ATTACH, INSTALL or SET.
 *
 * @example
 * ```ts
 * await withSandboxedSession([{ name: 'trips', sql }], { readableDirectories: [dir], scratchDir }, (c) => c.run(sql))
 * ```
 */
export async function withSandboxedSession<T>(
  relations: readonly NamedRelation[],
  sandbox: SandboxOptions,
  fn: (conn: DuckDBConnection) => Promise<T>,
): Promise<T> {
  const instance = await openDuckDB(sandbox)
  const conn = await instance.connect()
  try {
    const seen = new Set<string>()
    for (const r of relations) {
      const key = r.name.toLowerCase()
      if (seen.has(key)) continue
      seen.add(key)
      const parts = r.name.split('.')
      if (parts.length === 2) await conn.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(parts[0] as string)}`)
      await conn.run(`CREATE VIEW ${parts.map(quoteIdent).join('.')} AS ${r.sql}`)
    }
    return await fn(conn)
  } finally {
    conn.closeSync()
    instance.closeSync()
  }
}
