import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { QueryEngine } from '../../src/engine/index.js'
import { appendRows, createTable, loadTable } from '../../src/iceberg/index.js'
import type { Lake } from '../../src/lake/lake.js'
import { deps, engineOf, putTable, tempLake } from './helpers.js'

let lake: Lake
let engine: QueryEngine
let cleanup: () => Promise<void>
let firstCommit: string

beforeAll(async () => {
  ;({ lake, cleanup } = await tempLake())
  const created = await createTable(
    lake.store,
    { tableKey: 'tarn/orders', source: 'SELECT range::BIGINT AS id, 10 AS amount FROM range(3)' },
    deps,
  )
  firstCommit = (await putTable(lake, 'tarn.orders', created)).hash
  const second = await appendRows(
    await loadTable(lake.store, created.metadataLocation),
    'SELECT 3::BIGINT AS id, 20 AS amount',
    deps,
  )
  await putTable(lake, 'tarn.orders', second)
  await lake.createTag('v2', { from: 'main' })
  const third = await appendRows(
    await loadTable(lake.store, second.metadataLocation),
    'SELECT range::BIGINT + 4 AS id, 30 AS amount FROM range(2)',
    deps,
  )
  await putTable(lake, 'tarn.orders', third)
  engine = await engineOf(lake)
})
afterAll(async () => {
  await engine?.close()
  await cleanup()
})

describe('querying a table at any ref', () => {
  it('returns the three answers the history implies at main, at a tag and at main@<older hash>', async () => {
    const sql = 'SELECT count(*) AS n, sum(amount) AS total FROM orders'
    const atMain = (await engine.query(sql, { ref: 'main' })).rows()
    const atTag = (await engine.query(sql, { ref: 'v2' })).rows()
    const atOld = (await engine.query(sql, { ref: `main@${firstCommit.slice(0, 10)}` })).rows()
    expect(atMain).toEqual([{ n: 6n, total: 110n }])
    expect(atTag).toEqual([{ n: 4n, total: 50n }])
    expect(atOld).toEqual([{ n: 3n, total: 30n }])
  })

  it('reads the last commit at or before a time with main*<ISO time>', async () => {
    const first = await lake.catalog.getCommit(firstCommit)
    const at = new Date(first.timestamp).toISOString()
    const r = await engine.query('SELECT count(*) AS n FROM orders', { ref: `main*${at}` })
    expect(r.rows()).toEqual([{ n: 3n }])
    expect(r.plan.commit).toBe(firstCommit)
  })

  it('exposes each table under its qualified and unqualified names', async () => {
    const r = await engine.query(
      'SELECT (SELECT count(*) FROM tarn.orders) AS a, (SELECT count(*) FROM orders) AS b',
      {
        ref: 'v2',
      },
    )
    expect(r.rows()).toEqual([{ a: 4n, b: 4n }])
  })

  it('reuses and retires the per-query view catalogs across many differently pruned queries', async () => {
    for (let round = 0; round < 2; round++) {
      for (let k = 0; k < 40; k++) {
        const r = await engine.query(`SELECT count(*) AS n FROM orders WHERE id >= ${k % 7}`, {
          ref: k % 2 === 0 ? 'main' : 'v2',
        })
        const expected = k % 2 === 0 ? Math.max(0, 6 - (k % 7)) : Math.max(0, 4 - (k % 7))
        expect(r.rows()).toEqual([{ n: BigInt(expected) }])
      }
    }
  })

  it('runs concurrent queries at different refs', async () => {
    const refs = ['main', 'v2', `main@${firstCommit}`, 'main', 'v2']
    const results = await Promise.all(
      refs.map((ref) => engine.query('SELECT count(*) AS n FROM tarn.orders', { ref })),
    )
    expect(results.map((r) => r.rows()[0]?.n)).toEqual([6n, 4n, 3n, 6n, 4n])
  })

  it('plans the scan at the ref with its snapshot id and file counts', async () => {
    const plan = await engine.explain('SELECT id FROM orders WHERE id >= 4', { ref: 'main' })
    expect(plan.tables).toHaveLength(1)
    const scan = plan.tables[0]
    expect(scan?.table).toBe('tarn.orders')
    expect(scan?.filesTotal).toBe(3)
    expect(scan?.filesKept).toBe(1)
    expect(scan?.columns).toEqual(['id'])
    expect(scan?.snapshotId).toMatch(/^\d+$/)
  })
})
