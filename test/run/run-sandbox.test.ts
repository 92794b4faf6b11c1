import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Lake } from '../../src/lake/lake.js'
import { withSession } from '../../src/runtime/duckdb-session.js'

describe('the DuckDB a run shares with the lake engine', () => {
  it('lets a model session read its inputs and write scratch files, but not read other files, SET or ATTACH', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tarn-run-sandbox-'))
    const lake = await Lake.init({ home: join(root, 'lake'), author: 'tester' })
    try {
      const engine = await lake.queryEngine()
      const scratch = join(engine.scratchDir(), 'runs', 'job-test')
      mkdirSync(scratch, { recursive: true })
      writeFileSync(join(scratch, 'in.csv'), 'x\n1\n')
      const outside = join(root, 'outside.csv')
      writeFileSync(outside, 'x\n2\n')
      const relations = [{ name: 'inp', sql: `SELECT * FROM read_csv('${join(scratch, 'in.csv')}')` }]
      const instance = engine.duckdb()
      const rows = await withSession(
        relations,
        async (conn) => {
          await conn.run(`COPY (SELECT * FROM inp) TO '${join(scratch, 'out.parquet')}' (FORMAT parquet)`)
          return (
            await conn.runAndReadAll(`SELECT x FROM read_parquet('${join(scratch, 'out.parquet')}')`)
          ).getRows()
        },
        instance,
      )
      expect(rows).toEqual([[1n]])
      for (const sql of [
        "SELECT * FROM read_csv('/etc/passwd')",
        `SELECT * FROM read_csv('${outside}')`,
        'SET enable_external_access = true',
        `ATTACH '${join(root, 'evil.db')}' AS evil`,
      ]) {
        await expect(withSession(relations, (conn) => conn.run(sql), instance)).rejects.toThrow()
      }
      // the sessions left nothing behind: the engine still answers queries
      expect((await lake.query('SELECT 1 AS one')).table.numRows).toBe(1)
    } finally {
      await lake.close()
    }
  })
})
