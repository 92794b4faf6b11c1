import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import { icebergRead } from 'icebird'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  appendRows,
  applyTransform,
  type CommitResult,
  createTable,
  loadTable,
  manifestMightMatch,
  parseTransform,
  planScan,
  readTable,
  registerTable,
  snapshotManifests,
  toIcebergValue,
  updatePartitionSpec,
} from '../../src/iceberg/index.js'
import type { LocalObjectStore } from '../../src/storage/local.js'
import { fixedClock } from '../../src/util/clock.js'
import { seededRandom } from '../../src/util/random.js'
import { foreignStore, tempStore } from './helpers.js'
import { withLocalFetch } from './local-fetch.js'

let store: LocalObjectStore
let cleanup: () => Promise<void>
const deps = { clock: fixedClock(Date.parse('2026-01-01T00:00:00Z'), 1000), random: seededRandom(23) }
beforeAll(async () => {
  ;({ store, cleanup } = await tempStore())
})
afterAll(async () => cleanup())

const SOURCE = `SELECT range::INTEGER AS id, 'name-' || range AS name,
  TIMESTAMP '2024-01-30 22:00:00' + INTERVAL (range * 7) HOUR AS ts,
  (range * 1.25)::DECIMAL(10, 2) AS amount FROM range(20)`

async function icebird(result: CommitResult): Promise<Record<string, unknown>[]> {
  const loc = result.metadataLocation
  return withLocalFetch(() =>
    icebergRead({
      tableUrl: loc.slice(0, loc.lastIndexOf('/metadata/')),
      metadataFileName: loc.slice(loc.lastIndexOf('/') + 1),
    }),
  )
}

describe('partitioned tables', () => {
  for (const partitionBy of [
    [{ column: 'id', transform: 'bucket[4]' }],
    [
      { column: 'name', transform: 'truncate[6]' },
      { column: 'id', transform: 'truncate[5]' },
    ],
    [{ column: 'ts', transform: 'day' }],
    [{ column: 'ts', transform: 'hour' }],
    [
      { column: 'ts', transform: 'month' },
      { column: 'ts', transform: 'year' },
    ],
    [{ column: 'amount', transform: 'bucket[3]' }],
  ]) {
    it(`writes and reads back a table partitioned by ${partitionBy.map((p) => `${p.transform}(${p.column})`).join(', ')}`, async () => {
      const key = `w/tarn/p_${partitionBy
        .map((p) => `${p.column}_${p.transform}`)
        .join('_')
        .replace(/\W/g, '')}`
      const created = await createTable(store, { tableKey: key, source: SOURCE, partitionBy }, deps)
      const t = await loadTable(store, created.metadataLocation)
      const rows = await readTable(t)
      expect(rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b))).toEqual([...Array(20).keys()])
      const theirs = await icebird(created)
      expect(theirs.map((r) => r.id).sort((a, b) => Number(a) - Number(b))).toEqual([...Array(20).keys()])
      expect(new Set(theirs.map((r) => r.name)).size).toBe(20)
    })
  }

  it('puts every row of a 5,000-row table with thousands of distinct timestamps (and dates, times before 1970, integers) in the file of its partition value', async () => {
    const source = `SELECT range::BIGINT AS id,
      CASE WHEN range % 97 = 0 THEN NULL ELSE TIMESTAMP '2023-12-30 23:59:59' + INTERVAL (range * 3607) SECOND END AS ts,
      TIMESTAMPTZ '2024-12-20 20:00:00+00' + INTERVAL (range * 611) SECOND AS tz,
      TIMESTAMP '1969-12-24 23:30:00' + INTERVAL (range * 397) SECOND AS old,
      CASE WHEN range % 89 = 0 THEN NULL ELSE DATE '1969-11-02' + (range % 120)::INTEGER END AS d,
      (range % 7 - 3)::INTEGER AS k FROM range(5000)`
    const db = await DuckDBInstance.create(':memory:')
    const conn = await db.connect()
    try {
      for (const partitionBy of [
        [{ column: 'ts', transform: 'day' }],
        [
          { column: 'ts', transform: 'month' },
          { column: 'id', transform: 'bucket[3]' },
        ],
        [{ column: 'tz', transform: 'hour' }],
        [{ column: 'tz', transform: 'year' }],
        [{ column: 'old', transform: 'hour' }],
        [
          { column: 'old', transform: 'day' },
          { column: 'k', transform: 'identity' },
        ],
        [{ column: 'd', transform: 'day' }],
        [
          { column: 'd', transform: 'month' },
          { column: 'd', transform: 'year' },
        ],
      ]) {
        const name = partitionBy.map((p) => `${p.column}_${p.transform}`).join('_')
        const created = await createTable(
          store,
          { tableKey: `w/tarn/many_${name.replace(/\W/g, '')}`, source, partitionBy },
          deps,
        )
        const t = await loadTable(store, created.metadataLocation)
        const spec = t.metadata['partition-specs'][0]
        const fields = t.metadata.schemas[0]?.fields ?? []
        const plan = await planScan(t)
        let rows = 0
        const seen = new Set<string>()
        for (const task of plan.tasks) {
          const file = task.dataFile.dataFile
          const read = await conn.runAndReadAll(
            `SELECT * FROM read_parquet('${fileURLToPath(file.filePath)}')`,
          )
          const partition = JSON.stringify([...file.partition.values()].map(String))
          expect(seen.has(partition), `two files for partition ${partition} (${name})`).toBe(false)
          seen.add(partition)
          for (const row of read.getRowObjectsJson()) {
            rows++
            const expected = (spec?.fields ?? []).map((pf) => {
              const src = fields.find((f) => f.id === pf['source-id'])
              if (!src) throw new Error('no source field')
              const v = toIcebergValue(src.type, row[src.name])
              return String(applyTransform(parseTransform(pf.transform), src.type, v))
            })
            expect(JSON.stringify(expected), `${name}: row ${row.id} in ${partition}`).toBe(partition)
          }
        }
        expect(rows).toBe(5000)
        expect(seen.size).toBeGreaterThan(1)
      }
    } finally {
      conn.closeSync()
      db.closeSync()
    }
  })

  it('records partition values that match the Iceberg transforms', async () => {
    const created = await createTable(
      store,
      {
        tableKey: 'w/tarn/bucketed',
        source: 'SELECT 34::INTEGER AS id',
        partitionBy: [{ column: 'id', transform: 'bucket[16]' }],
      },
      deps,
    )
    const t = await loadTable(store, created.metadataLocation)
    const plan = await planScan(t)
    expect(plan.tasks[0]?.dataFile.dataFile.partition.get(1000)).toBe(3)
  })

  it('prunes files by partition value and by column bounds', async () => {
    const created = await createTable(
      store,
      { tableKey: 'w/tarn/pruned', source: SOURCE, partitionBy: [{ column: 'ts', transform: 'day' }] },
      deps,
    )
    const t = await loadTable(store, created.metadataLocation)
    const all = await planScan(t)
    expect(all.tasks.length).toBeGreaterThan(3)
    const oneDay = await planScan(t, { filter: { op: 'eq', column: 'ts', value: '2024-02-01 09:00:00' } })
    expect(oneDay.tasks).toHaveLength(1)
    const rows = await readTable(t, { where: { op: 'eq', column: 'ts', value: '2024-02-01 09:00:00' } })
    expect(rows.map((r) => r.id)).toEqual([5])
    const byBounds = await planScan(t, { filter: { op: 'gte', column: 'id', value: 18 } })
    expect(byBounds.tasks).toHaveLength(1)
    const byAmount = await planScan(t, { filter: { op: 'lt', column: 'amount', value: '1.00' } })
    expect(byAmount.tasks).toHaveLength(1)
    const none = await planScan(t, { filter: { op: 'eq', column: 'name', value: 'zzz' } })
    expect(none.tasks).toHaveLength(0)
  })

  it('skips whole manifests whose partition summaries cannot match', async () => {
    let r = await createTable(
      store,
      {
        tableKey: 'w/tarn/manifests',
        source: "SELECT 1 AS n, DATE '2024-01-01' AS d",
        partitionBy: [{ column: 'd', transform: 'identity' }],
      },
      deps,
    )
    for (const day of ['2024-01-02', '2024-01-03']) {
      r = await appendRows(
        await loadTable(store, r.metadataLocation),
        `SELECT 2 AS n, DATE '${day}' AS d`,
        deps,
      )
    }
    const t = await loadTable(store, r.metadataLocation)
    const manifests = await snapshotManifests(t, t.metadata.snapshots.at(-1)!)
    expect(manifests).toHaveLength(3)
    const spec = t.metadata['partition-specs'][0]!
    const schema = t.metadata.schemas[0]!
    const hits = manifests.filter((m) =>
      manifestMightMatch(m, spec, schema, { op: 'eq', column: 'd', value: '2024-01-02' }),
    )
    expect(hits).toHaveLength(1)
    const plan = await planScan(t, { filter: { op: 'gt', column: 'd', value: '2024-01-01' } })
    expect(plan.tasks).toHaveLength(2)
  })

  it('evolves the partition spec and reads files of both specs', async () => {
    const created = await createTable(store, { tableKey: 'w/tarn/respec', source: SOURCE }, deps)
    let t = await loadTable(store, created.metadataLocation)
    const respec = await updatePartitionSpec(t, [{ column: 'ts', transform: 'day' }], deps)
    t = await loadTable(store, respec.metadataLocation)
    expect(t.metadata['default-spec-id']).toBe(1)
    expect(t.metadata['partition-specs'][1]?.fields[0]?.['field-id']).toBe(1000)
    const appended = await appendRows(
      t,
      `SELECT 100 AS id, 'x' AS name, TIMESTAMP '2030-01-01 00:00:00' AS ts, 1 AS amount`,
      deps,
    )
    t = await loadTable(store, appended.metadataLocation)
    expect(await readTable(t)).toHaveLength(21)
    const plan = await planScan(t, { filter: { op: 'gte', column: 'ts', value: '2024-02-01 00:00:00' } })
    const only2030 = await planScan(t, { filter: { op: 'eq', column: 'ts', value: '2030-01-01 00:00:00' } })
    expect(only2030.tasks.map((x) => x.dataFile.specId)).toEqual([1])
    expect(plan.tasks.map((x) => x.dataFile.specId).sort()).toEqual([0, 1])
    expect((await icebird(appended)).length).toBe(21)
  })

  it('refuses NULL values in required columns', async () => {
    const schema = {
      type: 'struct' as const,
      'schema-id': 0,
      fields: [{ id: 1, name: 'id', required: true, type: 'long' }],
    }
    const created = await createTable(store, { tableKey: 'w/tarn/required', schema }, deps)
    const t = await loadTable(store, created.metadataLocation)
    await expect(appendRows(t, 'SELECT NULL::BIGINT AS id', deps)).rejects.toThrow(/Required columns/)
    expect((await appendRows(t, 'SELECT 1 AS id', deps)).snapshotId).not.toBeNull()
  })

  it('writes column sizes, counts and bounds into manifests', async () => {
    const created = await createTable(store, { tableKey: 'w/tarn/metrics', source: SOURCE }, deps)
    const t = await loadTable(store, created.metadataLocation)
    const plan = await planScan(t)
    const f = plan.tasks[0]?.dataFile.dataFile
    expect(f?.recordCount).toBe(20)
    expect(f?.valueCounts?.get(1)).toBe(20)
    expect(f?.nullValueCounts?.get(2)).toBe(0)
    expect(f?.columnSizes?.get(3)).toBeGreaterThan(0)
    expect(f?.lowerBounds?.get(1)).toEqual(new Uint8Array([0, 0, 0, 0]))
    expect(f?.upperBounds?.get(1)).toEqual(new Uint8Array([19, 0, 0, 0]))
  })

  it('truncates long string bounds to 16 characters, incrementing the upper one', async () => {
    const created = await createTable(
      store,
      {
        tableKey: 'w/tarn/longstrings',
        source: `SELECT 'abcdefghijklmnopqrstuvwxyz' AS s UNION ALL SELECT 'abcdefghijklmnopZZZ'`,
      },
      deps,
    )
    const t = await loadTable(store, created.metadataLocation)
    const f = (await planScan(t)).tasks[0]?.dataFile.dataFile
    expect(new TextDecoder().decode(f?.lowerBounds?.get(1))).toBe('abcdefghijklmnop')
    expect(new TextDecoder().decode(f?.upperBounds?.get(1))).toBe('abcdefghijklmnoq')
    expect(
      (await planScan(t, { filter: { op: 'eq', column: 's', value: 'abcdefghijklmnopqrstuvwxyz' } })).tasks,
    ).toHaveLength(1)
    expect((await planScan(t, { filter: { op: 'eq', column: 's', value: 'b' } })).tasks).toHaveLength(0)
  })

  it('rolls data files over at the target file size', async () => {
    const created = await createTable(
      store,
      {
        tableKey: 'w/tarn/rolled',
        source: 'SELECT range AS id, md5(range::VARCHAR) AS h FROM range(300000)',
        targetFileSizeBytes: 1_000_000,
      },
      deps,
    )
    const t = await loadTable(store, created.metadataLocation)
    const plan = await planScan(t)
    expect(plan.tasks.length).toBeGreaterThan(1)
    expect(plan.tasks.reduce((a, x) => a + x.dataFile.dataFile.recordCount, 0)).toBe(300000)
  })
})

describe('registering foreign tables', () => {
  it('registers a moved table zero-copy and appends to it', async () => {
    const f = await foreignStore()
    try {
      await expect(registerTable(f.store, 'foreign/java/bunnies/metadata/v5.metadata.json')).rejects.toThrow(
        /allow-moved-paths/,
      )
      const reg = await registerTable(f.store, 'foreign/java/bunnies/metadata/v5.metadata.json', {
        allowMovedPaths: true,
      })
      expect(reg.state.snapshotId).toBe('9158179788527662767')
      expect(await readTable(reg.table)).toHaveLength(15)
      const appended = await appendRows(
        reg.table,
        `SELECT 'Tarn Lop' AS "Breed Name", 3.5 AS "Average Weight"`,
        deps,
      )
      const rows = await readTable(await loadTable(f.store, appended.metadataLocation))
      expect(rows).toHaveLength(16)
      expect(rows.filter((r) => r['Origin Country'] === 'New Zealand')).toHaveLength(1)
    } finally {
      await f.cleanup()
    }
  })
})
