import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Lake } from '../../src/index.js'
import { exitCodeFor } from '../../src/util/errors.js'
import { ensureBuilt } from '../helpers/build.js'
import { errorOf } from '../helpers/errors.js'
import { writeProject } from '../run/helpers.js'

describe('table writes', () => {
  let dir: string
  let lake: Lake

  beforeAll(() => ensureBuilt())
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tarn-writes-'))
    lake = await Lake.init({ home: join(dir, 'lake'), author: 'tester' })
    writeFileSync(join(dir, 'a.csv'), 'id,region,ts\n1,7,2026-01-01 10:00:00\n2,8,2026-01-02 11:00:00\n')
    writeFileSync(join(dir, 'b.csv'), 'id,region,ts\n3,9,2026-01-03 10:00:00\n')
  })
  afterEach(async () => {
    await lake.close()
  })

  it('refuses day() over an integer column naming column, type and transform, exit 2, and writes nothing', async () => {
    const head = (await lake.getBranch('main')).head
    const e = await errorOf(
      lake.createTable('zones', { from: join(dir, 'a.csv'), partitionedBy: 'day(region)' }),
    )
    expect(e.code).toBe('INVALID_ARGUMENT')
    expect(exitCodeFor(e.code)).toBe(2)
    expect(e.context).toMatchObject({ column: 'region', type: 'long', transform: 'day' })
    expect(e.message).toMatch(/day\(region\).*region is long/)
    expect((await lake.getBranch('main')).head).toBe(head)
    const warehouse = join(dir, 'lake', 'warehouse', 'tarn')
    expect(existsSync(warehouse) ? readdirSync(warehouse) : []).toEqual([])
  })

  it('accepts the transforms the spec allows for each type', async () => {
    const r = await lake.createTable('zones', {
      from: join(dir, 'a.csv'),
      partitionedBy: 'hour(ts), bucket[4](region), truncate[2](id)',
    })
    expect(r.addedRecords).toBe(2)
    const e = await errorOf(
      lake.createTable('zones_h', { from: join(dir, 'a.csv'), partitionedBy: 'truncate[2](ts)' }),
    )
    expect(e.context).toMatchObject({ column: 'ts', type: 'timestamp', transform: 'truncate[2]' })
  })

  it('keeps import fingerprints of an import --replace so the same file is refused afterwards', async () => {
    await lake.createTable('orders', { from: join(dir, 'a.csv') })
    const r = await lake.importTable('orders', { from: join(dir, 'b.csv'), replace: true })
    expect(r.addedRecords).toBe(1)
    const snaps = (await lake.getTable('orders')).snapshots
    expect(snaps.at(-1)?.summary['tarn.import-fingerprints']).toMatch(/^[0-9a-f]{64}$/)
    const e = await errorOf(lake.importTable('orders', { from: join(dir, 'b.csv') }))
    expect(e.code).toBe('ALREADY_IMPORTED')
  })

  it("refuses a model's partitionedBy transform that its column type does not accept, leaving main untouched", async () => {
    await lake.createTable('zones', { from: join(dir, 'a.csv') })
    const head = (await lake.getBranch('main')).head
    const project = writeProject({
      'tarn_project.yml': 'name: parts\nnamespace: tarn\n',
      'by_day.sql':
        '-- tarn: materialize=REPLACE\n-- tarn: partitionedBy=day(region)\nSELECT id, region FROM zones\n',
    })
    const e = await errorOf(lake.run({ dir: project }))
    expect(e.message).toContain('day(region)')
    expect(e.message).toContain('region is long')
    expect((await lake.getBranch('main')).head).toBe(head)
    expect((await lake.listTables()).map((t) => t.table)).toEqual(['tarn.zones'])
  })
})
