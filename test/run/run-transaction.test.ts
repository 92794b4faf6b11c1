import { beforeAll, describe, expect, it } from 'vitest'
import { getJob, getJobLog } from '../../src/pipeline/run/job-store.js'
import { runPipeline } from '../../src/pipeline/run/run-pipeline.js'
import { ensureBuilt } from '../helpers/build.js'
import { uvAvailable } from '../helpers/uv.js'
import { TAXI, taxiData, taxiLake, writeProject } from './helpers.js'

async function rejection(
  p: Promise<unknown>,
): Promise<Error & { code: string; context: Record<string, unknown> }> {
  try {
    await p
  } catch (e) {
    return e as Error & { code: string; context: Record<string, unknown> }
  }
  throw new Error('expected a rejection')
}

const PROJECT = 'name: t\nnamespace: tarn\n'
/** The taxi example has a Python model: its runs need uv. */
const withUv = uvAvailable('runs of the taxi example (it has a Python model)')

describe('a pipeline run is a transaction on a run branch', () => {
  let data: string
  beforeAll(() => {
    ensureBuilt()
    data = taxiData(2000)
  })

  it.runIf(withUv)(
    'runs the taxi example end to end (SQL -> Python -> TS -> SQL): every table lands on main with one commit per model carrying tarn.job_id',
    async () => {
      const { lake } = await taxiLake(data)
      const before = (await lake.getBranch('main')).head
      const { job } = await runPipeline(lake, { dir: TAXI })
      expect(job.status).toBe('succeeded')
      expect(job.dataCommit).toBe(before)
      const tables = (await lake.listTables({ ref: 'main' })).map((t) => t.table).sort()
      expect(tables).toEqual([
        'tarn.borough_summary',
        'tarn.daily_trips',
        'tarn.fare_bands',
        'tarn.trips',
        'tarn.trips_clean',
        'tarn.zone_stats',
        'tarn.zones',
        'tarn.zones_enriched',
      ])
      expect((await lake.getTable('zone_stats', { ref: 'main' })).recordCount).toBe(10)
      expect((await lake.getTable('trips_clean', { ref: 'main' })).recordCount).toBe(
        job.tables['tarn.trips_clean'],
      )
      // the Python model's per-zone fare bands agree with the same statistics computed by DuckDB on trips_clean
      const py = await lake.query(
        'SELECT pickup_zone, trips, median_fare, fare_per_km FROM fare_bands ORDER BY 1',
      )
      const sql = await lake.query(
        'SELECT pickup_zone, count(*) AS trips, round(median(fare), 2) AS median_fare, ' +
          'round(sum(fare) / sum(distance_km), 2) AS fare_per_km FROM trips_clean WHERE distance_km >= 1 ' +
          'GROUP BY pickup_zone ORDER BY 1',
      )
      expect(py.table.numRows).toBe(10)
      expect(sql.table.numRows).toBe(10)
      for (let i = 0; i < 10; i++) {
        const [p, q] = [py.table.get(i), sql.table.get(i)]
        expect(Number(p?.pickup_zone)).toBe(Number(q?.pickup_zone))
        expect(Number(p?.trips)).toBe(Number(q?.trips))
        // both round to cents, each in its own way: they agree within a cent
        expect(Math.abs(Number(p?.median_fare) - Number(q?.median_fare))).toBeLessThan(0.0101)
        expect(Math.abs(Number(p?.fare_per_km) - Number(q?.fare_per_km))).toBeLessThan(0.0101)
      }
      // the TS model carries the Python model's columns, and the last SQL model sums the TS model's rows
      const enriched = await lake.query(
        'SELECT count(*) AS n, sum(pickups) AS pickups FROM zones_enriched WHERE median_fare IS NOT NULL',
      )
      expect(Number(enriched.table.get(0)?.n)).toBe(10)
      const boroughs = await lake.query(
        'SELECT sum(zones) AS zones, sum(pickups) AS pickups FROM borough_summary',
      )
      expect(Number(boroughs.table.get(0)?.zones)).toBe(10)
      expect(Number(boroughs.table.get(0)?.pickups)).toBe(Number(enriched.table.get(0)?.pickups))
      const log = await lake.log('main')
      const runCommits = log.filter((c) => c.properties['tarn.job_id'] === job.id)
      const models = runCommits
        .map((c) => c.properties['tarn.model'])
        .filter(Boolean)
        .sort()
      expect(models).toEqual([
        'borough_summary',
        'daily_trips',
        'fare_bands',
        'trips_clean',
        'zone_stats',
        'zones_enriched',
      ])
      expect(log.slice(0, runCommits.length).every((c) => c.properties['tarn.job_id'] === job.id)).toBe(true)
      // the daily table is partitioned by day
      expect((await lake.getTable('daily_trips', { ref: 'main' })).partitionSpec[0]?.transform).toBe('day')
      // the job record, the code snapshot and the log are in the warehouse
      const stored = await getJob(lake.store, job.id)
      expect(stored.status).toBe('succeeded')
      expect(stored.nodes.every((n) => n.status === 'done')).toBe(true)
      const logText = await getJobLog(lake.store, job.id)
      expect(logText).toMatch(
        /\[zones_enriched zones_enriched\.ts:24\] \d+ trips of at least 2\.5 in 10 zones/,
      )
      // a successful run leaves no run branch behind
      expect((await lake.listBranches()).map((b) => b.name)).toEqual(['main'])
      await lake.close()
    },
  )

  it.runIf(withUv)(
    'a run whose last expectation fails leaves main where it was; the run branch is readable, sealed against writes and merges',
    async () => {
      const { lake } = await taxiLake(data)
      const dir = writeProject(
        {
          'checks.ts': [
            "import { expectation, input } from 'tarn'",
            'export const fares_are_positive = expectation(',
            "  { inputs: { trips: input('trips_clean', { columns: ['fare'] }) } },",
            '  async ({ trips }) => trips.numRows > 0,',
            ')',
            'export const every_zone_has_a_name = expectation(',
            "  { inputs: { stats: input('zone_stats', { columns: ['zone_name'] }) } },",
            '  async () => false,',
            ')',
            '',
          ].join('\n'),
        },
        { taxi: true },
      )
      const before = (await lake.getBranch('main')).head
      const err = await rejection(runPipeline(lake, { dir }))
      expect(err.code).toBe('EXPECTATION_FAILED')
      expect(err.message).toContain('every_zone_has_a_name')
      expect(err.message).toContain('checks.ts:6')
      expect((await lake.getBranch('main')).head).toBe(before)
      const runBranch = err.context.runBranch as string
      expect(runBranch).toMatch(/^run\/job-[0-9a-f]{12}$/)
      const ref = await lake.getBranch(runBranch)
      expect(ref.sealed).toBe(true)
      expect((await lake.getTable('zone_stats', { ref: runBranch })).recordCount).toBe(10)
      expect((await rejection(lake.dropTable('zone_stats', { branch: runBranch }))).code).toBe(
        'BRANCH_SEALED',
      )
      expect((await rejection(lake.merge(runBranch, { into: 'main' }))).code).toBe('BRANCH_SEALED')
      expect((await lake.getBranch('main')).head).toBe(before)
      const job = await getJob(lake.store, err.context.job as string)
      expect(job.status).toBe('failed')
      expect(job.error?.code).toBe('EXPECTATION_FAILED')
      // the sealed branch is kept for debugging: deleting or renaming it needs force
      const refused = await rejection(lake.deleteBranch(runBranch))
      expect(refused.code).toBe('BRANCH_PROTECTED')
      expect(refused.message).toContain(`failed run ${job.id}`)
      expect((await rejection(lake.renameBranch(runBranch, 'kept'))).code).toBe('BRANCH_PROTECTED')
      expect((await lake.getBranch(runBranch)).head).toBe(ref.head)
      await lake.deleteBranch(runBranch, { force: true })
      expect((await lake.listBranches()).map((b) => b.name)).toEqual(['main'])
      await lake.close()
    },
  )

  it.runIf(withUv)(
    'the branch of a running run cannot be deleted until the run ends; forcing it fails the run and leaves main untouched',
    async () => {
      const { lake } = await taxiLake(data)
      const before = (await lake.getBranch('main')).head
      let runBranch = ''
      let forced: unknown
      const outcome = runPipeline(lake, {
        dir: TAXI,
        observer: {
          planned: (_plan, job) => {
            runBranch = job.runBranch
          },
          node: async (n) => {
            if (n.kind !== 'materialize' || n.status !== 'running' || forced !== undefined) return
            const refused = await rejection(lake.deleteBranch(runBranch))
            expect(refused.code).toBe('BRANCH_PROTECTED')
            expect(refused.message).toContain('is still running on it')
            forced = await lake.deleteBranch(runBranch, { force: true })
          },
        },
      })
      const err = await rejection(outcome)
      expect(forced).toBeDefined()
      expect(err.code).toBe('BRANCH_NOT_FOUND')
      expect((await lake.getBranch('main')).head).toBe(before)
      await lake.close()
    },
  )

  describe('a failing function fails its node with the model, file and line, and leaves main untouched', () => {
    const cases: [string, string, RegExp][] = [
      [
        'a model that throws',
        [
          "import { input, model } from 'tarn'",
          'export const boom = model(',
          "  { inputs: { zones: input('zones') }, materialize: 'REPLACE' },",
          '  async ({ zones }) => {',
          "    if (zones.numRows > 0) throw new Error('no zones wanted')",
          '    return zones',
          '  },',
          ')',
          '',
        ].join('\n'),
        /model boom failed at boom\.ts:5: no zones wanted/,
      ],
      [
        'a model that exceeds its memory limit',
        [
          "import { input, model } from 'tarn'",
          'export const boom = model(',
          "  { inputs: { zones: input('zones') }, materialize: 'REPLACE', memory: '64MB' },",
          '  async ({ zones }) => {',
          '    const hog: number[][] = []',
          '    for (;;) hog.push(new Array(100000).fill(zones.numRows))',
          '  },',
          ')',
          '',
        ].join('\n'),
        /model boom failed at boom\.ts:2: out of memory \(limit 64MB\)/,
      ],
      [
        'a model that fills off-heap buffers past its memory limit',
        [
          "import { input, model } from 'tarn'",
          'export const boom = model(',
          "  { inputs: { zones: input('zones') }, materialize: 'REPLACE', memory: '64MB' },",
          '  async ({ zones }) => {',
          '    const hog: Uint8Array[] = []',
          '    for (;;) {',
          '      hog.push(new Uint8Array(16 << 20).fill(zones.numRows))',
          '      await new Promise((r) => setTimeout(r, 5))',
          '    }',
          '  },',
          ')',
          '',
        ].join('\n'),
        /model boom failed at boom\.ts:2: out of memory \(limit 64MB\)/,
      ],
      [
        'a model that loops past its timeout',
        [
          "import { input, model } from 'tarn'",
          'export const boom = model(',
          "  { inputs: { zones: input('zones') }, materialize: 'REPLACE', timeout: '2s' },",
          '  async ({ zones }) => {',
          '    for (;;) if (zones.numRows < 0) break',
          '    return zones',
          '  },',
          ')',
          '',
        ].join('\n'),
        /model boom failed at boom\.ts:2: timed out after 2s \(killed\)/,
      ],
    ]
    for (const [name, code, message] of cases) {
      it(`${name} fails the run`, async () => {
        const { lake } = await taxiLake(data)
        const dir = writeProject({ 'tarn_project.yml': PROJECT, 'boom.ts': code })
        const before = (await lake.getBranch('main')).head
        const err = await rejection(runPipeline(lake, { dir }))
        expect(err.code).toBe('RUN_FAILED')
        expect(err.message).toMatch(message)
        expect(err.context.model).toBe('boom')
        expect(err.context.file).toBe('boom.ts')
        expect(typeof err.context.line).toBe('number')
        expect((await lake.getBranch('main')).head).toBe(before)
        expect((await lake.getBranch(err.context.runBranch as string)).sealed).toBe(true)
        await lake.close()
      }, 60_000)
    }
  })

  it('a SQL model that fails names its file and line', async () => {
    const { lake } = await taxiLake(data)
    const dir = writeProject({
      'tarn_project.yml': PROJECT,
      'bad.sql': "-- tarn: materialize=REPLACE\nSELECT zone_id / 0 AS x, error('bad row') AS y FROM zones\n",
    })
    const err = await rejection(runPipeline(lake, { dir }))
    expect(err.code).toBe('RUN_FAILED')
    expect(err.message).toMatch(/model bad failed at bad\.sql:\d+: .*bad row/)
    await lake.close()
  })

  it('user output is captured into the job log with model, file and line', async () => {
    const { lake } = await taxiLake(data)
    const dir = writeProject({
      'tarn_project.yml': PROJECT,
      'talk.ts': [
        "import { input, model } from 'tarn'",
        'export const talk = model(',
        "  { inputs: { zones: input('zones', { columns: ['zone_id'] }) } },",
        '  async ({ zones }, ctx) => {',
        "    console.log('hello from', zones.numRows, 'zones')",
        "    console.error('a warning')",
        "    ctx.log('params ' + JSON.stringify(ctx.params))",
        '    return [{ n: zones.numRows }]',
        '  },',
        ')',
        '',
      ].join('\n'),
    })
    const { job } = await runPipeline(lake, { dir })
    const text = await getJobLog(lake.store, job.id)
    expect(text).toContain('[talk talk.ts:5] hello from 10 zones')
    expect(text).toContain('[talk talk.ts:6] stderr: a warning')
    expect(text).toContain('[talk talk.ts:7] params {}')
    // NONE stays in memory: nothing lands on main
    expect((await lake.listTables({ ref: 'main' })).map((t) => t.table).sort()).toEqual([
      'tarn.trips',
      'tarn.zones',
    ])
    await lake.close()
  })
})
