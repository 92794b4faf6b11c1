import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { QueryEngine } from '../../src/engine/index.js'
import { createTable } from '../../src/iceberg/index.js'
import type { Lake } from '../../src/lake/lake.js'
import { deps, engineOf, putTable, tempLake } from './helpers.js'

let lake: Lake
let engine: QueryEngine
let cleanup: () => Promise<void>

beforeAll(async () => {
  ;({ lake, cleanup } = await tempLake())
  const facts = await createTable(
    lake.store,
    {
      tableKey: 'tarn/facts',
      source: `SELECT range::INTEGER AS id, (range % 10)::INTEGER AS part, 'n' || range AS name,
        DATE '2024-01-01' + (range % 10)::INTEGER AS day FROM range(100)`,
      partitionBy: [{ column: 'part', transform: 'identity' }],
    },
    deps,
  )
  await putTable(lake, 'tarn.facts', facts)
  const dims = await createTable(
    lake.store,
    {
      tableKey: 'tarn/dims',
      source: 'SELECT range::INTEGER AS part, range % 2 = 0 AS even FROM range(12)',
      partitionBy: [{ column: 'part', transform: 'identity' }],
    },
    deps,
  )
  await putTable(lake, 'tarn.dims', dims)
  engine = await engineOf(lake)
})
afterAll(async () => {
  await engine?.close()
  await cleanup()
})

async function kept(sql: string): Promise<Record<string, number>> {
  const plan = await engine.explain(sql)
  return Object.fromEntries(plan.tables.map((t) => [t.table, t.filesKept]))
}

describe('filter pushdown into scan planning', () => {
  it('pushes comparisons written either way round, IN lists and BETWEEN', async () => {
    expect(await kept('SELECT * FROM facts WHERE part = 3')).toEqual({ 'tarn.facts': 1 })
    expect(await kept('SELECT * FROM facts WHERE 3 >= part')).toEqual({ 'tarn.facts': 4 })
    expect(await kept('SELECT * FROM facts WHERE part IN (1, 2)')).toEqual({ 'tarn.facts': 2 })
    expect(await kept('SELECT * FROM facts f WHERE f.part BETWEEN 2 AND 4 AND f.name <> 0')).toEqual({
      'tarn.facts': 3,
    })
    expect(await kept("SELECT * FROM facts WHERE day = DATE '2024-01-05'")).toEqual({ 'tarn.facts': 1 })
  })

  it('keeps every file when a predicate cannot be proven safe', async () => {
    expect(await kept('SELECT * FROM facts WHERE part = 1.5')).toEqual({ 'tarn.facts': 10 })
    expect(await kept('SELECT * FROM facts WHERE part = 1 OR id + 1 = 3')).toEqual({ 'tarn.facts': 10 })
    expect(await kept('SELECT * FROM facts WHERE part + 0 = 1')).toEqual({ 'tarn.facts': 10 })
    expect(await kept('SELECT * FROM facts AS f(a, b) WHERE b = 1')).toEqual({ 'tarn.facts': 10 })
    expect(await kept("SELECT * FROM facts WHERE day < TIMESTAMP '2024-01-03 10:00:00'")).toEqual({
      'tarn.facts': 10,
    })
  })

  it('pushes an OR of pushable predicates and drops only the unknown conjuncts of an AND', async () => {
    expect(await kept('SELECT * FROM facts WHERE part = 1 OR part = 7')).toEqual({ 'tarn.facts': 2 })
    expect(await kept('SELECT * FROM facts WHERE part = 1 AND id * 2 > 3')).toEqual({ 'tarn.facts': 1 })
  })

  it('never prunes the nullable side of an outer join, and still answers anti-joins right', async () => {
    const sql =
      'SELECT d.part FROM dims d LEFT JOIN facts f ON f.part = d.part WHERE f.part IS NULL ORDER BY d.part'
    expect(await kept(sql)).toEqual({ 'tarn.dims': 12, 'tarn.facts': 10 })
    expect((await engine.query(sql)).rows()).toEqual([{ part: 10 }, { part: 11 }])
  })

  it('pushes each side of an inner join by its qualified columns', async () => {
    const sql =
      'SELECT count(*) AS n FROM facts f JOIN dims d ON f.part = d.part WHERE f.part = 2 AND d.part < 5'
    expect(await kept(sql)).toEqual({ 'tarn.facts': 1, 'tarn.dims': 5 })
    expect((await engine.query(sql)).rows()).toEqual([{ n: 10n }])
  })

  it('binds unqualified columns only when one table of the FROM clause has them', async () => {
    expect(await kept('SELECT * FROM facts f JOIN dims d USING (part) WHERE part = 2')).toEqual({
      'tarn.facts': 10,
      'tarn.dims': 12,
    })
    expect(await kept('SELECT * FROM facts f, dims d WHERE name = 2 AND even')).toEqual({
      'tarn.facts': 10,
      'tarn.dims': 12,
    })
  })

  it('combines the filters of several references to one table', async () => {
    const sql =
      'SELECT (SELECT count(*) FROM facts WHERE part = 1) + (SELECT count(*) FROM facts WHERE part = 2) AS n'
    expect(await kept(sql)).toEqual({ 'tarn.facts': 2 })
    expect((await engine.query(sql)).rows()).toEqual([{ n: 20n }])
    const unfiltered =
      'SELECT (SELECT count(*) FROM facts WHERE part = 1) + (SELECT count(*) FROM facts) AS n'
    expect(await kept(unfiltered)).toEqual({ 'tarn.facts': 10 })
    expect((await engine.query(unfiltered)).rows()).toEqual([{ n: 110n }])
  })

  it('lists the columns a query mentions and every column for SELECT *', async () => {
    const plan = await engine.explain('SELECT name FROM facts WHERE part = 1')
    expect(plan.tables[0]?.columns).toEqual(['part', 'name'])
    const all = await engine.explain('SELECT * FROM facts')
    expect(all.tables[0]?.columns).toEqual(['id', 'part', 'name', 'day'])
    expect(all.tables[0]?.bytesToRead).toBeGreaterThan(plan.tables[0]?.bytesToRead ?? 0)
  })
})
