import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadTable } from '../../src/iceberg/table-loader.js'
import { snapshotById } from '../../src/iceberg/table-metadata.js'
import type { CommitResult } from '../../src/iceberg/writer/snapshot-producer.js'
import {
  appendRows,
  createTable,
  deleteWhere,
  overwritePartitions,
  overwriteRows,
  overwriteWhere,
} from '../../src/iceberg/writer/table-writer.js'
import type { LocalObjectStore } from '../../src/storage/local.js'
import { fixedClock } from '../../src/util/clock.js'
import { seededRandom } from '../../src/util/random.js'
import { tempStore } from './helpers.js'

let store: LocalObjectStore
let cleanup: () => Promise<void>
const deps = { clock: fixedClock(Date.parse('2026-01-01T00:00:00Z'), 1000), random: seededRandom(11) }
beforeAll(async () => {
  ;({ store, cleanup } = await tempStore())
})
afterAll(async () => cleanup())

const ROWS = `SELECT range::INTEGER AS id, CASE WHEN range < 3 THEN 'EU' ELSE 'US' END AS region FROM range(6)`
const summary = (mode: string) => ({ 'tarn.job_id': `job-${mode}`, 'tarn.import-fingerprints': `fp-${mode}` })

async function written(result: CommitResult): Promise<Record<string, string>> {
  const table = await loadTable(store, result.metadataLocation)
  return { ...snapshotById(table.metadata)?.summary }
}

async function fresh(name: string) {
  const created = await createTable(
    store,
    { tableKey: `w/tarn/${name}`, source: ROWS, partitionBy: [{ column: 'region', transform: 'identity' }] },
    deps,
  )
  return loadTable(store, created.metadataLocation)
}

describe('snapshot summaries of every write mode', () => {
  it('keeps the caller summary on create', async () => {
    const r = await createTable(
      store,
      { tableKey: 'w/tarn/s_create', source: ROWS, summary: summary('c') },
      deps,
    )
    expect(await written(r)).toMatchObject({ operation: 'append', ...summary('c') })
  })

  it('keeps the caller summary on append', async () => {
    const r = await appendRows(await fresh('s_append'), ROWS, deps, { summary: summary('a') })
    expect(await written(r)).toMatchObject({ operation: 'append', ...summary('a') })
  })

  it('keeps the caller summary on replace (overwrite of all rows)', async () => {
    const r = await overwriteRows(await fresh('s_replace'), ROWS, deps, { summary: summary('r') })
    expect(await written(r)).toMatchObject({
      operation: 'overwrite',
      'deleted-records': '6',
      ...summary('r'),
    })
  })

  it('keeps the caller summary and replace-partitions on a dynamic partition overwrite', async () => {
    const r = await overwritePartitions(await fresh('s_parts'), `SELECT 9 AS id, 'EU' AS region`, deps, {
      summary: summary('p'),
    })
    expect(await written(r)).toMatchObject({
      operation: 'overwrite',
      'replace-partitions': 'true',
      'deleted-records': '3',
      ...summary('p'),
    })
  })

  it('keeps the caller summary on a delete', async () => {
    const r = await deleteWhere(await fresh('s_delete'), { op: 'eq', column: 'region', value: 'EU' }, deps, {
      summary: summary('d'),
    })
    expect(await written(r)).toMatchObject({ operation: 'delete', ...summary('d') })
  })

  it('keeps the caller summary on an overwrite by filter', async () => {
    const r = await overwriteWhere(
      await fresh('s_where'),
      { op: 'eq', column: 'region', value: 'US' },
      `SELECT 7 AS id, 'US' AS region`,
      deps,
      { summary: summary('w') },
    )
    expect(await written(r)).toMatchObject({ operation: 'overwrite', ...summary('w') })
  })
})
