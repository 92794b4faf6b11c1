import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { overwriteRows, readTable } from '../../src/iceberg/index.js'
import { Lake } from '../../src/index.js'
import { errorOf } from '../helpers/errors.js'
import { haveS3Server, startS3Server } from '../helpers/s3-server.js'
import { FOREIGN_TABLES } from '../iceberg/helpers.js'

async function rows(lake: Lake, table: string, ref?: string): Promise<Record<string, unknown>[]> {
  const { loaded } = await lake.loadTable(table, ref ? { ref } : {})
  return readTable(loaded)
}

async function sortedIds(lake: Lake, table: string, ref?: string): Promise<number[]> {
  return (await rows(lake, table, ref)).map((r) => Number(r.id)).sort((a, b) => a - b)
}

describe('tables in a lake', () => {
  let dir: string
  let lake: Lake

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tarn-tables-'))
    lake = await Lake.init({ home: join(dir, 'lake'), author: 'tester' })
    writeFileSync(
      join(dir, 'o1.csv'),
      'id,name,amount,ts\n1,a,10.5,2026-01-01 10:00:00\n2,b,3,2026-01-02 11:00:00\n',
    )
    writeFileSync(join(dir, 'o2.csv'), 'id,name,amount,ts\n3,c,7,2026-01-03 10:00:00\n')
    writeFileSync(join(dir, 'o3.jsonl'), '{"id":4,"name":"d","amount":1.25,"ts":"2026-01-04 09:00:00"}\n')
  })
  afterEach(async () => {
    await lake.close()
  })

  it('creates a partitioned table from CSV files in one commit and reads it back', async () => {
    const before = (await lake.log('main')).length
    const r = await lake.createTable('orders', { from: join(dir, 'o*.csv'), partitionedBy: 'day(ts)' })
    expect(r.addedRecords).toBe(3)
    expect(r.files).toHaveLength(2)
    expect((await lake.log('main')).length).toBe(before + 1)
    expect(r.commit.properties['tarn.table']).toBe('tarn.orders')
    const d = await lake.getTable('orders')
    expect(d.schema.map((f) => [f.name, f.type])).toEqual([
      ['id', 'long'],
      ['name', 'string'],
      ['amount', 'double'],
      ['ts', 'timestamp'],
    ])
    expect(d.partitionSpec).toEqual([{ name: 'ts_day', transform: 'day', sourceColumn: 'ts' }])
    expect(d.recordCount).toBe(3)
    expect(d.dataFiles).toBe(3)
    expect(await sortedIds(lake, 'orders')).toEqual([1, 2, 3])
  })

  it('appends CSV and JSON-lines files with import and refuses a file imported before unless forced', async () => {
    await lake.createTable('orders', { from: join(dir, 'o1.csv') })
    await lake.importTable('orders', { from: [join(dir, 'o2.csv'), join(dir, 'o3.jsonl')] })
    expect(await sortedIds(lake, 'orders')).toEqual([1, 2, 3, 4])
    const e = await errorOf(lake.importTable('orders', { from: join(dir, 'o2.csv') }))
    expect(e.code).toBe('ALREADY_IMPORTED')
    expect(e.message).toContain('o2.csv')
    await lake.importTable('orders', { from: join(dir, 'o2.csv'), force: true })
    expect(await sortedIds(lake, 'orders')).toEqual([1, 2, 3, 3, 4])
  })

  it('refuses a mistyped file naming the file and column and leaves the history unchanged', async () => {
    await lake.createTable('orders', { from: join(dir, 'o1.csv') })
    writeFileSync(join(dir, 'bad.csv'), 'id,name,amount,ts\n9,z,lots,2026-01-05 00:00:00\n')
    const head = (await lake.getBranch('main')).head
    const e = await errorOf(lake.importTable('orders', { from: join(dir, 'bad.csv') }))
    expect(e.code).toBe('SCHEMA_MISMATCH')
    expect(e.context).toMatchObject({ file: join(dir, 'bad.csv'), column: 'amount' })
    expect(e.message).toMatch(/bad\.csv.*amount/)
    expect((await lake.getBranch('main')).head).toBe(head)
    expect((await lake.getTable('orders')).snapshots).toHaveLength(1)
  })

  it('refuses a file with a column the table lacks and a malformed file, naming them', async () => {
    await lake.createTable('orders', { from: join(dir, 'o1.csv') })
    writeFileSync(join(dir, 'extra.csv'), 'id,name,amount,ts,color\n9,z,1,2026-01-05 00:00:00,red\n')
    writeFileSync(join(dir, 'broken.parquet'), 'this is not parquet')
    const head = (await lake.getBranch('main')).head
    const extra = await errorOf(lake.importTable('orders', { from: join(dir, 'extra.csv') }))
    expect(extra.code).toBe('SCHEMA_MISMATCH')
    expect(extra.context).toMatchObject({ column: 'color' })
    const broken = await errorOf(lake.importTable('orders', { from: join(dir, 'broken.parquet') }))
    expect(broken.code).toBe('INVALID_FILE')
    expect(broken.message).toContain('broken.parquet')
    // a file whose first 30,000 rows are fine but whose last row is not: the one validation pass reads to the end
    const good = Array.from({ length: 30_000 }, (_, i) => `${i},n${i},${i}.5,2026-01-05 00:00:00`)
    const late = join(dir, 'late-broken.csv')
    writeFileSync(late, ['id,name,amount,ts', ...good, '1,2,3,4,5,6'].join('\n'))
    const lateError = await errorOf(lake.importTable('orders', { from: late }))
    expect(lateError.code).toBe('INVALID_FILE')
    expect(lateError.context).toMatchObject({ file: late })
    const none = await errorOf(lake.importTable('orders', { from: join(dir, 'nothing-*.csv') }))
    expect(none.code).toBe('INVALID_ARGUMENT')
    expect((await lake.getBranch('main')).head).toBe(head)
  })

  it('refuses a CSV file whose rows disagree on the number of fields instead of reading it as one text column', async () => {
    const ragged = join(dir, 'ragged.csv')
    writeFileSync(ragged, ['id,name', '1,a', '2,b,extra', '3,c'].join('\n'))
    const before = (await lake.getBranch('main')).head
    const created = await errorOf(lake.createTable('ragged', { from: ragged }))
    expect(created.code).toBe('INVALID_FILE')
    expect(created.message).toContain('line 3 has 3')
    expect(created.context).toMatchObject({ file: ragged, line: 3 })
    await lake.createTable('orders', { from: join(dir, 'o1.csv') })
    const imported = await errorOf(lake.importTable('orders', { from: ragged }))
    expect(imported.code).toBe('INVALID_FILE')
    expect((await lake.listTables()).map((t) => t.name)).toEqual(['orders'])
    expect((await lake.log('main')).length).toBe((await lake.log(before)).length + 1)
    // a one-column file whose quoted header contains a comma is legitimate
    const single = join(dir, 'single.csv')
    writeFileSync(single, ['"a,b"', 'x', 'y'].join('\n'))
    await lake.createTable('single', { from: single })
    expect((await lake.query('SELECT count(*) AS n FROM single')).rows()).toEqual([{ n: 2n }])
  })

  it('answers SQL through the SDK as Arrow at any ref, and explains the scan without running it', async () => {
    await lake.createTable('orders', { from: join(dir, 'o1.csv') })
    await lake.createTag('v1')
    await lake.importTable('orders', { from: join(dir, 'o2.csv') })
    const now = await lake.query('SELECT count(*) AS n, sum(amount) AS total FROM orders')
    expect(now.table.numRows).toBe(1)
    expect(now.rows()).toEqual([{ n: 3n, total: 20.5 }])
    expect(now.rows()[0]).toEqual({ n: 3n, total: 20.5 })
    expect((await lake.query('SELECT count(*) AS n FROM tarn.orders', { ref: 'v1' })).rows()).toEqual([
      { n: 2n },
    ])
    const plan = await lake.explain('SELECT * FROM orders WHERE id = 3')
    expect(plan.tables.map((t) => t.table)).toEqual(['tarn.orders'])
  })

  it('refuses to create a table twice or in a missing namespace', async () => {
    await lake.createTable('orders', { from: join(dir, 'o1.csv') })
    expect((await errorOf(lake.createTable('orders', { from: join(dir, 'o2.csv') }))).code).toBe(
      'TABLE_EXISTS',
    )
    expect((await errorOf(lake.createTable('nowhere.orders', { from: join(dir, 'o2.csv') }))).code).toBe(
      'NAMESPACE_NOT_FOUND',
    )
    expect((await errorOf(lake.getTable('missing'))).code).toBe('TABLE_NOT_FOUND')
  })

  it('merges two branches that each appended to a table, holding both sides rows exactly once', async () => {
    await lake.createTable('orders', { from: join(dir, 'o1.csv') })
    await lake.createBranch('a', { from: 'main' })
    await lake.createBranch('b', { from: 'main' })
    await lake.importTable('orders', { from: join(dir, 'o2.csv'), branch: 'a' })
    await lake.importTable('orders', { from: join(dir, 'o3.jsonl'), branch: 'b' })
    await lake.merge('a', { into: 'main' })
    const r = await lake.merge('b', { into: 'main' })
    expect(r.kind).toBe('merge')
    expect(r.changes.combined).toEqual(['tarn.orders'])
    expect(await sortedIds(lake, 'orders', 'main')).toEqual([1, 2, 3, 4])
  })

  it('fails to merge an append on one side and an overwrite on the other with MERGE_CONFLICT', async () => {
    await lake.createTable('orders', { from: join(dir, 'o1.csv') })
    await lake.createBranch('a', { from: 'main' })
    await lake.importTable('orders', { from: join(dir, 'o2.csv'), branch: 'a' })
    const { loaded } = await lake.loadTable('orders', { ref: 'main' })
    const result = await overwriteRows(loaded, 'SELECT 42::BIGINT AS id', {
      clock: lake.clock,
      random: lake.random,
    })
    await lake.catalog.commit({
      branch: 'main',
      changes: [{ type: 'putTable', key: 'orders', state: result.state }],
      message: 'overwrite',
    })
    const head = (await lake.getBranch('main')).head
    const e = await errorOf(lake.merge('a', { into: 'main' }))
    expect(e.code).toBe('MERGE_CONFLICT')
    expect(e.context.tables).toEqual(['tarn.orders'])
    expect((await lake.getBranch('main')).head).toBe(head)
  })

  it('registers a foreign Iceberg table zero-copy and reads it with deletes applied', async () => {
    const metadata = join(FOREIGN_TABLES, 'java/bunnies/metadata/v5.metadata.json')
    const r = await lake.registerTable('bunnies', { metadata, allowMovedPaths: true })
    expect(r.state.snapshotId).toBe('9158179788527662767')
    const d = await lake.getTable('bunnies')
    expect(d.schema.map((f) => f.name)).toContain('Breed Name')
    expect((await rows(lake, 'bunnies')).length).toBe(15)
    const refused = await errorOf(lake.registerTable('bunnies2', { metadata }))
    expect(refused.code).toBe('INVALID_ARGUMENT')
  })

  it.skipIf(!haveS3Server())('imports Parquet files from S3 into a local lake', async () => {
    const s3 = await startS3Server()
    const saved = { ...process.env }
    try {
      Object.assign(process.env, {
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
        AWS_REGION: s3.region,
      })
      const file = join(dir, 'p.parquet')
      const db = await DuckDBInstance.create(':memory:')
      const conn = await db.connect()
      await conn.run(`COPY (SELECT range::BIGINT AS id FROM range(5)) TO '${file}' (FORMAT parquet)`)
      conn.closeSync()
      db.closeSync()
      const client = new S3Client({
        endpoint: s3.endpoint,
        region: s3.region,
        forcePathStyle: true,
        credentials: s3.credentials,
      })
      const { readFileSync } = await import('node:fs')
      await client.send(
        new PutObjectCommand({ Bucket: s3.bucket, Key: 'in/p1.parquet', Body: readFileSync(file) }),
      )
      client.destroy()
      const r = await lake.createTable('nums', { from: `s3://${s3.bucket}/in/*.parquet` })
      expect(r.files).toEqual([`s3://${s3.bucket}/in/p1.parquet`])
      expect(await sortedIds(lake, 'nums')).toEqual([0, 1, 2, 3, 4])
    } finally {
      process.env = saved
      await s3.close()
    }
  })
})
