import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  appendOnlyTableMerger,
  appendRows,
  createTable,
  type IcebergTableState,
  loadTable,
  overwriteRows,
  readTable,
} from '../../src/iceberg/index.js'
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

async function baseTable(key: string): Promise<IcebergTableState> {
  const r = await createTable(
    store,
    {
      tableKey: key,
      source: 'SELECT range::BIGINT AS id, range % 2 AS bucket FROM range(4)',
      partitionBy: [{ column: 'bucket', transform: 'identity' }],
    },
    deps,
  )
  return r.state
}

const ids = async (state: IcebergTableState): Promise<number[]> =>
  (await readTable(await loadTable(store, state.metadataLocation)))
    .map((r) => Number(r.id))
    .sort((a, b) => a - b)

describe('append-only table merge', () => {
  it('merges two sides that each appended, holding both sides rows exactly once', async () => {
    const base = await baseTable('w/tarn/m1')
    const ours = await appendRows(
      await loadTable(store, base.metadataLocation),
      'SELECT 10::BIGINT AS id, 0::BIGINT AS bucket',
      deps,
    )
    const ours2 = await appendRows(
      await loadTable(store, ours.metadataLocation),
      'SELECT 11::BIGINT AS id, 1::BIGINT AS bucket',
      deps,
    )
    const theirs = await appendRows(
      await loadTable(store, base.metadataLocation),
      'SELECT 20::BIGINT AS id, 1::BIGINT AS bucket',
      deps,
    )
    const merge = appendOnlyTableMerger(store, deps)
    const outcome = await merge({ key: 'tarn.m1', base, ours: ours2.state, theirs: theirs.state })
    expect(outcome.kind).toBe('merged')
    if (outcome.kind !== 'merged') return
    expect(await ids(outcome.state)).toEqual([0, 1, 2, 3, 10, 11, 20])
    expect(outcome.state.tableUuid).toBe(base.tableUuid)
    const merged = await loadTable(store, outcome.state.metadataLocation)
    expect(merged.metadata.snapshots.at(-1)?.summary.operation).toBe('append')
  })

  it('reports a conflict when one side appended and the other overwrote', async () => {
    const base = await baseTable('w/tarn/m2')
    const ours = await appendRows(
      await loadTable(store, base.metadataLocation),
      'SELECT 10::BIGINT AS id, 0::BIGINT AS bucket',
      deps,
    )
    const theirs = await overwriteRows(
      await loadTable(store, base.metadataLocation),
      'SELECT 99::BIGINT AS id, 1::BIGINT AS bucket',
      deps,
    )
    const outcome = await appendOnlyTableMerger(
      store,
      deps,
    )({ key: 'tarn.m2', base, ours: ours.state, theirs: theirs.state })
    expect(outcome.kind).toBe('conflict')
    if (outcome.kind === 'conflict') expect(outcome.reason).toContain('overwrite')
  })

  it('takes the changed side when only one side appended', async () => {
    const base = await baseTable('w/tarn/m3')
    const theirs = await appendRows(
      await loadTable(store, base.metadataLocation),
      'SELECT 7::BIGINT AS id, 1::BIGINT AS bucket',
      deps,
    )
    const outcome = await appendOnlyTableMerger(
      store,
      deps,
    )({ key: 'tarn.m3', base, ours: base, theirs: theirs.state })
    expect(outcome).toEqual({ kind: 'merged', state: theirs.state })
  })

  it('reports a conflict when the table was created on both sides', async () => {
    const a = await baseTable('w/tarn/m4a')
    const b = await baseTable('w/tarn/m4b')
    const outcome = await appendOnlyTableMerger(
      store,
      deps,
    )({ key: 'tarn.m4', base: undefined, ours: a, theirs: b })
    expect(outcome.kind).toBe('conflict')
  })
})
