import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cacheMaxBytesFrom, openLakeEngine } from '../../src/engine/index.js'
import { createTable } from '../../src/iceberg/index.js'
import type { Lake } from '../../src/lake/lake.js'
import { deps, putTable, tempLake } from './helpers.js'

let lake: Lake
let cleanup: () => Promise<void>

beforeAll(async () => {
  ;({ lake, cleanup } = await tempLake())
  const created = await createTable(
    lake.store,
    { tableKey: 'tarn/t', source: 'SELECT range::BIGINT AS x FROM range(4)' },
    deps,
  )
  await lake.checkout('dev', { create: true })
  await putTable(lake, 'tarn.t', created, 'dev')
})
afterAll(async () => {
  await cleanup()
})

describe('the query engine a lake owns', () => {
  it('queries the active branch by default and any ref on request', async () => {
    expect((await lake.query('SELECT sum(x) AS s FROM t')).rows()).toEqual([{ s: 6n }])
    await expect(lake.query('SELECT * FROM t', { ref: 'main' })).rejects.toMatchObject({
      code: 'TABLE_NOT_FOUND',
      message: 'table t does not exist at main',
    })
  })

  it('shares one engine between the lake and its author handles, and explains and streams through it', async () => {
    const a = await lake.queryEngine()
    expect(await lake.queryEngine()).toBe(a)
    const asAlice = lake.withAuthor('alice')
    expect(await asAlice.queryEngine()).toBe(a)
    await asAlice.close()
    expect((await lake.query('SELECT count(*) AS n FROM t')).rows()).toEqual([{ n: 4n }])
    expect((await lake.explain('SELECT * FROM t WHERE x = 2')).tables[0]?.filter).toEqual({
      op: 'eq',
      column: 'x',
      value: 2,
    })
    let rows = 0
    for await (const batch of await lake.stream('SELECT * FROM t')) rows += batch.numRows
    expect(rows).toBe(4)
  })

  it('closes its engine when the lake closes', async () => {
    const other = await tempLake()
    const engine = await other.lake.queryEngine()
    await other.cleanup()
    await expect(engine.query('SELECT 1', { ref: 'main' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'the query engine is closed',
    })
  })

  it('bounds the cache by TARN_CACHE_MAX_BYTES in the environment the lake was opened with', async () => {
    const bad = await tempLake({ TARN_CACHE_MAX_BYTES: 'lots' })
    try {
      await expect(bad.lake.query('SELECT 1')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
      const engine = await openLakeEngine(bad.lake, { TARN_CACHE_MAX_BYTES: '2G' })
      expect((await engine.query('SELECT 42 AS n', { ref: 'main' })).rows()).toEqual([{ n: 42 }])
      await engine.close()
    } finally {
      await bad.cleanup()
    }
  })

  it('reads the cache size bound from TARN_CACHE_MAX_BYTES', () => {
    expect(cacheMaxBytesFrom({})).toBe(10 * 2 ** 30)
    expect(cacheMaxBytesFrom({ TARN_CACHE_MAX_BYTES: '2G' })).toBe(2 * 2 ** 30)
    expect(cacheMaxBytesFrom({ TARN_CACHE_MAX_BYTES: '1500' })).toBe(1500)
    expect(cacheMaxBytesFrom({ TARN_CACHE_MAX_BYTES: '512MiB' })).toBe(512 * 2 ** 20)
    expect(() => cacheMaxBytesFrom({ TARN_CACHE_MAX_BYTES: 'lots' })).toThrow(/TARN_CACHE_MAX_BYTES/)
  })
})
