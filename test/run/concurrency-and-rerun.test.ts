import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Lake } from '../../src/lake/lake.js'
import { rerunJob } from '../../src/pipeline/run/rerun.js'
import { runPipeline } from '../../src/pipeline/run/run-pipeline.js'
import { ensureBuilt } from '../helpers/build.js'
import { uvAvailable } from '../helpers/uv.js'
import { sortedRows, TAXI, taxiData, taxiLake, writeProject } from './helpers.js'

const PROJECT = 'name: t\nnamespace: tarn\n'
/** The taxi example has a Python model: its runs need uv. */
const withUv = uvAvailable('runs of the taxi example (it has a Python model)')

function sqlProject(files: Record<string, string>): string {
  return writeProject({ 'tarn_project.yml': PROJECT, ...files })
}

describe('concurrent runs, reruns and --strict', () => {
  let data: string
  beforeAll(() => {
    ensureBuilt()
    data = taxiData(2000)
  })

  it('two runs started concurrently on one branch that write different tables both land', async () => {
    const { lake, home } = await taxiLake(data)
    const a = sqlProject({
      'zone_count.sql': '-- tarn: materialize=REPLACE\nSELECT count(*) AS n FROM zones\n',
    })
    const b = sqlProject({
      'trip_count.sql': '-- tarn: materialize=REPLACE\nSELECT count(*) AS n FROM trips\n',
    })
    const other = await Lake.open({ home })
    const [ra, rb] = await Promise.all([runPipeline(lake, { dir: a }), runPipeline(other, { dir: b })])
    expect(ra.job.dataCommit).toBe(rb.job.dataCommit)
    expect(ra.job.status).toBe('succeeded')
    expect(rb.job.status).toBe('succeeded')
    const tables = (await lake.listTables({ ref: 'main' })).map((t) => t.table)
    expect(tables).toContain('tarn.zone_count')
    expect(tables).toContain('tarn.trip_count')
    await other.close()
    await lake.close()
  })

  it('two concurrent runs that replace the same table give one success and one MERGE_CONFLICT; main holds exactly one', async () => {
    const { lake, home } = await taxiLake(data)
    const other = await Lake.open({ home })
    // first while the table does not exist yet (both create it), then while it does (both overwrite it)
    for (const round of ['created', 'overwritten']) {
      const a = sqlProject({ 'answer.sql': "-- tarn: materialize=REPLACE\nSELECT 'a' AS who FROM zones\n" })
      const b = sqlProject({ 'answer.sql': "-- tarn: materialize=REPLACE\nSELECT 'b' AS who FROM zones\n" })
      const results = await Promise.allSettled([
        runPipeline(lake, { dir: a }),
        runPipeline(other, { dir: b }),
      ])
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      expect(failed, round).toHaveLength(1)
      expect(failed[0]?.reason.code, round).toBe('MERGE_CONFLICT')
      const who = new Set((await sortedRows(lake, 'answer', 'main')).map((r) => JSON.parse(r).who))
      const winner = results[0]?.status === 'fulfilled' ? 'a' : 'b'
      expect([...who], round).toEqual([winner])
      expect((await sortedRows(lake, 'answer', 'main')).length).toBe(10)
      const loser = failed[0]?.reason.context.runBranch as string
      expect((await lake.getBranch(loser)).sealed).toBe(true)
    }
    await other.close()
    await lake.close()
  })

  it.runIf(withUv)(
    'tarn rerun after main has moved on reproduces the original output tables row for row',
    async () => {
      const { lake } = await taxiLake(data)
      const first = await runPipeline(lake, { dir: TAXI, params: { min_fare: '3' } })
      // every language's output is reproduced, the Python model's too
      expect(Object.keys(first.job.tables)).toContain('tarn.fare_bands')
      const original: Record<string, string[]> = {}
      for (const t of Object.keys(first.job.tables)) {
        original[t] = await sortedRows(lake, t, `@${first.job.mergeCommit}`)
      }
      // main moves on: more trips arrive
      await lake.importTable('trips', { from: join(data, 'trips.parquet'), force: true })
      const moved = await lake.getTable('trips', { ref: 'main' })
      expect(moved.recordCount).toBe(4000)
      const again = await rerunJob(lake, first.job.id)
      expect(again.job.rerunOf).toBe(first.job.id)
      expect(again.job.dataCommit).toBe(first.job.dataCommit)
      expect(again.job.codeHash).toBe(first.job.codeHash)
      expect(again.job.params).toEqual(first.job.params)
      for (const t of Object.keys(first.job.tables)) {
        expect(await sortedRows(lake, t, 'main'), t).toEqual(original[t])
      }
      // the new trips are still there: the rerun only wrote its own tables
      expect((await lake.getTable('trips', { ref: 'main' })).recordCount).toBe(4000)
      // -r reads another ref: the doubled trips
      const onMain = await rerunJob(lake, first.job.id, { ref: 'main' })
      expect(onMain.job.tables['tarn.trips_clean']).toBe(2 * (first.job.tables['tarn.trips_clean'] as number))
      await lake.close()
    },
  )

  it('--strict turns a warning (a model returning columns its table does not have) into a failure', async () => {
    const { lake } = await taxiLake(data)
    const v1 = sqlProject({ 'events.sql': '-- tarn: materialize=APPEND\nSELECT zone_id FROM zones\n' })
    await runPipeline(lake, { dir: v1 })
    const v2 = sqlProject({
      'events.sql': "-- tarn: materialize=APPEND\nSELECT zone_id, 'x' AS extra FROM zones\n",
    })
    const warned = await runPipeline(lake, { dir: v2 })
    expect(warned.job.warnings.join('\n')).toContain('columns that tarn.events does not have: extra')
    expect((await lake.getTable('events', { ref: 'main' })).recordCount).toBe(20)
    const before = (await lake.getBranch('main')).head
    const err = await runPipeline(lake, { dir: v2, strict: true }).catch((e: Error & { code: string }) => e)
    expect((err as Error & { code: string }).code).toBe('RUN_FAILED')
    expect((err as Error).message).toContain('extra')
    expect((await lake.getBranch('main')).head).toBe(before)
    await lake.close()
  })
})
