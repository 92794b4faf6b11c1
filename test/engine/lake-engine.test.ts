import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  cacheMaxBytesFrom,
  closeLakeEngine,
  explainLake,
  lakeQueryEngine,
  queryLake,
  streamLake,
} from '../../src/engine/index.js'
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
  await closeLakeEngine(lake)
  await cleanup()
})

describe('the SDK entry points over a lake', () => {
  it('queries the active branch by default and any ref on request', async () => {
    expect((await queryLake(lake, 'SELECT sum(x) AS s FROM t')).rows()).toEqual([{ s: 6n }])
    await expect(queryLake(lake, 'SELECT * FROM t', { ref: 'main' })).rejects.toMatchObject({
      code: 'TABLE_NOT_FOUND',
      message: 'table t does not exist at main',
    })
  })

  it('shares one engine per lake until it is closed', async () => {
    const a = await lakeQueryEngine(lake)
    expect(await lakeQueryEngine(lake)).toBe(a)
    await closeLakeEngine(lake)
    const b = await lakeQueryEngine(lake)
    expect(b).not.toBe(a)
    expect((await explainLake(lake, 'SELECT * FROM t WHERE x = 2')).tables[0]?.filter).toEqual({
      op: 'eq',
      column: 'x',
      value: 2,
    })
    let rows = 0
    for await (const batch of await streamLake(lake, 'SELECT * FROM t')) rows += batch.numRows
    expect(rows).toBe(4)
  })

  it('reads the cache size bound from TARN_CACHE_MAX_BYTES', () => {
    expect(cacheMaxBytesFrom({})).toBe(10 * 2 ** 30)
    expect(cacheMaxBytesFrom({ TARN_CACHE_MAX_BYTES: '2G' })).toBe(2 * 2 ** 30)
    expect(cacheMaxBytesFrom({ TARN_CACHE_MAX_BYTES: '1500' })).toBe(1500)
    expect(cacheMaxBytesFrom({ TARN_CACHE_MAX_BYTES: '512MiB' })).toBe(512 * 2 ** 20)
    expect(() => cacheMaxBytesFrom({ TARN_CACHE_MAX_BYTES: 'lots' })).toThrow(/TARN_CACHE_MAX_BYTES/)
  })
})
