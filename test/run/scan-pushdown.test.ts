import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { planScan } from '../../src/iceberg/scan-planner.js'
import { Lake } from '../../src/lake/lake.js'
import { runPipeline } from '../../src/pipeline/run/run-pipeline.js'
import { ensureBuilt, ROOT } from '../helpers/build.js'
import { writeProject } from './helpers.js'

const DAYS = 100
const PROJECT = 'name: t\nnamespace: tarn\n'

/** A lake whose table `events` has one file per day for 100 days (3 rows each), and the paths of those files. */
async function dailyLake(): Promise<{ lake: Lake; home: string; files: string[] }> {
  const home = join(mkdtempSync(join(tmpdir(), 'tarn-pushdown-')), 'lake')
  const lake = await Lake.init({ home, author: 'tester' })
  const csv = join(mkdtempSync(join(tmpdir(), 'tarn-pushdown-data-')), 'events.csv')
  const lines = ['day,n,note']
  for (let d = 0; d < DAYS; d++) {
    const day = new Date(Date.UTC(2024, 0, 1 + d)).toISOString().slice(0, 10)
    for (let k = 0; k < 3; k++) lines.push(`${day},${d * 10 + k},row ${k}`)
  }
  writeFileSync(csv, `${lines.join('\n')}\n`)
  await lake.createTable('events', { from: csv, partitionedBy: 'day' })
  const { loaded } = await lake.loadTable('events')
  const files = (await planScan(loaded)).tasks.map((t) => fileURLToPath(t.dataFile.dataFile.filePath))
  return { lake, home, files }
}

describe('a run reads only what its plan pushes down', () => {
  beforeAll(() => ensureBuilt())

  it('a run whose input filter keeps 1 of 100 daily partitions opens exactly that file and records 1 of 100', async () => {
    const { lake, home, files } = await dailyLake()
    expect(files).toHaveLength(DAYS)
    const { loaded } = await lake.loadTable('events')
    const keptPlan = await planScan(loaded, { filter: { op: 'eq', column: 'day', value: '2024-01-05' } })
    expect(keptPlan.tasks).toHaveLength(1)
    const kept = fileURLToPath(keptPlan.tasks[0]?.dataFile.dataFile.filePath as string)
    const sizes = new Map(files.map((f) => [f, statSync(f).size]))
    // Every other day's file is gone: the run can only succeed if it never opens them.
    for (const f of files) if (f !== kept) rmSync(f)
    const dir = writeProject({
      'tarn_project.yml': PROJECT,
      'one_day.sql':
        "-- tarn: materialize=REPLACE\nSELECT day, n FROM events WHERE day = DATE '2024-01-05'\n",
    })
    const { job } = await runPipeline(lake, { dir })
    expect(job.status).toBe('succeeded')
    expect(job.tables['tarn.one_day']).toBe(3)
    const scan = job.nodes.find((n) => n.id === 'scan:tarn.events')
    expect(scan?.rows).toBe(3)
    expect(scan?.scan).toMatchObject({
      filesKept: 1,
      filesTotal: DAYS,
      bytesKept: sizes.get(kept),
      bytesTotal: [...sizes.values()].reduce((a, b) => a + b, 0),
      pushedFilter: true,
    })
    expect(scan?.scan?.columns?.map((c) => c.toLowerCase()).sort()).toEqual(['day', 'n'])
    await lake.close()

    const env = { ...process.env, TARN_HOME: home, TARN_USER: 'tester' }
    const bin = join(ROOT, 'bin', 'tarn.js')
    const text = spawnSync(process.execPath, [bin, 'job', 'get', job.id], { env, encoding: 'utf8' })
    expect(text.status).toBe(0)
    expect(text.stdout).toMatch(/scan:tarn\.events +3 rows in \S+ +read 1 of 100 files, /)
    const json = spawnSync(process.execPath, [bin, 'job', 'get', job.id, '--json'], { env, encoding: 'utf8' })
    const doc = JSON.parse(json.stdout) as { nodes: { id: string; scan?: { filesKept: number } }[] }
    expect(doc.nodes.find((n) => n.id === 'scan:tarn.events')?.scan?.filesKept).toBe(1)
  }, 120_000)

  it('a run without a filter on its input reads every file and records all of them', async () => {
    const { lake, files } = await dailyLake()
    const dir = writeProject({
      'tarn_project.yml': PROJECT,
      'all_days.sql': '-- tarn: materialize=REPLACE\nSELECT day, count(*) AS c FROM events GROUP BY day\n',
    })
    const { job } = await runPipeline(lake, { dir })
    expect(job.tables['tarn.all_days']).toBe(DAYS)
    const scan = job.nodes.find((n) => n.id === 'scan:tarn.events')?.scan
    expect(scan).toMatchObject({ filesKept: DAYS, filesTotal: DAYS, filter: null, pushedFilter: false })
    expect(scan?.bytesKept).toBe(files.reduce((a, f) => a + statSync(f).size, 0))
    await lake.close()
  }, 120_000)
})
