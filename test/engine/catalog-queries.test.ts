import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lake } from '../../src/lake/lake.js'
import { ensureBuilt, ROOT } from '../helpers/build.js'

let home: string
let lake: Lake

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'tarn-catalog-queries-'))
  const db = await DuckDBInstance.create(':memory:')
  const conn = await db.connect()
  const file = join(home, 'nested.parquet')
  await conn.run(`COPY (SELECT range AS id, [{'a': range::INTEGER, 'b': 'x'}] AS ls, MAP {'k': range} AS m
    FROM range(7)) TO '${file}' (FORMAT parquet)`)
  conn.closeSync()
  db.closeSync()
  lake = await Lake.init({ home, env: {}, author: 'tester' })
  await lake.createTable('events', { from: file })
  await lake.createNamespace('sales')
  await lake.createTable('sales.orders', { from: file })
  await lake.createBranch('dev')
  await lake.createTable('only_dev', { from: file, branch: 'dev' })
}, 120_000)
afterAll(async () => {
  await lake.close()
  await rm(home, { recursive: true, force: true })
})

describe('catalog queries', () => {
  it('SHOW TABLES lists the tables of the default namespace and SHOW ALL TABLES every namespace as a schema', async () => {
    expect((await lake.query('SHOW TABLES')).rows()).toEqual([{ name: 'events' }])
    const all = (await lake.query('SELECT database, schema, name FROM (SHOW ALL TABLES) ORDER BY ALL')).rows()
    expect(all).toEqual([
      { database: 'lake', schema: 'sales', name: 'orders' },
      { database: 'lake', schema: 'tarn', name: 'events' },
    ])
  })

  it('information_schema.tables and duckdb_tables() answer with the tables at the ref', async () => {
    const sql = 'SELECT table_schema, table_name FROM information_schema.tables ORDER BY ALL'
    expect((await lake.query(sql)).rows()).toEqual([
      { table_schema: 'sales', table_name: 'orders' },
      { table_schema: 'tarn', table_name: 'events' },
    ])
    const dev = await lake.query('SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL', {
      ref: 'dev',
    })
    expect(dev.rows()).toEqual([
      { schema_name: 'sales', table_name: 'orders' },
      { schema_name: 'tarn', table_name: 'events' },
      { schema_name: 'tarn', table_name: 'only_dev' },
    ])
    const columns = await lake.query(
      "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'events' ORDER BY ordinal_position",
    )
    expect(columns.rows()).toEqual([
      { column_name: 'id', data_type: 'BIGINT' },
      { column_name: 'ls', data_type: 'STRUCT(a INTEGER, b VARCHAR)[]' },
      { column_name: 'm', data_type: 'MAP(VARCHAR, BIGINT)' },
    ])
  })

  it('still reads the data of a table the catalog query also reads', async () => {
    const r = await lake.query(
      'SELECT (SELECT count(*) FROM events) AS n, (SELECT count(*) FROM duckdb_tables()) AS t',
    )
    expect(r.rows()).toEqual([{ n: 7n, t: 1n }])
  })
})

describe('tarn table ls and get', () => {
  it('lists tables with rows, files and size under a header, and in --json', () => {
    ensureBuilt()
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [join(ROOT, 'bin', 'tarn.js'), ...args], {
        env: { ...process.env, TARN_HOME: home },
        encoding: 'utf8',
      })
    const text = run('table', 'ls', '-r', 'dev')
    expect(text.status).toBe(0)
    const lines = text.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^TABLE\s+ROWS\s+FILES\s+SIZE\s+SNAPSHOT$/)
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 3))).toEqual([
      ['sales.orders', '7', '1'],
      ['tarn.events', '7', '1'],
      ['tarn.only_dev', '7', '1'],
    ])
    const json = JSON.parse(run('table', 'ls', '--json').stdout)
    expect(
      json.tables.map((t: { table: string; rows: number; files: number }) => [t.table, t.rows, t.files]),
    ).toEqual([
      ['sales.orders', 7, 1],
      ['tarn.events', 7, 1],
    ])
    expect(json.tables[0].sizeBytes).toBeGreaterThan(0)
    const get = run('table', 'get', 'events')
    expect(get.stdout).toMatch(/\n {2}2\s+ls\s+list<struct<a: int, b: string>>\s+optional\n/)
    expect(get.stdout).toMatch(/\n {2}3\s+m\s+map<string, long>\s+optional\n/)
    const getJson = JSON.parse(run('table', 'get', 'events', '--json').stdout)
    expect(getJson.schema[1]).toMatchObject({ name: 'ls', type: 'list<struct<a: int, b: string>>' })
  }, 240_000)
})
