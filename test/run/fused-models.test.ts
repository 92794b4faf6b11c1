import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lake, renderPlan } from '../../src/index.js'
import { ensureBuilt } from '../helpers/build.js'
import { writeProject } from './helpers.js'

const EVENTS = 'id,k,v\n1,1,-2.5\n2,1,1.5\n3,2,2.5\n4,2,-1\n5,3,4\n6,3,0.5\n'

const TS_DOUBLE = `import { input, model } from 'tarn'
export const doubled = model(
  { inputs: { rows: input('positive', { columns: ['k', 'v'], filter: 'k < 3' }) }, materialize: 'REPLACE' },
  async ({ rows }) => Array.from({ length: rows.numRows }, (_v, i) => ({
    k: Number(rows.getChild('k')?.get(i)),
    v2: Number(rows.getChild('v')?.get(i)) * 2,
  })),
)
`

describe('a SQL model read once by a TS function', () => {
  let lake: Lake
  beforeAll(async () => {
    ensureBuilt()
    const dir = mkdtempSync(join(tmpdir(), 'tarn-fused-'))
    const csv = join(dir, 'events.csv')
    writeFileSync(csv, EVENTS)
    lake = await Lake.init({ home: join(dir, 'lake'), author: 'tester' })
    await lake.createTable('events', { from: csv })
  })
  afterAll(async () => {
    await lake.close()
  })

  it('runs inside the function input query, which applies its columns and filter, and the plan says so', async () => {
    const dir = writeProject({
      'tarn_project.yml': 'name: fused\nnamespace: tarn\n',
      'positive.sql': 'SELECT id, k, v FROM events WHERE v > 0; -- a trailing semicolon and line comment\n',
      'doubled.ts': TS_DOUBLE,
    })
    const planned = await lake.plan({ dir })
    const step = planned.physical.steps.find((s) => s.id === 'model:positive')
    expect(step?.fusedInto).toBe('model:doubled')
    expect(renderPlan(planned.physical)).toContain('run positive (sql, inside the input of model:doubled)')

    const { job } = await lake.run({ dir, branch: 'main' })
    expect(job.status).toBe('succeeded')
    const node = job.nodes.find((n) => n.id === 'model:positive')
    expect(node).toMatchObject({ status: 'done', fusedInto: 'model:doubled', rows: null })
    const rows = await lake.query('SELECT k, v2 FROM tarn.doubled ORDER BY k, v2')
    expect(rows.rows().map((r) => [Number(r.k), Number(r.v2)])).toEqual([
      [1, 3],
      [2, 5],
    ])
  })

  it('runs on its own when a second node reads it too (and a model ending in a semicolon and a comment runs)', async () => {
    const dir = writeProject({
      'tarn_project.yml': 'name: twice\nnamespace: tarn\n',
      'positive.sql': 'SELECT id, k, v FROM events WHERE v > 0\n',
      'doubled.ts': TS_DOUBLE,
      'counted.sql': '-- tarn: materialize=REPLACE\nSELECT count(*) AS n FROM positive;\n/* the end */\n',
    })
    const { job } = await lake.run({ dir, branch: 'main' })
    expect(job.status).toBe('succeeded')
    const node = job.nodes.find((n) => n.id === 'model:positive')
    expect(node?.fusedInto).toBeUndefined()
    expect(node?.rows).toBe(4)
    expect(Number((await lake.query('SELECT n FROM tarn.counted')).rows()[0]?.n)).toBe(4)
  })

  it('fails the run naming the SQL model file and line when its query fails inside the input, and main is untouched', async () => {
    const head = (await lake.getBranch('main')).head
    const dir = writeProject({
      'tarn_project.yml': 'name: broken\nnamespace: tarn\n',
      'positive.sql': "SELECT id, k, CAST('x' || v AS DOUBLE) AS v FROM events\n",
      'doubled.ts': TS_DOUBLE,
    })
    const thrown = await lake.run({ dir, branch: 'main' }).then(
      () => null,
      (e: unknown) => e,
    )
    expect(thrown).toMatchObject({ code: 'RUN_FAILED' })
    const job = (await lake.listJobs()).find((j) => j.project === 'broken')
    expect(job?.status).toBe('failed')
    if (!job) return
    expect(job.error?.code).toBe('RUN_FAILED')
    expect(job.error?.message).toMatch(/^model positive failed at positive\.sql:1: /)
    expect(job.error?.context).toMatchObject({ model: 'positive', file: 'positive.sql', line: 1 })
    expect(job.nodes.find((n) => n.id === 'model:positive')?.status).toBe('failed')
    expect((await lake.getBranch('main')).head).toBe(head)
  })
})
