import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ApiKeyStore, Lake, type QueryEnd, RemoteLake, serve } from '../../src/index.js'

describe('closing tarn serve with requests in flight', () => {
  let dir: string
  let lake: Lake
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tarn-drain-'))
    lake = await Lake.init({ home: join(dir, 'lake'), author: 'tester', env: {} })
  })
  afterEach(async () => {
    await lake.close()
  })

  it('cancels a query result whose reader stopped reading once the drain timeout passes, and closes', async () => {
    const ends: QueryEnd[] = []
    const server = await serve({
      lake,
      keys: new ApiKeyStore(lake.catalog.backend, lake),
      host: '127.0.0.1',
      port: 0,
      drainTimeoutMs: 300,
      onQueryEnd: (e) => ends.push(e),
    })
    const remote = RemoteLake.connect({ url: server.url })
    const stream = await remote.stream('SELECT i, i * 2 AS j FROM range(100000000000) t(i)', {
      batchRows: 8192,
    })
    const it = stream[Symbol.asyncIterator]()
    expect((await it.next()).done).toBe(false)
    // the reader pauses for good; close() must not wait for it
    const started = performance.now()
    await server.close()
    expect(performance.now() - started).toBeLessThan(15_000)
    const deadline = Date.now() + 10_000
    while (ends.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    expect(ends).toHaveLength(1)
    expect(ends[0]?.cancelled).toBe(true)
    let rows = 0
    const broke = await (async () => {
      try {
        for (let r = await it.next(); !r.done; r = await it.next()) rows += r.value.numRows
        return undefined
      } catch (e) {
        return e
      }
    })()
    expect(broke).toBeDefined()
    expect(rows).toBeLessThan(100_000_000)
    await stream.close()
  })

  it('lets an import in progress land whole and answers it, however short the drain timeout', async () => {
    const big = join(dir, 'big.csv')
    const db = await DuckDBInstance.create(':memory:')
    const c = await db.connect()
    await c.run(
      `COPY (SELECT range AS id, 'zone' || (range % 97) AS zone FROM range(1000000)) TO '${big}' (HEADER)`,
    )
    await c.run(`COPY (SELECT range AS id, 'z' AS zone FROM range(3)) TO '${join(dir, 'base.csv')}' (HEADER)`)
    c.closeSync()
    db.closeSync()
    await lake.createTable('trips', { from: join(dir, 'base.csv') })
    const server = await serve({
      lake,
      keys: new ApiKeyStore(lake.catalog.backend, lake),
      host: '127.0.0.1',
      port: 0,
      drainTimeoutMs: 1,
    })
    const before = (await lake.getBranch('main')).head
    const answer = fetch(`${server.url}/api/v1/tables/trips/import`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: big }),
    })
    await new Promise((r) => setTimeout(r, 200))
    await server.close()
    const res = await answer
    expect(res.status).toBe(200)
    const body = (await res.json()) as { commit: { hash: string; parents: string[] }; addedRecords: number }
    expect(body.addedRecords).toBe(1_000_000)
    expect(body.commit.parents).toEqual([before])
    expect((await lake.getBranch('main')).head).toBe(body.commit.hash)
    expect((await lake.getTable('trips')).recordCount).toBe(1_000_003)
  })
})
