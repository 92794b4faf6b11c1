import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { describe, expect, it } from 'vitest'
import { withSandboxedSession } from '../../src/pipeline/run/sandboxed-session.js'

describe('the DuckDB session SQL models run in', () => {
  it('reads its input views and writes to scratch, but cannot read other files, SET or ATTACH', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tarn-sandbox-'))
    const data = join(root, 'data')
    const scratch = join(root, 'scratch')
    const prep = await DuckDBInstance.create(':memory:')
    const c = await prep.connect()
    await c.run(`COPY (SELECT 1 AS x) TO '${root}/input.parquet' (FORMAT parquet)`)
    c.closeSync()
    prep.closeSync()
    const relations = [{ name: 'inp', sql: `SELECT * FROM read_parquet('${root}/input.parquet')` }]
    const sandbox = { readableDirectories: [root, data], scratchDir: scratch }
    const rows = await withSandboxedSession(relations, sandbox, async (conn) => {
      await conn.run(`COPY (SELECT * FROM inp) TO '${scratch}/out.parquet' (FORMAT parquet)`)
      return (await conn.runAndReadAll('SELECT x FROM inp')).getRows()
    })
    expect(rows).toEqual([[1]])
    for (const sql of [
      "SELECT * FROM read_csv('/etc/passwd')",
      'SET enable_external_access = true',
      "ATTACH '/tmp/tarn-evil.db' AS evil",
    ]) {
      await expect(withSandboxedSession(relations, sandbox, (conn) => conn.run(sql))).rejects.toThrow()
    }
  })
})
