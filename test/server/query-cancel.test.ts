import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ApiKeyStore,
  Lake,
  type LakeApi,
  type QueryEnd,
  RemoteLake,
  type RunningServer,
  serve,
} from '../../src/index.js'
import { errorOf } from '../helpers/errors.js'

/** An aggregation DuckDB would compute for minutes before its only row. */
const ENDLESS = 'SELECT sum(i * i % 7) AS s FROM range(100000000000) t(i)'

describe('cancelling a query with an AbortSignal', () => {
  let lake: Lake
  let server: RunningServer
  let remote: RemoteLake
  const ends: QueryEnd[] = []

  beforeAll(async () => {
    const home = join(mkdtempSync(join(tmpdir(), 'tarn-cancel-')), 'lake')
    lake = await Lake.init({ home, author: 'tester', env: {} })
    server = await serve({
      lake,
      keys: new ApiKeyStore(lake.catalog.backend, lake),
      host: '127.0.0.1',
      port: 0,
      onQueryEnd: (e) => ends.push(e),
    })
    remote = RemoteLake.connect({ url: server.url })
  })
  afterAll(async () => {
    await remote.close()
    await server.close()
    await lake.close()
  })

  const apis: [string, () => LakeApi][] = [
    ['embedded', () => lake],
    ['remote', () => remote],
  ]

  it.each(apis)('interrupts a computing query with QUERY_CANCELLED (%s)', async (name, api) => {
    const controller = new AbortController()
    const started = performance.now()
    const pending = errorOf(api().query(ENDLESS, { signal: controller.signal }))
    setTimeout(() => controller.abort(), 300)
    const e = await pending
    expect(e.code).toBe('QUERY_CANCELLED')
    // interrupted, not run to the end (which takes minutes)
    expect(performance.now() - started).toBeLessThan(20_000)
    if (name === 'remote') {
      const deadline = Date.now() + 10_000
      while (ends.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
      expect(ends.at(-1)).toMatchObject({ rows: 0, batches: 0, cancelled: true })
    }
    // the engine answers the next query
    expect((await api().query('SELECT 7 AS x')).rows()).toEqual([{ x: 7 }])
  })

  it.each(apis)(
    'stops a stream between batches and refuses an already aborted signal (%s)',
    async (_name, api) => {
      const controller = new AbortController()
      const stream = await api().stream('SELECT i FROM range(100000000000) t(i)', {
        batchRows: 4096,
        signal: controller.signal,
      })
      const it = stream[Symbol.asyncIterator]()
      expect((await it.next()).done).toBe(false)
      controller.abort()
      const e = await errorOf(
        (async () => {
          for (let r = await it.next(); !r.done; r = await it.next()) {}
        })(),
      )
      expect(e.code).toBe('QUERY_CANCELLED')
      await stream.close()
      expect((await errorOf(api().query('SELECT 1', { signal: controller.signal }))).code).toBe(
        'QUERY_CANCELLED',
      )
    },
  )
})
