import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lake } from '../../src/lake/lake.js'
import { getCodeSnapshot } from '../../src/pipeline/run/job-store.js'
import { ensureBuilt } from '../helpers/build.js'
import { writeProject } from './helpers.js'

const TYPED = `SELECT
    i::BIGINT AS id,
    (i * 1001.125)::DECIMAL(18,3) AS amount,
    TIMESTAMPTZ '2026-01-31 10:20:30.123456+00' + i * INTERVAL 1 HOUR AS at,
    DATE '2026-01-31' + i::INTEGER AS day,
    [i::INTEGER, NULL, i::INTEGER * 2] AS ints,
    {'a': i::INTEGER, 'b': 'x' || i} AS rec,
    [{'k': 'key', 'v': i::INTEGER}] AS nested,
    CASE WHEN i % 3 = 0 THEN NULL ELSE 'name ' || i END AS name
  FROM range(0, 50) AS r(i)`

function fieldTypes(
  schema: { readonly fields: readonly { readonly name: string; readonly type: unknown }[] } | undefined,
): Record<string, unknown> {
  return Object.fromEntries((schema?.fields ?? []).map((f) => [f.name, JSON.stringify(f.type)]))
}

describe('TS models in a run', () => {
  let lake: Lake
  beforeAll(async () => {
    ensureBuilt()
    const dir = mkdtempSync(join(tmpdir(), 'tarn-tsm-'))
    const file = join(dir, 'typed.parquet')
    const db = await DuckDBInstance.create(':memory:')
    const conn = await db.connect()
    await conn.run(`COPY (${TYPED}) TO '${file}' (FORMAT parquet)`)
    conn.closeSync()
    db.closeSync()
    lake = await Lake.init({ home: join(dir, 'lake'), author: 'tester' })
    await lake.createTable('typed', { from: file })
  })
  afterAll(async () => {
    await lake.close()
  })

  it('materialises a model that returns its input unchanged with the same column types and rows', async () => {
    const dir = writeProject({
      'tarn_project.yml': 'name: same\nnamespace: tarn\n',
      'same.ts':
        "import { input, model } from 'tarn'\nexport const same = model({ inputs: { t: input('typed') }, materialize: 'REPLACE' }, async ({ t }) => t)\n",
    })
    const { job } = await lake.run({ dir, branch: 'main' })
    expect(job.status).toBe('succeeded')
    // The code snapshot, written alongside the run branch and job record, is stored under the job's hash.
    expect(Object.keys((await getCodeSnapshot(lake.store, job.codeHash)).files)).toEqual([
      'same.ts',
      'tarn_project.yml',
    ])
    const source = await lake.loadTable('typed')
    const result = await lake.loadTable('tarn.same')
    const schemaOf = (l: typeof source) =>
      l.loaded.metadata.schemas.find((s) => s['schema-id'] === l.loaded.metadata['current-schema-id'])
    const types = fieldTypes(schemaOf(result))
    expect(types).toEqual(fieldTypes(schemaOf(source)))
    expect(types.amount).toBe('"decimal(18, 3)"')
    expect(types.at).toBe('"timestamptz"')
    const diff = await lake.query(
      'SELECT count(*) AS n FROM ((SELECT * FROM typed EXCEPT ALL SELECT * FROM tarn.same) UNION ALL (SELECT * FROM tarn.same EXCEPT ALL SELECT * FROM typed))',
    )
    expect(Number(diff.rows()[0]?.n)).toBe(0)
  })

  it('keeps integer columns of plain-object results integer: INTEGER, BIGINT past 32 bits, DOUBLE for fractions', async () => {
    const dir = writeProject({
      'tarn_project.yml': 'name: rows\nnamespace: tarn\n',
      'objs.ts': [
        "import { input, model } from 'tarn'",
        "export const objs = model({ inputs: { t: input('typed') }, materialize: 'REPLACE' }, async ({ t }) =>",
        '  Array.from({ length: t.numRows }, (_v, i) => ({ n: i, big: i * 2 ** 40, half: i / 2, label: i % 2 ? null : String(i) })),',
        ')',
        '',
      ].join('\n'),
    })
    const { job } = await lake.run({ dir, branch: 'main' })
    expect(job.status).toBe('succeeded')
    const { loaded } = await lake.loadTable('tarn.objs')
    const schema = loaded.metadata.schemas.find(
      (s) => s['schema-id'] === loaded.metadata['current-schema-id'],
    )
    expect(fieldTypes(schema)).toEqual({
      n: '"int"',
      big: '"long"',
      half: '"double"',
      label: '"string"',
    })
    const r = await lake.query('SELECT max(big) AS big, count(label) AS labels FROM tarn.objs')
    expect(r.rows()[0]).toEqual({ big: BigInt(49 * 2 ** 40), labels: 25n })
  })

  it('gives every model its own module state, even models that import one shared module, run after run', async () => {
    const model = (name: string) =>
      [
        "import { input, model } from 'tarn'",
        "import { seen } from './state.js'",
        `export const ${name} = model({ inputs: { t: input('typed') }, materialize: 'REPLACE' }, async () => {`,
        '  const g = globalThis as { marks?: string[] }',
        `  const before = [...(g.marks ?? [])].join(',')`,
        `  g.marks = [...(g.marks ?? []), '${name}']`,
        `  seen.push('${name}')`,
        `  return [{ before, seen: seen.join(',') }]`,
        '})',
        '',
      ].join('\n')
    const dir = writeProject({
      'tarn_project.yml': 'name: iso\nnamespace: tarn\n',
      'state.ts': 'export const seen: string[] = []\n',
      'first.ts': model('first'),
      'second.ts': model('second'),
    })
    for (let run = 0; run < 2; run++) {
      const { job } = await lake.run({ dir, branch: 'main' })
      expect(job.status).toBe('succeeded')
      for (const name of ['first', 'second']) {
        const r = await lake.query(`SELECT before, seen FROM tarn.${name}`)
        expect(r.rows()).toEqual([{ before: '', seen: name }])
      }
    }
  })
})
