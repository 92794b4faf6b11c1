import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Expression } from '../../src/iceberg/expression.js'
import { boundsMightMatch, partitionMightMatch } from '../../src/iceberg/file-pruning.js'
import type { DataFile } from '../../src/iceberg/manifest.js'
import { ManifestCache } from '../../src/iceberg/manifest-cache.js'
import { planScan, snapshotManifests } from '../../src/iceberg/scan-planner.js'
import type { Schema } from '../../src/iceberg/schema.js'
import { encodeSingleValue } from '../../src/iceberg/single-value.js'
import { type LoadedTable, loadTable } from '../../src/iceberg/table-loader.js'
import { snapshotById, specById } from '../../src/iceberg/table-metadata.js'
import { commitSnapshot } from '../../src/iceberg/writer/snapshot-producer.js'
import { createTable } from '../../src/iceberg/writer/table-writer.js'
import { LocalObjectStore } from '../../src/storage/local.js'
import { fixedClock } from '../../src/util/clock.js'
import { seededRandom } from '../../src/util/random.js'

const SCHEMA: Schema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'id', required: false, type: 'long' },
    { id: 2, name: 'day', required: false, type: 'date' },
    { id: 3, name: 'name', required: false, type: 'string' },
  ],
}
const FILES_PER_SNAPSHOT = 20
const SNAPSHOTS = 4

/** File i: day 19000 + i, ids [100 i, 100 i + 99], names 'n<i>'; every 7th file of the first snapshot has no id bounds, every 11th file only nulls. */
function file(store: LocalObjectStore, i: number): DataFile {
  const noBounds = i < FILES_PER_SNAPSHOT && i % 7 === 3
  const allNull = i % 11 === 5
  return {
    content: 0,
    filePath: store.uriOf(`t/data/f${i}.parquet`),
    fileFormat: 'PARQUET',
    partition: new Map([[1000, 19_000 + i]]),
    recordCount: 100,
    fileSizeInBytes: 1000 + i,
    valueCounts: new Map([[1, 100]]),
    nullValueCounts: new Map([[1, allNull ? 100 : 0]]),
    lowerBounds: new Map([
      ...(noBounds || allNull ? [] : [[1, encodeSingleValue('long', BigInt(i * 100))] as const]),
      [3, encodeSingleValue('string', `n${String(i).padStart(3, '0')}`)],
    ]),
    upperBounds: new Map([
      ...(noBounds || allNull ? [] : [[1, encodeSingleValue('long', BigInt(i * 100 + 99))] as const]),
      [3, encodeSingleValue('string', `n${String(i).padStart(3, '0')}`)],
    ]),
  }
}

const FILTERS: readonly Expression[] = [
  { op: 'eq', column: 'id', value: 1234 },
  { op: 'lt', column: 'id', value: 300 },
  { op: 'lte', column: 'id', value: 300 },
  { op: 'gt', column: 'id', value: 7799 },
  { op: 'gte', column: 'id', value: 7700 },
  { op: 'gt', column: 'id', value: 1_000_000 },
  { op: 'in', column: 'id', values: [5, 4050, 999_999] },
  {
    op: 'and',
    args: [
      { op: 'gte', column: 'id', value: 2000 },
      { op: 'lt', column: 'id', value: 2500 },
    ],
  },
  {
    op: 'or',
    args: [
      { op: 'eq', column: 'day', value: '2022-01-08' },
      { op: 'eq', column: 'id', value: 50 },
    ],
  },
  { op: 'eq', column: 'day', value: '2022-01-08' },
  { op: 'gte', column: 'name', value: 'n070' },
  { op: 'eq', column: 'name', value: 'n033' },
  { op: 'isNull', column: 'id' },
  { op: 'notNull', column: 'id' },
  { op: 'not', arg: { op: 'eq', column: 'id', value: 5 } },
  {
    op: 'and',
    args: [
      { op: 'eq', column: 'day', value: '2022-01-08' },
      { op: 'gt', column: 'id', value: 9 },
    ],
  },
]

describe('scan planning with cached manifests and compiled filters', () => {
  let dir: string
  let store: LocalObjectStore
  let table: LoadedTable
  let all: DataFile[]

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tarn-plan-'))
    store = await LocalObjectStore.create(join(dir, 'w'))
    const deps = { clock: fixedClock(1_700_000_000_000), random: seededRandom(7) }
    const created = await createTable(
      store,
      { tableKey: 't', schema: SCHEMA, partitionBy: [{ column: 'day', transform: 'identity' }] },
      deps,
    )
    table = await loadTable(store, created.metadataLocation)
    all = []
    for (let s = 0; s < SNAPSHOTS; s++) {
      const added = Array.from({ length: FILES_PER_SNAPSHOT }, (_, k) =>
        file(store, s * FILES_PER_SNAPSHOT + k),
      )
      all.push(...added)
      const r = await commitSnapshot(table, { operation: 'append', added, removed: [] }, deps)
      table = await loadTable(store, r.metadataLocation)
    }
    return () => rmSync(dir, { recursive: true, force: true })
  })

  it('keeps exactly the files that the file-by-file partition and bounds tests keep, cached or not', async () => {
    const spec = specById(table.metadata)
    const cache = new ManifestCache()
    for (const filter of FILTERS) {
      const expected = all
        .filter((f) => partitionMightMatch(f, spec, SCHEMA, filter) && boundsMightMatch(f, SCHEMA, filter))
        .map((f) => f.filePath)
        .sort()
      for (const options of [{ cache: null }, { cache }, { cache }]) {
        const plan = await planScan(table, { ...options, filter })
        const kept = plan.tasks.map((t) => t.dataFile.dataFile.filePath).sort()
        expect({ filter, kept }).toEqual({ filter, kept: expected })
        expect(plan.totalDataFiles).toBe(all.length)
      }
    }
  })

  it('prunes by bounds: an id range keeps the one file holding it, an id past every bound keeps none', async () => {
    const one = await planScan(table, { filter: { op: 'eq', column: 'id', value: 1234 }, cache: null })
    // file 12 holds ids 1200..1299; the files without id bounds (3, 10, 17) are kept too
    const kept = one.tasks.map((t) => t.dataFile.dataFile.filePath.replace(/.*\/f(\d+)\.parquet$/, '$1'))
    expect(kept.sort()).toEqual(['10', '12', '17', '3'])
    const none = await planScan(table, { filter: { op: 'gt', column: 'id', value: 1_000_000 } })
    expect(none.tasks.map((t) => t.dataFile.dataFile.filePath).sort()).toEqual(
      all
        .filter((_, k) => k < FILES_PER_SNAPSHOT && k % 7 === 3)
        .map((f) => f.filePath)
        .sort(),
    )
  })

  it('counts the files of manifests skipped by their partition summaries in the total', async () => {
    const plan = await planScan(table, {
      filter: { op: 'eq', column: 'day', value: '2022-01-08' },
      cache: null,
    })
    expect(plan.tasks).toHaveLength(1)
    expect(plan.totalDataFiles).toBe(SNAPSHOTS * FILES_PER_SNAPSHOT)
  })

  it('plans again from the cache without reading a manifest or the manifest list', async () => {
    const cache = new ManifestCache()
    const first = await planScan(table, { cache })
    expect(first.tasks).toHaveLength(all.length)
    expect(cache.stats()).toMatchObject({ files: 1 + SNAPSHOTS, hits: 0, misses: 1 + SNAPSHOTS })
    // Manifests are immutable: once decoded, the files themselves are not needed again.
    const snapshot = snapshotById(table.metadata)
    if (!snapshot) throw new Error('no snapshot')
    const manifests = await snapshotManifests(table, snapshot)
    for (const m of manifests) rmSync(fileURLToPath(m.manifestPath))
    rmSync(fileURLToPath(snapshot['manifest-list'] as string))
    const again = await planScan(table, { cache, filter: { op: 'gte', column: 'id', value: 7700 } })
    expect(again.tasks.length).toBeGreaterThan(0)
    expect(cache.stats()).toMatchObject({ hits: 1 + SNAPSHOTS, misses: 1 + SNAPSHOTS })
    await expect(planScan(table, { cache: null })).rejects.toThrow()
  })

  it('holds at most its bound of entries, dropping the least recently used files', async () => {
    const cache = new ManifestCache({ maxEntries: 45 })
    const a = await cache.get(
      'a',
      (v: number[]) => v.length,
      async () => Array.from({ length: 20 }, () => 1),
    )
    await cache.get(
      'b',
      (v: number[]) => v.length,
      async () => Array.from({ length: 20 }, () => 2),
    )
    expect(
      await cache.get(
        'a',
        (v: number[]) => v.length,
        async () => [],
      ),
    ).toBe(a)
    await cache.get(
      'c',
      (v: number[]) => v.length,
      async () => Array.from({ length: 20 }, () => 3),
    )
    expect(cache.stats()).toMatchObject({ files: 2, entries: 40 })
    // 'b' was the least recently used: it is loaded again
    expect(
      await cache.get(
        'b',
        (v: number[]) => v.length,
        async () => [9],
      ),
    ).toEqual([9])
  })
})
