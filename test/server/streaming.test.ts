import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lake, RemoteLake } from '../../src/index.js'
import { ensureBuilt } from '../helpers/build.js'
import { cpuTicksOf, residentBytesOf, type ServedProcess, startServe } from './served-process.js'

const ROWS = 10_000_000
/** 10M rows of four 8-byte columns: 320 MB as Arrow, twice the bound below. */
const WIDE = `SELECT i, i * 2 AS j, i * 3 AS k, i / 7 AS x FROM range(${ROWS}) t(i)`
/** The server may grow by at most this much over its warm resident size while it streams the 10M rows. */
const RSS_GROWTH_BOUND = 160 * 1024 * 1024

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Waits until the server's stderr holds a line matching `re`, up to `ms`. */
async function logLine(server: ServedProcess, re: RegExp, ms: number): Promise<string | undefined> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const m = re.exec(server.stderr())
    if (m) return m[0]
    await sleep(20)
  }
  return undefined
}

/** CPU ticks (10 ms) the server used over the next `ms`. */
async function cpuOver(server: ServedProcess, ms: number): Promise<number> {
  const before = cpuTicksOf(server.pid)
  await sleep(ms)
  return cpuTicksOf(server.pid) - before
}

describe('Arrow IPC results of a tarn serve process', () => {
  let server: ServedProcess
  beforeAll(async () => {
    ensureBuilt()
    const home = join(mkdtempSync(join(tmpdir(), 'tarn-stream-')), 'lake')
    await (await Lake.init({ home, author: 'tester', env: {} })).close()
    server = await startServe({ TARN_HOME: home })
  })
  afterAll(async () => {
    expect(await server.stop()).toBe(0)
  })

  it(`streams ${ROWS.toLocaleString('en-US')} rows to a slow reader with the server's memory bounded`, async () => {
    const remote = RemoteLake.connect({ url: server.url })
    // warm the engine so the baseline includes DuckDB and Arrow
    await remote.query('SELECT i, i * 2 AS j, i * 3 AS k, i / 7 AS x FROM range(200000) t(i)')
    const baseline = residentBytesOf(server.pid) as number
    let peak = baseline
    const sampler = setInterval(() => {
      peak = Math.max(peak, residentBytesOf(server.pid) ?? 0)
    }, 25)
    let rows = 0
    let last = -1n
    let batches = 0
    let pausedTicks = -1
    try {
      const stream = await remote.stream(WIDE, { batchRows: 65_536 })
      for await (const b of stream) {
        const ids = b.getChild('i')?.toArray() as BigInt64Array
        expect(ids[0]).toBe(last + 1n)
        last = ids[ids.length - 1] as bigint
        rows += b.numRows
        // a slow reader: the server must wait for it instead of buffering the result
        if (batches++ % 8 === 0) await sleep(40)
        if (batches === 20) {
          // a reader that stops for 3 s: once the socket buffers are full the server waits, doing no work (the
          // quietest half second of the pause; a server that buffered the result would work through all of it)
          const windows: number[] = []
          for (let w = 0; w < 6; w++) windows.push(await cpuOver(server, 500))
          pausedTicks = Math.min(...windows)
        }
      }
    } finally {
      clearInterval(sampler)
    }
    expect(rows).toBe(ROWS)
    expect(last).toBe(BigInt(ROWS - 1))
    expect(await logLine(server, /query done at "main": 10000000 rows/, 5000)).toBeDefined()
    console.log(
      `[streaming] server RSS warm ${(baseline / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB while streaming ${rows} rows; ${pausedTicks * 10} ms CPU in the quietest 0.5 s of a paused reader`,
    )
    expect(peak - baseline).toBeLessThan(RSS_GROWTH_BOUND)
    expect(pausedTicks).toBeGreaterThanOrEqual(0)
    expect(pausedTicks).toBeLessThan(10)
  }, 180_000)

  it('stops the query on the server when the client cancels a streaming result', async () => {
    const remote = RemoteLake.connect({ url: server.url })
    const stream = await remote.stream('SELECT i, i * 2 AS j FROM range(100000000000) t(i)', {
      batchRows: 8192,
    })
    const it = stream[Symbol.asyncIterator]()
    expect((await it.next()).done).toBe(false)
    await stream.close()
    const line = await logLine(server, /query cancelled at "main": \d+ rows/, 10_000)
    expect(line).toBeDefined()
    // the server is idle again: well under one core over a second
    expect(await cpuOver(server, 1000)).toBeLessThan(30)
  })

  it('interrupts a query that is still computing when the client goes away before the first row', async () => {
    const before = server.stderr().length
    const controller = new AbortController()
    const pending = fetch(`${server.url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql: 'SELECT sum(i * i % 7) AS s FROM range(100000000000) t(i)' }),
      signal: controller.signal,
    }).catch((e: unknown) => e)
    // the aggregation keeps DuckDB busy (it would run for minutes) and sends nothing before it ends
    await sleep(700)
    controller.abort()
    await pending
    const deadline = Date.now() + 10_000
    while (
      !/query cancelled at "main": 0 rows/.test(server.stderr().slice(before)) &&
      Date.now() < deadline
    ) {
      await sleep(20)
    }
    expect(server.stderr().slice(before)).toMatch(/query cancelled at "main": 0 rows/)
    expect(await cpuOver(server, 1000)).toBeLessThan(30)
    // and it still answers
    expect((await RemoteLake.connect({ url: server.url }).query('SELECT 1 AS x')).rows()).toEqual([{ x: 1 }])
  })
})
