import { access, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { QueryEngine } from '../../src/engine/index.js'
import { createTable } from '../../src/iceberg/index.js'
import type { Lake } from '../../src/lake/lake.js'
import { isTarnError, type TarnError } from '../../src/util/errors.js'
import { deps, engineOf, putTable, tempLake } from './helpers.js'

let lake: Lake
let home: string
let engine: QueryEngine
let cleanup: () => Promise<void>

beforeAll(async () => {
  ;({ lake, home, cleanup } = await tempLake())
  const created = await createTable(
    lake.store,
    { tableKey: 'tarn/orders', source: 'SELECT range::BIGINT AS id FROM range(5)' },
    deps,
  )
  await putTable(lake, 'tarn.orders', created)
  await lake.createNamespace('sales')
  engine = await engineOf(lake)
})
afterAll(async () => {
  await engine?.close()
  await cleanup()
})

async function failure(p: Promise<unknown>): Promise<TarnError> {
  try {
    await p
  } catch (e) {
    if (isTarnError(e)) return e
    throw e
  }
  throw new Error('expected the query to fail')
}

async function heads(): Promise<string[]> {
  const [branches, tags] = await Promise.all([lake.listBranches(), lake.listTags()])
  return [...branches, ...tags].map((r) => `${r.name}=${r.head}`).sort()
}

describe('the locked-down DuckDB', () => {
  const refused: [string, string][] = [
    ['COPY ... TO', "COPY (SELECT * FROM orders) TO '/tmp/tarn-engine-stolen.csv'"],
    ['COPY a table TO', "COPY orders TO '/tmp/tarn-engine-stolen.parquet' (FORMAT parquet)"],
    ['ATTACH', "ATTACH '/tmp/tarn-engine-other.duckdb' AS other"],
    ['INSTALL', 'INSTALL httpfs'],
    ['LOAD', 'LOAD httpfs'],
    ['SET', "SET allowed_directories = ['/']"],
    ['INSERT', 'INSERT INTO orders VALUES (99)'],
    ['CREATE TABLE AS', 'CREATE TABLE copy AS SELECT * FROM orders'],
    ['DELETE', 'DELETE FROM orders'],
    ['UPDATE', 'UPDATE orders SET id = 0'],
    ['DROP', 'DROP VIEW orders'],
    ['two statements', 'SELECT 1; DROP VIEW orders'],
  ]
  for (const [what, sql] of refused) {
    it(`refuses ${what} with a clear error and leaves the lake unchanged`, async () => {
      const before = await heads()
      const e = await failure(engine.query(sql, { ref: 'main' }))
      expect(e.code).toBe('QUERY_NOT_ALLOWED')
      expect(e.message).toMatch(/read-only SELECT/)
      expect(await heads()).toEqual(before)
      expect((await engine.query('SELECT count(*) AS n FROM orders')).rows()).toEqual([{ n: 5n }])
      for (const f of [
        '/tmp/tarn-engine-stolen.csv',
        '/tmp/tarn-engine-stolen.parquet',
        '/tmp/tarn-engine-other.duckdb',
      ])
        await expect(access(f)).rejects.toThrow()
    })
  }

  it('refuses to read files outside the cache and scratch directories', async () => {
    const before = await heads()
    const e = await failure(engine.query("SELECT * FROM read_csv('/etc/passwd')", { ref: 'main' }))
    expect(e.code).toBe('SQL_ERROR')
    expect(e.message).toMatch(/Permission Error/)
    await writeFile(join(home, 'secret.csv'), 'a\n1\n')
    const inHome = await failure(engine.query(`SELECT * FROM read_csv('${join(home, 'secret.csv')}')`))
    expect(inHome.message).toMatch(/Permission Error/)
    const dotdot = await failure(
      engine.query(`SELECT * FROM read_csv('${home}/cache/files/../../secret.csv')`),
    )
    expect(dotdot.message).toMatch(/Permission Error/)
    expect(await heads()).toEqual(before)
  })

  it('refuses to reach the network or load extensions from a SELECT', async () => {
    const e = await failure(engine.query("SELECT * FROM read_parquet('https://example.com/x.parquet')"))
    expect(e.message).toMatch(/Permission Error|disabled/)
    const q = await failure(engine.query("SELECT * FROM query('ATTACH ''/tmp/x.duckdb''')"))
    expect(q.code).toBe('SQL_ERROR')
  })
})

describe('query errors', () => {
  it('names the table and the ref when a table is missing at the ref', async () => {
    const e = await failure(engine.query('SELECT * FROM nope', { ref: 'main' }))
    expect(e.code).toBe('TABLE_NOT_FOUND')
    expect(e.message).toBe('table nope does not exist at main')
    expect(e.context).toMatchObject({ table: 'nope', ref: 'main' })
    const qualified = await failure(engine.query('SELECT * FROM sales.orders', { ref: 'main' }))
    expect(qualified.message).toBe('table sales.orders does not exist at main (did you mean tarn.orders?)')
    expect(qualified.context.suggestions).toEqual(['tarn.orders'])
    const first = (await lake.log('main')).at(-1)?.hash as string
    const past = await failure(engine.query('SELECT * FROM orders', { ref: `@${first}` }))
    expect(past.code).toBe('TABLE_NOT_FOUND')
    expect(past.message).toBe(`table orders does not exist at @${first}`)
  })

  it("keeps DuckDB's message and position for SQL errors, on one line", async () => {
    const syntax = await failure(engine.query('SELECT id FROM orders WHERE', { ref: 'main' }))
    expect(syntax.code).toBe('SQL_ERROR')
    expect(syntax.message).toBe('Parser Error: syntax error at end of input (line 1, column 28)')
    expect(syntax.context.position).toBe(27)
    const binder = await failure(engine.query('SELECT nosuch FROM orders', { ref: 'main' }))
    expect(binder.code).toBe('SQL_ERROR')
    expect(binder.message).toMatch(
      /^Binder Error: Referenced column "nosuch" not found.* \(line 1, column 8\)$/,
    )
    expect(binder.message).not.toContain('\n')
    expect(binder.context.detail).toMatch(/LINE 1: SELECT nosuch FROM orders\n\s+\^/)
  })

  it('reads CTEs, DuckDB system views and table functions without looking them up in the lake', async () => {
    const r = await engine.query(
      'WITH big AS (SELECT * FROM orders WHERE id > 2) SELECT (SELECT count(*) FROM big) AS n, (SELECT count(*) FROM range(3)) AS m',
    )
    expect(r.rows()).toEqual([{ n: 2n, m: 3n }])
    const described = await engine.query('DESCRIBE orders')
    expect(described.rows().map((r) => [r.column_name, r.column_type])).toEqual([['id', 'BIGINT']])
    const summary = await engine.query('SUMMARIZE tarn.orders')
    expect(summary.rows()[0]).toMatchObject({ column_name: 'id', count: 5n })
    const views = await engine.query(
      "SELECT count(*) > 0 AS ok FROM duckdb_functions() WHERE function_name = 'sum'",
    )
    expect(views.rows()).toEqual([{ ok: true }])
  })
})
