import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Lake } from '../../src/index.js'
import { ensureBuilt, ROOT } from '../helpers/build.js'
import { errorOf } from '../helpers/errors.js'
import { writeProject } from '../run/helpers.js'

const PROJECT = 'name: evolve\nnamespace: tarn\n'

describe('schema evolution in place', () => {
  let dir: string
  let lake: Lake

  beforeAll(() => ensureBuilt())
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tarn-evolve-'))
    lake = await Lake.init({ home: join(dir, 'lake'), author: 'tester' })
    writeFileSync(join(dir, 'a.csv'), 'id,name\n1,a\n2,b\n')
    writeFileSync(join(dir, 'b.csv'), 'id,name,tip\n3,c,1.5\n')
  })
  afterEach(async () => {
    await lake.close()
  })

  it('refuses a file with a new column unless evolveSchema, then adds it keeping uuid, location and history', async () => {
    await lake.createTable('trips', { from: join(dir, 'a.csv') })
    const before = await lake.getTable('trips')
    const refused = await errorOf(lake.importTable('trips', { from: join(dir, 'b.csv'), replace: true }))
    expect(refused.code).toBe('SCHEMA_MISMATCH')
    const r = await lake.importTable('trips', { from: join(dir, 'b.csv'), evolveSchema: true })
    expect(r.addedRecords).toBe(1)
    const after = await lake.getTable('trips')
    expect(after.state.tableUuid).toBe(before.state.tableUuid)
    expect(after.location).toBe(before.location)
    expect(after.schema.map((f) => [f.id, f.name, f.type])).toEqual([
      [1, 'id', 'long'],
      [2, 'name', 'string'],
      [3, 'tip', 'double'],
    ])
    expect(after.snapshots.map((s) => s.operation)).toEqual(['append', 'append'])
    const rows = await lake.query('SELECT id, tip FROM trips ORDER BY id')
    expect(rows.rows()).toEqual([
      { id: 1n, tip: null },
      { id: 2n, tip: null },
      { id: 3n, tip: 1.5 },
    ])
  })

  it('widens int to long on import and names column and both types for an incompatible change', async () => {
    const seed = join(dir, 'seed.parquet')
    const small = join(dir, 'small.parquet')
    const big = join(dir, 'big.parquet')
    const text = join(dir, 'text.parquet')
    const { DuckDBInstance } = await import('@duckdb/node-api')
    const db = await DuckDBInstance.create(':memory:')
    const conn = await db.connect()
    await conn.run(`COPY (SELECT 1::INTEGER AS n) TO '${seed}' (FORMAT parquet)`)
    await conn.run(`COPY (SELECT 2::INTEGER AS n) TO '${small}' (FORMAT parquet)`)
    await conn.run(`COPY (SELECT 5000000000::BIGINT AS n) TO '${big}' (FORMAT parquet)`)
    await conn.run(`COPY (SELECT 'x' AS n) TO '${text}' (FORMAT parquet)`)
    conn.closeSync()
    db.closeSync()
    await lake.createTable('nums', { from: seed })
    expect((await lake.getTable('nums')).schema[0]?.type).toBe('int')
    await lake.importTable('nums', { from: small, evolveSchema: true })
    expect((await lake.getTable('nums')).schema[0]?.type).toBe('int')
    await lake.importTable('nums', { from: big, evolveSchema: true })
    const d = await lake.getTable('nums')
    expect(d.schema[0]).toMatchObject({ id: 1, type: 'long' })
    expect(d.snapshots).toHaveLength(3)
    const head = (await lake.getBranch('main')).head
    const e = await errorOf(lake.importTable('nums', { from: text, evolveSchema: true }))
    expect(e.code).toBe('SCHEMA_MISMATCH')
    expect(e.message).toContain('"n"')
    expect(e.message).toMatch(/BIGINT/)
    expect(e.message).toMatch(/VARCHAR/)
    expect((await lake.getBranch('main')).head).toBe(head)
  })

  it('a REPLACE model that adds a column evolves its table in place; an incompatible type change is refused', async () => {
    await lake.createTable('trips', { from: join(dir, 'a.csv') })
    const v1 = writeProject({
      'tarn_project.yml': PROJECT,
      'stats.sql': '-- tarn: materialize=REPLACE\nSELECT id::INTEGER AS id, name FROM trips\n',
    })
    const v2 = writeProject({
      'tarn_project.yml': PROJECT,
      'stats.sql': "-- tarn: materialize=REPLACE\nSELECT id::BIGINT AS id, name, 'x' AS note FROM trips\n",
    })
    const bad = writeProject({
      'tarn_project.yml': PROJECT,
      'stats.sql': "-- tarn: materialize=REPLACE\nSELECT 'no' AS id, name, 'x' AS note FROM trips\n",
    })
    await lake.run({ dir: v1 })
    const before = await lake.getTable('stats')
    await lake.run({ dir: v2 })
    const after = await lake.getTable('stats')
    expect(after.state.tableUuid).toBe(before.state.tableUuid)
    expect(after.location).toBe(before.location)
    expect(after.snapshots.map((s) => s.operation)).toEqual(['append', 'overwrite'])
    expect(after.snapshots[1]?.summary['tarn.job_id']).toMatch(/^job-/)
    expect(after.schema.map((f) => [f.id, f.name, f.type])).toEqual([
      [1, 'id', 'long'],
      [2, 'name', 'string'],
      [3, 'note', 'string'],
    ])
    expect((await lake.query('SELECT count(*) AS n FROM stats WHERE note = $$x$$')).rows()).toEqual([
      { n: 2n },
    ])
    const e = await errorOf(lake.run({ dir: bad }))
    expect(e.code).toBe('SCHEMA_MISMATCH')
    expect(e.message).toContain('cannot change column id of tarn.stats from long to string')
    expect((await lake.getTable('stats')).snapshots).toHaveLength(2)
  })

  it('evolves the schema from the CLI with tarn table import --evolve-schema', async () => {
    await lake.createTable('trips', { from: join(dir, 'a.csv') })
    const run = (...extra: string[]) =>
      spawnSync(
        process.execPath,
        [
          join(ROOT, 'bin', 'tarn.js'),
          'table',
          'import',
          'trips',
          '--from',
          join(dir, 'b.csv'),
          '--json',
          ...extra,
        ],
        { env: { ...process.env, TARN_HOME: join(dir, 'lake'), TARN_USER: 'cli' }, encoding: 'utf8' },
      )
    const refused = run()
    expect(refused.status).toBe(2)
    expect(JSON.parse(refused.stdout).error.code).toBe('SCHEMA_MISMATCH')
    const ok = run('--evolve-schema')
    expect(ok.status, ok.stderr).toBe(0)
    expect(JSON.parse(ok.stdout).addedRecords).toBe(1)
    expect((await lake.getTable('trips')).schema.map((f) => f.name)).toEqual(['id', 'name', 'tip'])
  })
})
