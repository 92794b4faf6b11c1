import { beforeAll, describe, expect, it } from 'vitest'
import { runPipeline } from '../../src/pipeline/run/run-pipeline.js'
import { ensureBuilt } from '../helpers/build.js'
import { sortedRows, TAXI, taxiData, taxiLake, writeProject } from './helpers.js'

const PROJECT = 'name: t\nnamespace: tarn\n'

describe('materialisations', () => {
  let data: string
  beforeAll(() => {
    ensureBuilt()
    data = taxiData(2000)
  })

  it('OVERWRITE_PARTITIONS replaces the partition of its run and keeps the others', async () => {
    const { lake } = await taxiLake(data)
    const day = async (d: string) => {
      const { job } = await runPipeline(lake, {
        dir: TAXI,
        select: ['+daily_trips'],
        params: { run_date: d },
      })
      return job.tables['tarn.daily_trips'] as number
    }
    const a = await day('2026-01-30')
    const b = await day('2026-01-31')
    expect(a).toBeGreaterThan(0)
    expect(b).toBeGreaterThan(0)
    expect((await lake.getTable('daily_trips', { ref: 'main' })).recordCount).toBe(a + b)
    await day('2026-01-31')
    expect((await lake.getTable('daily_trips', { ref: 'main' })).recordCount).toBe(a + b)
    const days = new Set(
      (await sortedRows(lake, 'daily_trips', 'main')).map((r) =>
        String(JSON.parse(r).pickup_ts).slice(0, 10),
      ),
    )
    expect([...days].sort()).toEqual(['2026-01-30', '2026-01-31'])
    await lake.close()
  })

  it('a materialisation writes its files while the one before it in plan order is still to commit, and commits after it', async () => {
    const { lake } = await taxiLake(data)
    const dir = writeProject({
      'tarn_project.yml': PROJECT,
      'east.sql': '-- tarn: materialize=REPLACE\nSELECT zone_id FROM zones WHERE zone_id % 2 = 0\n',
      'west.sql': '-- tarn: materialize=REPLACE\nSELECT zone_id FROM zones WHERE zone_id % 2 = 1\n',
    })
    let runBranch = ''
    let held: { first: string; otherFiles: boolean; otherCommitted: boolean } | undefined
    const metadataFilesOf = async (table: string): Promise<number> => {
      let n = 0
      for await (const o of lake.store.list(`tarn/${table}-`)) if (o.key.endsWith('.metadata.json')) n++
      return n
    }
    const { job } = await runPipeline(lake, {
      dir,
      observer: {
        planned: (_plan, j) => {
          runBranch = j.runBranch
        },
        node: async (n) => {
          if (n.kind !== 'materialize' || n.status !== 'running' || held !== undefined) return
          // the first write in plan order is held at its start: the other model's files still get written
          const other = n.name === 'east' ? 'west' : 'east'
          held = { first: n.name, otherFiles: false, otherCommitted: false }
          for (let i = 0; i < 1500 && (await metadataFilesOf(other)) === 0; i++)
            await new Promise((r) => setTimeout(r, 20))
          held.otherFiles = (await metadataFilesOf(other)) > 0
          held.otherCommitted = (await lake.listTables({ ref: runBranch })).some((t) => t.name === other)
        },
      },
    })
    expect(held?.otherFiles).toBe(true)
    expect(held?.otherCommitted).toBe(false)
    expect(job.status).toBe('succeeded')
    expect((await lake.getTable('east', { ref: 'main' })).recordCount).toBeGreaterThan(0)
    expect((await lake.getTable('west', { ref: 'main' })).recordCount).toBeGreaterThan(0)
    await lake.close()
  })

  it('APPEND adds rows, REPLACE replaces them (a new schema allowed), with partitionedBy transforms', async () => {
    const { lake } = await taxiLake(data)
    const dir = writeProject({
      'tarn_project.yml': PROJECT,
      'seen.sql':
        '-- tarn: materialize=APPEND\n-- tarn: partitionedBy=bucket[4](zone_id)\nSELECT zone_id, zone_name FROM zones\n',
      'monthly.sql':
        '-- tarn: materialize=REPLACE\n-- tarn: partitionedBy=month(pickup_ts), pickup_zone\nSELECT trip_id, pickup_ts, pickup_zone FROM trips\n',
    })
    await runPipeline(lake, { dir })
    await runPipeline(lake, { dir })
    expect((await lake.getTable('seen', { ref: 'main' })).recordCount).toBe(20)
    expect((await lake.getTable('seen', { ref: 'main' })).partitionSpec).toEqual([
      { name: 'zone_id_bucket', transform: 'bucket[4]', sourceColumn: 'zone_id' },
    ])
    const monthly = await lake.getTable('monthly', { ref: 'main' })
    expect(monthly.recordCount).toBe(2000)
    // the same shape twice: the second REPLACE overwrites the same Iceberg table, keeping its history
    expect(monthly.snapshots.map((s) => s.operation)).toEqual(['append', 'overwrite'])
    expect(monthly.partitionSpec.map((p) => p.transform)).toEqual(['month', 'identity'])
    const v2 = writeProject({
      'tarn_project.yml': PROJECT,
      'monthly.sql':
        '-- tarn: materialize=REPLACE\nSELECT pickup_zone, count(*) AS trips FROM trips GROUP BY 1\n',
    })
    await runPipeline(lake, { dir: v2 })
    const replaced = await lake.getTable('monthly', { ref: 'main' })
    expect(replaced.schema.map((f) => f.name)).toEqual(['pickup_zone', 'trips'])
    expect(replaced.recordCount).toBe(10)
    await lake.close()
  })

  it('a TS model can return its Arrow input unchanged: types survive the round trip into the table', async () => {
    const { lake } = await taxiLake(data)
    const dir = writeProject({
      'tarn_project.yml': PROJECT,
      'copy.ts': [
        "import { input, model } from 'tarn'",
        'export const trips_copy = model(',
        "  { inputs: { trips: input('trips', { columns: ['trip_id', 'pickup_ts', 'fare'], filter: 'fare > 20' }) }, materialize: 'REPLACE' },",
        '  async ({ trips }) => trips,',
        ')',
        '',
      ].join('\n'),
    })
    const { job } = await runPipeline(lake, { dir })
    const t = await lake.getTable('trips_copy', { ref: 'main' })
    const src = await lake.getTable('trips', { ref: 'main' })
    expect(t.schema.map((f) => [f.name, f.type])).toEqual(
      ['trip_id', 'pickup_ts', 'fare'].map((n) => [n, src.schema.find((f) => f.name === n)?.type]),
    )
    expect(t.recordCount).toBe(job.tables['tarn.trips_copy'])
    const rows = (await sortedRows(lake, 'trips_copy', 'main')).map((r) => JSON.parse(r) as { fare: number })
    expect(rows.every((r) => r.fare > 20)).toBe(true)
    await lake.close()
  })
})
