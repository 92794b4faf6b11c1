import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lake } from '../../src/lake/lake.js'
import type { ReplayReport } from '../../src/sim/replay.js'
import { freshSchemaUrl, postgresUrl } from '../helpers/postgres.js'
import { startWorker, submitDetached, tarnCli, type WorkerProcess } from '../remote/worker-hosts.js'

const pgBase = await postgresUrl()

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** A one-model project: a TS model that sleeps `ms` (so nodes take different, measurable times), then its rows. */
function writeProject(dir: string, label: string, ms: number): void {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'tarn_project.yml'), `name: ${label}\nnamespace: tarn\n`)
  writeFileSync(
    join(dir, `${label}_out.ts`),
    [
      "import { input, model } from 'tarn'",
      '',
      `export const ${label}_out = model({ inputs: { nums: input('nums') } }, async ({ nums }) => {`,
      `  await new Promise((r) => setTimeout(r, ${ms}))`,
      '  return nums.toArray().map((r) => ({ id: Number(r.id) }))',
      '})',
      '',
    ].join('\n'),
  )
}

/**
 * Tolerances of a replay against the real run, stated once. The trace carries the workers' measured dispatch overhead
 * (their mean gap between two activities), so utilisation agrees closely; the order may differ by neighbours whose
 * completions were close on two busy workers, where the real gaps vary around that mean.
 */
const TOLERANCE = { rankCorrelation: 0.75, maxRankDisplacement: 3, utilisationDelta: 0.15 }

describe.skipIf(pgBase === undefined)('tarn sim run --from-jobs on a lake whose runs ran on workers', () => {
  let root: string
  let env: Record<string, string>
  let lake: Lake
  let db: pg.Pool
  let queueSchema: string
  const workers: WorkerProcess[] = []
  const saved = { ...process.env }

  beforeAll(async () => {
    const catalogUrl = freshSchemaUrl(pgBase as string, 'fj')
    root = mkdtempSync(join(tmpdir(), 'tarn-from-jobs-'))
    env = { TARN_CATALOG_URL: catalogUrl, TARN_WAREHOUSE: join(root, 'warehouse') }
    const home = join(root, 'client')
    Object.assign(process.env, env)
    lake = await Lake.init({ home, env: { ...process.env, ...env, TARN_HOME: home } })
    writeFileSync(join(root, 'nums.csv'), `id\n${Array.from({ length: 20 }, (_, i) => i + 1).join('\n')}\n`)
    await lake.createTable('nums', { from: [join(root, 'nums.csv')] })
    queueSchema = `${new URL(catalogUrl).searchParams.get('schema')}_queue`.toLowerCase()
    db = new pg.Pool({ connectionString: pgBase as string, max: 2 })
  }, 60_000)

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL')
    await db?.end()
    await lake?.close()
    process.env = saved
  })

  it('replays every run and node with its measured time, in about the order and utilisation the workers had', async () => {
    const home = join(root, 'client')
    // eight runs queued before the workers start: four batch runs, then four interactive ones, of unequal lengths
    const runs: { id: string; priority: string }[] = []
    for (let i = 0; i < 8; i++) {
      const label = `r${i}`
      const priority = i < 4 ? 'batch' : 'interactive'
      writeProject(join(root, label), label, 300 + 250 * (i % 3))
      const r = await submitDetached({ ...env, TARN_HOME: home }, join(root, label), priority)
      expect(r.code, r.stderr).toBe(0)
      runs.push({ id: r.job as string, priority })
    }
    for (let i = 0; i < 2; i++)
      workers.push(startWorker({ ...env, TARN_HOME: join(root, `host${i}`) }, ['--cpus', '1']))
    for (let i = 0; i < 1200; i++) {
      const jobs = await Promise.all(runs.map((r) => lake.getJob(r.id)))
      if (jobs.every((j) => j.status !== 'running')) break
      await sleep(100)
    }
    for (const r of runs) expect((await lake.getJob(r.id)).status).toBe('succeeded')
    for (const w of workers) w.child.kill('SIGTERM')
    for (const w of workers) expect(await w.exited).toBe(0)

    const out = await tarnCli({ ...env, TARN_HOME: home }, ['sim', 'run', '--from-jobs', '--json'])
    expect(out.code, out.stderr).toBe(0)
    const report = JSON.parse(out.stdout) as ReplayReport
    expect(report.source).toBe('workers')
    expect(report.policy).toBe('priority')
    expect(report.cluster).toMatchObject({ workers: 2, cpusPerWorker: 1, pools: ['default'] })
    expect(report.dispatchSeconds).toBeGreaterThanOrEqual(0)
    expect(report.dispatchSeconds).toBeLessThan(1)

    // every run is a pipeline at its priority, every node an operator taking what its execution took
    const ex = (
      await db.query(
        `SELECT job_id, task, started_at, finished_at FROM ${queueSchema}.tarn_executions WHERE outcome = 'done'`,
      )
    ).rows as { job_id: string; task: string; started_at: Date; finished_at: Date }[]
    const landings = new Map(
      (
        (await db.query(`SELECT job_id, land_started_at, finished_at FROM ${queueSchema}.tarn_runs`))
          .rows as {
          job_id: string
          land_started_at: Date
          finished_at: Date
        }[]
      ).map((r) => [r.job_id, r]),
    )
    expect(report.trace.pipelines.map((p) => p.id).sort()).toEqual(runs.map((r) => r.id).sort())
    for (const p of report.trace.pipelines) {
      expect(p.priority).toBe(runs.find((r) => r.id === p.id)?.priority)
      const model = `r${runs.findIndex((r) => r.id === p.id)}_out`
      // the model's node, then the run's landing (from when a worker took it until the run was recorded as landed)
      expect(p.operators.map((o) => o.name)).toEqual([model, '(landing)'])
      const e = ex.find((x) => x.job_id === p.id && x.task === model)
      if (e === undefined) throw new Error(`no execution of ${model}`)
      const seconds = (e.finished_at.getTime() - e.started_at.getTime()) / 1000
      // each operator is its measured time plus the workers' dispatch overhead
      const dispatch = report.dispatchSeconds
      expect((p.operators[0]?.baselineCpuSeconds ?? 0) - dispatch).toBeCloseTo(seconds, 3)
      expect(seconds).toBeGreaterThan(0.25)
      const l = landings.get(p.id)
      if (l === undefined) throw new Error(`no run row of ${p.id}`)
      expect(l.land_started_at.getTime()).toBeGreaterThanOrEqual(e.finished_at.getTime())
      const land = (l.finished_at.getTime() - l.land_started_at.getTime()) / 1000
      expect((p.operators[1]?.baselineCpuSeconds ?? 0) - dispatch).toBeCloseTo(land, 3)
      expect(p.operators[1]?.parents).toEqual([0])
    }

    const interactive = new Set(runs.filter((r) => r.priority === 'interactive').map((r) => r.id))
    expect(report.real.completionOrder).toHaveLength(8)
    expect(report.simulated.completionOrder).toHaveLength(8)
    // interactive runs went first where the two workers were short: they complete earlier on average, really and
    // in the simulation
    const meanRank = (order: readonly string[], inSet: boolean): number => {
      const ranks = order.map((id, i) => [id, i] as const).filter(([id]) => interactive.has(id) === inSet)
      return ranks.reduce((s, [, i]) => s + i, 0) / ranks.length
    }
    for (const order of [report.real.completionOrder, report.simulated.completionOrder])
      expect(meanRank(order, true)).toBeLessThan(meanRank(order, false))
    const d = report.differences
    console.info(
      `[from-jobs] rank correlation ${d.rankCorrelation.toFixed(3)}, max displacement ${d.maxRankDisplacement}, utilisation real ${report.real.utilisation.toFixed(3)} simulated ${report.simulated.utilisation.toFixed(3)}`,
    )
    expect(d.unfinished).toEqual([])
    expect(d.rankCorrelation).toBeGreaterThanOrEqual(TOLERANCE.rankCorrelation)
    expect(d.maxRankDisplacement).toBeLessThanOrEqual(TOLERANCE.maxRankDisplacement)
    expect(Math.abs(d.utilisationDelta)).toBeLessThanOrEqual(TOLERANCE.utilisationDelta)
    expect(report.real.utilisation).toBeGreaterThan(0)
    expect(report.real.utilisation).toBeLessThanOrEqual(1)

    // the text form shows both sides; --since in the future finds no run; a bad --since is a usage error
    const text = await tarnCli({ ...env, TARN_HOME: home }, [
      'sim',
      'run',
      '--from-jobs',
      '--policy',
      'naive',
    ])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toContain('with policy naive on 2 worker(s)')
    expect(text.stdout).toMatch(/utilisation {3}real [\d.]+%, simulated [\d.]+%/)
    const none = await tarnCli({ ...env, TARN_HOME: home }, [
      'sim',
      'run',
      '--from-jobs',
      '--since',
      '2999-01-01',
      '--json',
    ])
    expect(none.code).toBe(3)
    expect(JSON.parse(none.stdout).error.code).toBe('JOB_NOT_FOUND')
    const bad = await tarnCli({ ...env, TARN_HOME: home }, [
      'sim',
      'run',
      '--from-jobs',
      '--since',
      'yesterday',
    ])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--since expects')
  }, 240_000)
})

describe('tarn sim run --from-jobs on a lake whose runs ran locally', () => {
  it('replays local runs from their job records and refuses options that make no sense with it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tarn-from-local-'))
    const home = join(root, 'home')
    // a local lake (SQLite catalog, warehouse under its home): the other suite's settings were restored
    const env = { TARN_HOME: home }
    const lake = await Lake.init({ home, env: { ...process.env, ...env } })
    try {
      const empty = await tarnCli(env, ['sim', 'run', '--from-jobs', '--json'])
      expect(empty.code).toBe(3)
      expect(JSON.parse(empty.stdout).error.code).toBe('JOB_NOT_FOUND')
      writeFileSync(join(root, 'nums.csv'), 'id\n1\n2\n3\n')
      await lake.createTable('nums', { from: [join(root, 'nums.csv')] })
      const dir = join(root, 'p')
      mkdirSync(dir)
      writeFileSync(join(dir, 'tarn_project.yml'), 'name: p\nnamespace: tarn\n')
      writeFileSync(join(dir, 'doubled.sql'), 'SELECT id * 2 AS id FROM nums\n')
      const ran = await lake.run({ dir })
      const out = await tarnCli(env, ['sim', 'run', '--from-jobs', '--json'])
      expect(out.code, out.stderr).toBe(0)
      const report = JSON.parse(out.stdout) as ReplayReport
      expect(report.source).toBe('local')
      expect(report.trace.pipelines.map((p) => [p.id, p.priority])).toEqual([[ran.job.id, 'interactive']])
      const names = report.trace.pipelines[0]?.operators.map((o) => o.name) ?? []
      expect(names).toContain('model:doubled')
      expect(names.at(-1)).toBe('(landing)')
      expect(report.simulated.completionOrder).toEqual([ran.job.id])
      const bad = await tarnCli(env, ['sim', 'run', '--from-jobs', '--trace', 't.csv'])
      expect(bad.code).toBe(2)
      expect(bad.stderr).toContain('--trace does not go with --from-jobs')
    } finally {
      await lake.close()
    }
  }, 120_000)
})
