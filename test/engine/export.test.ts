import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDuckDB } from '../../src/duckdb/open-duckdb.js'
import type { Lake } from '../../src/lake/lake.js'
import { isTarnError } from '../../src/util/errors.js'
import { ensureBuilt, ROOT } from '../helpers/build.js'
import { tempLake } from './helpers.js'

let lake: Lake
let home: string
let cleanup: () => Promise<void>
let out: string

beforeAll(async () => {
  ;({ lake, home, cleanup } = await tempLake())
  out = await mkdtemp(join(tmpdir(), 'tarn-export-'))
  const src = join(out, 'src.parquet')
  const db = await DuckDBInstance.create(':memory:')
  const conn = await db.connect()
  await conn.run(
    `COPY (SELECT range AS id, 'name ' || range AS name, [range] AS l FROM range(1000)) TO '${src}'`,
  )
  conn.closeSync()
  db.closeSync()
  await lake.createTable('items', { from: src })
  await lake.importTable('items', { from: src, force: true })
})
afterAll(async () => {
  await cleanup()
  await rm(out, { recursive: true, force: true })
})

async function readBack(sql: string): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(':memory:')
  const conn = await db.connect()
  try {
    return (await conn.runAndReadAll(sql)).getRows() as unknown[][]
  } finally {
    conn.closeSync()
    db.closeSync()
  }
}

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p
    return undefined
  } catch (e) {
    return isTarnError(e) ? e.code : String(e)
  }
}

describe('exporting query results', () => {
  it('writes the whole result to Parquet, CSV and JSON lines, with the format from the extension', async () => {
    const parquet = await lake.exportQuery('SELECT * FROM items WHERE id < 100', {
      output: join(out, 'a.parquet'),
    })
    expect(parquet).toMatchObject({ format: 'parquet', rows: 200, output: join(out, 'a.parquet') })
    expect(parquet.bytes).toBeGreaterThan(0)
    expect(await readBack(`SELECT count(*), sum(id), max(l[1]) FROM '${join(out, 'a.parquet')}'`)).toEqual([
      [200n, 9900n, 99n],
    ])
    const csv = await lake.exportQuery('SELECT id, name FROM items ORDER BY id LIMIT 2;', {
      output: join(out, 'a.csv'),
    })
    expect(csv.rows).toBe(2)
    expect(await readFile(join(out, 'a.csv'), 'utf8')).toBe('id,name\n0,name 0\n0,name 0\n')
    await lake.exportQuery('SELECT id, l FROM items ORDER BY id LIMIT 1 -- trailing comment', {
      output: join(out, 'a.jsonl'),
    })
    expect(JSON.parse((await readFile(join(out, 'a.jsonl'), 'utf8')).trim())).toEqual({ id: 0, l: [0] })
    const forced = await lake.exportQuery('SELECT 1 AS x', { output: join(out, 'a.txt'), format: 'csv' })
    expect(forced.format).toBe('csv')
  })

  it('exports a table at a ref', async () => {
    const r = await lake.exportTable('items', { output: join(out, 'old.parquet'), ref: 'main~1' })
    expect(r.rows).toBe(1000)
    const now = await lake.exportTable('tarn.items', { output: join(out, 'now.parquet') })
    expect(now.rows).toBe(2000)
  })

  it('refuses an existing file unless forced, and leaves it intact when the query fails', async () => {
    const path = join(out, 'keep.csv')
    await writeFile(path, 'precious\n')
    expect(await code(lake.exportQuery('SELECT 1', { output: path }))).toBe('FILE_EXISTS')
    expect(
      await code(lake.exportQuery("SELECT error('boom') FROM items", { output: path, force: true })),
    ).toBe('SQL_ERROR')
    expect(await readFile(path, 'utf8')).toBe('precious\n')
    expect((await readdir(out)).filter((f) => f.endsWith('.tarn-export'))).toEqual([])
    await lake.exportQuery('SELECT 2 AS y', { output: path, force: true })
    expect(await readFile(path, 'utf8')).toBe('y\n2\n')
  })

  it('validates the output path before running anything', async () => {
    expect(await code(lake.exportQuery('SELECT 1', { output: join(out, 'nope', 'x.csv') }))).toBe('USAGE')
    expect(await code(lake.exportQuery('SELECT 1', { output: join(out, 'x.xlsx') }))).toBe('USAGE')
    expect(await code(lake.exportQuery('SELECT 1', { output: out }))).toBe('USAGE')
    expect(await code(lake.exportQuery('SELECT 1', { output: 's3://bucket/x.csv' }))).toBe('USAGE')
    expect(
      await code(lake.exportQuery('SELECT 1', { output: join(home, 'warehouse', 'evil.parquet') })),
    ).toBe('USAGE')
    expect(await code(lake.exportQuery("COPY items TO '/tmp/x.csv'", { output: join(out, 'w.csv') }))).toBe(
      'QUERY_NOT_ALLOWED',
    )
  })
})

describe('the export sandbox', () => {
  it('may write exactly its output path and nothing else in the same directory', async () => {
    const allowed = join(out, 'allowed.csv')
    const db = await openDuckDB({
      readableDirectories: [],
      scratchDir: join(out, 'scratch'),
      writablePaths: [allowed],
    })
    const conn = await db.connect()
    try {
      await conn.run(`COPY (SELECT 1 AS x) TO '${allowed}' (FORMAT csv)`)
      expect(await readFile(allowed, 'utf8')).toBe('x\n1\n')
      await expect(
        conn.run(`COPY (SELECT 1 AS x) TO '${join(out, 'other.csv')}' (FORMAT csv)`),
      ).rejects.toThrow(/Permission Error|not allowed|disabled/i)
    } finally {
      conn.closeSync()
      db.closeSync()
    }
  })
})

describe('the export commands', () => {
  it('tarn query --output and tarn table export write files and print what they wrote', () => {
    ensureBuilt()
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [join(ROOT, 'bin', 'tarn.js'), ...args], {
        env: { ...process.env, TARN_HOME: home },
        cwd: out,
        encoding: 'utf8',
      })
    const q = run('query', 'SELECT id FROM items WHERE id < 10', '--output', 'q.csv', '--json')
    expect(q.status).toBe(0)
    expect(JSON.parse(q.stdout)).toMatchObject({
      output: join(out, 'q.csv'),
      format: 'csv',
      rows: 20,
      ref: 'main',
    })
    const t = run('table', 'export', 'items', '-o', 'q.csv')
    expect(t.status).toBe(4)
    expect(t.stderr).toMatch(/q\.csv already exists; use --force/)
    const forced = run('table', 'export', 'items', '-o', 'q.csv', '--force')
    expect(forced.status).toBe(0)
    expect(forced.stdout).toMatch(/^Wrote 2000 rows to .*q\.csv \(csv, /)
  }, 240_000)
})
