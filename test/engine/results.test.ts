import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import {
  DateDay,
  Decimal,
  Float64,
  Int32,
  Int64,
  List,
  Struct,
  TimestampMicrosecond,
  Utf8,
} from 'apache-arrow'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { QueryEngine } from '../../src/engine/index.js'
import { createTable, registerTable } from '../../src/iceberg/index.js'
import type { Lake } from '../../src/lake/lake.js'
import { FOREIGN_TABLES } from '../iceberg/helpers.js'
import { deps, engineOf, putTable, tempLake } from './helpers.js'

let lake: Lake
let engine: QueryEngine
let cleanup: () => Promise<void>
let outside: string

beforeAll(async () => {
  ;({ lake, cleanup } = await tempLake())
  await cp(FOREIGN_TABLES, join(fileURLToPath(lake.store.root), 'foreign'), { recursive: true })
  for (const [key, path] of [
    ['tarn.java_bunnies', 'foreign/java/bunnies/metadata/v5.metadata.json'],
    ['tarn.spark_bunnies', 'foreign/spark/bunnies/metadata/v3.metadata.json'],
    ['tarn.renamed', 'foreign/spark/rename_column/metadata/v3.metadata.json'],
  ] as const) {
    const registered = await registerTable(lake.store, lake.store.uriOf(path), { allowMovedPaths: true })
    await putTable(lake, key, registered)
  }
  const big = await createTable(
    lake.store,
    { tableKey: 'tarn/big', source: 'SELECT range::BIGINT AS id, range % 7 AS k FROM range(200000)' },
    deps,
  )
  await putTable(lake, 'tarn.big', big)
  outside = await mkdtemp(join(tmpdir(), 'tarn-engine-outside-'))
  await cp(join(FOREIGN_TABLES, 'java'), outside, { recursive: true })
  const external = await registerTable(
    lake.store,
    `${pathToFileURL(outside).href}/bunnies/metadata/v4.metadata.json`,
    { allowMovedPaths: true },
  )
  await putTable(lake, 'tarn.external_bunnies', external)
  engine = await engineOf(lake)
})
afterAll(async () => {
  await engine?.close()
  await cleanup()
  await rm(outside, { recursive: true, force: true })
})

describe('foreign Iceberg tables', () => {
  it('returns the expected rows of a registered Java table with its position and equality deletes applied', async () => {
    const r = await engine.query('SELECT count(*) AS n FROM java_bunnies', { ref: 'main' })
    expect(r.rows()).toEqual([{ n: 15n }])
    const nz = await engine.query(
      `SELECT "Popularity Rank" AS rank, __happy__ AS happy FROM java_bunnies WHERE "Origin Country" = 'New Zealand'`,
    )
    expect(nz.rows()).toEqual([{ rank: 0n, happy: true }])
    const plan = await engine.explain('SELECT * FROM java_bunnies')
    expect(plan.tables[0]?.deleteFiles).toBeGreaterThan(0)
  })

  it('copies files of a table outside the warehouse into the cache before DuckDB reads them', async () => {
    const before = engine.cache.stats().fetched
    const r = await engine.query('SELECT count(*) AS n FROM external_bunnies')
    expect(r.rows()).toEqual([{ n: 15n }])
    expect(engine.cache.stats().fetched).toBeGreaterThan(before)
  })

  it('returns the rows of a Spark merge-on-read table with its position delete applied', async () => {
    const r = await engine.query('SELECT count(*) AS n FROM tarn.spark_bunnies')
    expect(r.rows()).toEqual([{ n: 20n }])
  })

  it('reads a renamed column under its new name and prunes by identity partition', async () => {
    const r = await engine.query(
      "SELECT name FROM renamed WHERE event_date = DATE '2022-01-02' ORDER BY name",
    )
    expect(r.rows().map((x) => x.name)).toContain('Thumper')
  })
})

describe('Arrow results', () => {
  it('returns an apache-arrow Table with exact Arrow types', async () => {
    const r = await engine.query(`SELECT 3::INTEGER AS i, 4::BIGINT AS b, 1.5::DOUBLE AS d, 'x' AS s,
      DATE '2024-01-02' AS day, TIMESTAMP '2024-01-02 03:04:05.123456' AS ts, 12.34::DECIMAL(10, 2) AS dec,
      [1, 2] AS l, {'a': 1} AS st, NULL::INTEGER AS n`)
    const types = Object.fromEntries(r.table.schema.fields.map((f) => [f.name, f.type]))
    expect(types.i).toBeInstanceOf(Int32)
    expect(types.b).toBeInstanceOf(Int64)
    expect(types.d).toBeInstanceOf(Float64)
    expect(types.s).toBeInstanceOf(Utf8)
    expect(types.day).toBeInstanceOf(DateDay)
    expect(types.ts).toBeInstanceOf(TimestampMicrosecond)
    expect(types.dec).toBeInstanceOf(Decimal)
    expect(types.l).toBeInstanceOf(List)
    expect(types.st).toBeInstanceOf(Struct)
    expect(r.table.getChild('b')?.get(0)).toBe(4n)
    expect(r.rows()).toEqual([
      {
        i: 3,
        b: 4n,
        d: 1.5,
        s: 'x',
        day: new Date('2024-01-02T00:00:00Z'),
        ts: new Date('2024-01-02T03:04:05.123Z'),
        dec: 12.34,
        l: [1, 2],
        st: { a: 1 },
        n: null,
      },
    ])
  })

  it('keeps timestamps exact to the microsecond in the Arrow data', async () => {
    const r = await engine.query("SELECT TIMESTAMP '2024-01-02 03:04:05.123456' AS ts")
    const data = r.table.getChild('ts')?.data[0]
    expect(data?.values[0]).toBe(1704164645123456n)
  })

  it('streams large results as record batches without materialising them', async () => {
    const stream = await engine.stream('SELECT id, k FROM big ORDER BY id', {
      ref: 'main',
      batchRows: 50_000,
    })
    expect(stream.schema.fields.map((f) => f.name)).toEqual(['id', 'k'])
    const sizes: number[] = []
    let last = -1n
    for await (const batch of stream) {
      sizes.push(batch.numRows)
      last = batch.getChild('id')?.get(batch.numRows - 1) as bigint
    }
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(200_000)
    expect(sizes.length).toBeGreaterThanOrEqual(4)
    expect(last).toBe(199_999n)
  })

  it('stops a stream early and releases it', async () => {
    const stream = await engine.stream('SELECT * FROM big', { batchRows: 2048 })
    for await (const batch of stream) {
      expect(batch.numRows).toBeGreaterThan(0)
      break
    }
    await stream.close()
    expect((await engine.query('SELECT count(*) AS n FROM big')).rows()).toEqual([{ n: 200_000n }])
  })

  it('returns an empty table with the schema when no row matches', async () => {
    const r = await engine.query('SELECT id FROM big WHERE id < 0')
    expect(r.numRows).toBe(0)
    expect(r.table.schema.fields.map((f) => f.name)).toEqual(['id'])
  })
})
