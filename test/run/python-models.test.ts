import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Lake } from '../../src/lake/lake.js'
import { getJob, getJobLog } from '../../src/pipeline/run/job-store.js'
import { errorOf as rejection } from '../helpers/errors.js'
import { uvAvailable } from '../helpers/uv.js'
import { taxiData, taxiLake, writeProject } from './helpers.js'

const PROJECT = 'name: py\nnamespace: tarn\n'

const STATS_PY = `import tarn
import polars_is_not_installed_here_but_planning_never_imports


@tarn.model(materialize="REPLACE")
def zone_fares(trips=tarn.Model("trips_clean", columns=["pickup_zone", "fare"], filter="fare > 10")):
    import pyarrow.compute as pc
    return trips.group_by("pickup_zone").aggregate([("fare", "mean"), ("fare", "count")])
`

describe.runIf(uvAvailable('Python model runs'))('Python models in a run', () => {
  let lake: Lake
  let data: string
  beforeAll(async () => {
    data = taxiData(3000)
    ;({ lake } = await taxiLake(data))
  }, 300_000)
  afterAll(async () => {
    await lake.close()
  })

  it('runs SQL, then Python, then SQL as one transaction and lands the result on main', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT,
      'trips_clean.sql': 'SELECT pickup_zone, fare FROM trips WHERE fare IS NOT NULL',
      // a file whose import would fail: planning reads it, the run's environment never imports that line
      'stats.py': STATS_PY.replace('import polars_is_not_installed_here_but_planning_never_imports\n', ''),
      'top_zones.sql':
        '-- tarn: materialize=REPLACE\nSELECT pickup_zone, fare_count FROM zone_fares ORDER BY fare_count DESC LIMIT 3',
    })
    const { job } = await lake.run({ dir, branch: 'main' })
    expect(job.status).toBe('succeeded')
    const expected = await lake.query(
      'SELECT count(DISTINCT pickup_zone) AS n FROM trips WHERE fare IS NOT NULL AND fare > 10',
    )
    const got = await lake.query('SELECT count(*) AS n, sum(fare_count) AS c FROM zone_fares')
    expect(Number(got.table.get(0)?.n)).toBe(Number(expected.table.get(0)?.n))
    const sql = await lake.query(
      'SELECT sum(fare_count) AS c FROM (SELECT fare_count FROM zone_fares ORDER BY fare_count DESC LIMIT 3)',
    )
    const top = await lake.query('SELECT sum(fare_count) AS c FROM top_zones')
    expect(Number(top.table.get(0)?.c)).toBe(Number(sql.table.get(0)?.c))
    expect(job.nodes.find((n) => n.id === 'model:zone_fares')?.status).toBe('done')
  }, 300_000)

  it('plans a Python file whose imports would fail, without running it', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT,
      'trips_clean.sql': 'SELECT pickup_zone, fare FROM trips',
      'stats.py': STATS_PY,
    })
    const planned = await lake.plan({ dir })
    expect(planned.physical.steps.map((s) => s.id)).toContain('model:zone_fares')
    const step = planned.physical.steps.find((s) => s.id === 'model:zone_fares')
    expect(step?.language).toBe('py')
  })

  it('fails the run on a raise, keeps main, seals the run branch and logs the user line', async () => {
    const before = (await lake.getBranch('main')).head
    const dir = writeProject({
      'tarn_project.yml': PROJECT,
      'boom.py': [
        'import tarn',
        '',
        '',
        '@tarn.model(materialize="REPLACE")',
        'def boom(zones=tarn.Model("zones")):',
        '    print("about to fail")',
        '    raise ValueError("no zone is good enough")',
        '',
      ].join('\n'),
    })
    const err = await rejection(lake.run({ dir, branch: 'main' }))
    expect(err.code).toBe('RUN_FAILED')
    expect(err.message).toContain('boom.py:7')
    expect(err.message).toContain('ValueError: no zone is good enough')
    expect((await lake.getBranch('main')).head).toBe(before)
    const runBranch = err.context.runBranch as string
    expect((await lake.getBranch(runBranch)).sealed).toBe(true)
    const job = await getJob(lake.store, err.context.job as string)
    expect(job.status).toBe('failed')
    const log = await getJobLog(lake.store, job.id)
    expect(log).toContain('about to fail')
    expect(log).toContain('boom.py')
  }, 300_000)

  it('fails the run when a Python model passes its memory limit or its time limit', async () => {
    const before = (await lake.getBranch('main')).head
    const dir = writeProject({
      'tarn_project.yml': PROJECT,
      'limits.py': [
        'import tarn',
        '',
        '',
        '@tarn.model(memory="200MB")',
        'def hog(zones=tarn.Model("zones")):',
        '    b = bytearray(1024 ** 3)',
        '    b[::4096] = b"x" * len(b[::4096])',
        '    return zones',
        '',
        '',
        '@tarn.model(timeout="2s")',
        'def slow(zones=tarn.Model("zones")):',
        '    import time',
        '    time.sleep(60)',
        '    return zones',
        '',
      ].join('\n'),
    })
    const hog = await rejection(lake.run({ dir, branch: 'main', select: ['hog'] }))
    expect(hog.message).toMatch(/model hog failed at limits\.py:5: out of memory \(limit 200MB\)/)
    const slow = await rejection(lake.run({ dir, branch: 'main', select: ['slow'] }))
    expect(slow.message).toMatch(/model slow failed at limits\.py:12: timed out/)
    expect((await lake.getBranch('main')).head).toBe(before)
  }, 300_000)

  it('gives two models of one run pinning different polars versions each their own version', async () => {
    const model = (name: string, pin: string): string =>
      [
        '',
        '',
        `@tarn.model(materialize="REPLACE")`,
        `@tarn.python(pip={"polars": "${pin}"})`,
        `def ${name}(zones=tarn.Model("zones", columns=["zone_id"])):`,
        '    import polars as pl',
        '    return pl.from_arrow(zones).head(1).with_columns(pl.lit(pl.__version__).alias("polars"))',
      ].join('\n')
    const dir = writeProject({
      'tarn_project.yml': PROJECT,
      'versions.py': `import tarn\n${model('old_polars', '1.32.*')}\n${model('new_polars', '1.44.*')}\n`,
    })
    const { job } = await lake.run({ dir, branch: 'main' })
    expect(job.status).toBe('succeeded')
    const old = await lake.query('SELECT polars FROM old_polars')
    const fresh = await lake.query('SELECT polars FROM new_polars')
    expect(String(old.table.get(0)?.polars)).toMatch(/^1\.32\./)
    expect(String(fresh.table.get(0)?.polars)).toMatch(/^1\.44\./)
  }, 600_000)

  it('pushes the columns and filter a Python model declares into the scan: the job record shows the files kept', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT,
      'one_day.py': [
        'import tarn',
        '',
        '',
        '@tarn.model(materialize="REPLACE")',
        'def one_day(trips=tarn.Model("trips", columns=["pickup_ts", "fare"],',
        "            filter=\"pickup_ts >= TIMESTAMP '2026-01-05' AND pickup_ts < TIMESTAMP '2026-01-06'\")):",
        '    return trips',
        '',
      ].join('\n'),
    })
    const { job } = await lake.run({ dir, branch: 'main' })
    const scan = job.nodes.find((n) => n.id === 'scan:tarn.trips')?.scan
    expect(scan?.filesKept).toBe(1)
    expect(scan?.filesTotal).toBeGreaterThan(20)
    expect(scan?.columns?.map((c) => c.toLowerCase()).sort()).toEqual(['fare', 'pickup_ts'])
    const days = await lake.query('SELECT count(DISTINCT pickup_ts::DATE) AS d FROM one_day')
    expect(Number(days.table.get(0)?.d)).toBe(1)
  }, 300_000)

  it('reports a failing Python expectation with the failing row count and a sample', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT,
      'checks.py': [
        'import tarn',
        '',
        '',
        '@tarn.expectation()',
        'def fares_are_small(trips=tarn.Model("trips", columns=["fare"])):',
        '    return tarn.expect.column_between(trips, "fare", high=5)',
        '',
      ].join('\n'),
    })
    const err = await rejection(lake.run({ dir, branch: 'main' }))
    expect(err.code).toBe('EXPECTATION_FAILED')
    expect(err.message).toMatch(
      /expectation fares_are_small failed at checks\.py:5: \d+ failing rows, e\.g\. \{"fare":/,
    )
  }, 300_000)
})
