import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SqliteBackend } from '../../src/catalog/backends/sqlite.js'
import { Catalog } from '../../src/catalog/catalog.js'
import { QueryEngine } from '../../src/engine/index.js'
import { createTable } from '../../src/iceberg/index.js'
import { S3ObjectStore } from '../../src/storage/s3.js'
import { haveS3Server, startS3Server, type TestS3Server } from '../helpers/s3-server.js'
import { deps } from './helpers.js'

let s3: TestS3Server
let store: S3ObjectStore
let catalog: Catalog
let dir: string

const DAYS = `SELECT (TIMESTAMP '2024-01-01 12:00:00' + INTERVAL (d) DAY) AS ts, d::INTEGER AS d, r::INTEGER AS r
  FROM range(365) t(d), range(4) u(r)`

beforeAll(async () => {
  if (!haveS3Server()) return
  s3 = await startS3Server()
  dir = await mkdtemp(join(tmpdir(), 'tarn-engine-s3-'))
  store = S3ObjectStore.create({
    bucket: s3.bucket,
    prefix: 'warehouse',
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: s3.credentials,
    forcePathStyle: true,
  })
  catalog = new Catalog(SqliteBackend.open(':memory:'), { clock: deps.clock })
  await catalog.init()
  const created = await createTable(
    store,
    { tableKey: 'tarn/events', source: DAYS, partitionBy: [{ column: 'ts', transform: 'day' }] },
    deps,
  )
  await catalog.commit({
    branch: 'main',
    changes: [{ type: 'putTable', key: 'tarn.events', state: created.state }],
    message: 'events',
  })
  await catalog.createBranch('dev', { from: 'main' })
}, 120_000)
afterAll(async () => {
  await catalog?.close()
  await store?.close()
  await s3?.close()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

function engine(name: string, maxBytes?: number): Promise<QueryEngine> {
  return QueryEngine.create({
    catalog,
    store,
    cacheDir: join(dir, name, 'files'),
    scratchDir: join(dir, name, 'scratch'),
    ...(maxBytes !== undefined ? { cacheMaxBytes: maxBytes } : {}),
  })
}

const ONE_DAY = "SELECT count(*) AS n, min(d) AS d FROM events WHERE ts >= '2024-03-01' AND ts < '2024-03-02'"

describe.skipIf(!haveS3Server())('scan pruning and the file cache over S3', () => {
  it('reads one of 365 daily files for a query filtered to one day', async () => {
    const e = await engine('one-day')
    try {
      const plan = await e.explain(ONE_DAY, { ref: 'main' })
      expect(plan.tables[0]?.filesTotal).toBe(365)
      expect(plan.tables[0]?.filesKept).toBe(1)
      expect(e.cache.stats().fetched).toBe(0)
      const result = await e.query(ONE_DAY, { ref: 'main' })
      expect(result.rows()).toEqual([{ n: 4n, d: 60 }])
      expect(e.cache.stats().fetched).toBe(1)
      expect(await readdir(e.cache.dir)).toHaveLength(1)
    } finally {
      await e.close()
    }
  })

  it('prunes with a date cast and an IN list of days too', async () => {
    const e = await engine('casts')
    try {
      const cast = await e.explain("SELECT * FROM events WHERE CAST(ts AS DATE) = DATE '2024-03-01'", {
        ref: 'main',
      })
      expect(cast.tables[0]?.filesKept).toBe(1)
      const within = await e.explain(
        "SELECT * FROM tarn.events e WHERE e.ts BETWEEN TIMESTAMP '2024-01-01 00:00:00' AND TIMESTAMP '2024-01-03 00:00:00'",
        { ref: 'main' },
      )
      expect(within.tables[0]?.filesKept).toBe(2)
      const unfiltered = await e.explain('SELECT count(*) FROM events WHERE r = 1 OR d > 3', { ref: 'main' })
      expect(unfiltered.tables[0]?.filesKept).toBe(365)
    } finally {
      await e.close()
    }
  })

  it('reuses cached files across queries, branches and engines without fetching again', async () => {
    const first = await engine('shared')
    try {
      await first.query(ONE_DAY, { ref: 'main' })
      await first.query(ONE_DAY, { ref: 'dev' })
      expect(first.cache.stats().fetched).toBe(1)
    } finally {
      await first.close()
    }
    const second = await engine('shared')
    try {
      const r = await second.query(ONE_DAY, { ref: 'dev' })
      expect(r.rows()[0]?.n).toBe(4n)
      expect(second.cache.stats()).toMatchObject({ fetched: 0 })
    } finally {
      await second.close()
    }
  })

  it('fetches files in parallel and evicts the least recently used ones beyond the size bound', async () => {
    const e = await engine('bounded', 20_000)
    try {
      const r = await e.query("SELECT count(*) AS n FROM events WHERE ts < '2024-02-01'", { ref: 'main' })
      expect(r.rows()).toEqual([{ n: 124n }])
      expect(e.cache.stats().fetched).toBe(31)
      expect(e.cache.stats().evicted).toBeGreaterThan(0)
      const files = await readdir(e.cache.dir)
      expect(files.length).toBeLessThan(31)
    } finally {
      await e.close()
    }
  })
})
