import { DuckDBInstance } from '@duckdb/node-api'
import { icebergRead } from 'icebird'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readAvroContainer } from '../../src/iceberg/avro/avro-reader.js'
import { loadTable } from '../../src/iceberg/table-loader.js'
import { readTable } from '../../src/iceberg/table-reader.js'
import { evolveSchema } from '../../src/iceberg/writer/schema-evolution.js'
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
import { withLocalFetch } from './local-fetch.js'

let store: LocalObjectStore
let cleanup: () => Promise<void>
const deps = { clock: fixedClock(Date.parse('2026-01-01T00:00:00Z'), 1000), random: seededRandom(7) }
beforeAll(async () => {
  ;({ store, cleanup } = await tempStore())
})
afterAll(async () => cleanup())

const toPlain = (rows: Record<string, unknown>[]): Record<string, unknown>[] =>
  rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [
        k,
        typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.toISOString() : v,
      ]),
    ),
  )
const sortBy = (rows: Record<string, unknown>[], col: string) =>
  [...rows].sort((a, b) => Number(a[col]) - Number(b[col]))

async function icebird(result: CommitResult): Promise<Record<string, unknown>[]> {
  const loc = result.metadataLocation
  const tableUrl = loc.slice(0, loc.lastIndexOf('/metadata/'))
  const metadataFileName = loc.slice(loc.lastIndexOf('/') + 1)
  return withLocalFetch(() => icebergRead({ tableUrl, metadataFileName }))
}

async function read(result: CommitResult): Promise<Record<string, unknown>[]> {
  return readTable(await loadTable(store, result.metadataLocation))
}

describe('writing tables', () => {
  it('creates an unpartitioned table from a query and reads it back with our reader and icebird', async () => {
    const created = await createTable(
      store,
      {
        tableKey: 'w/tarn/people',
        source: `SELECT range::INTEGER AS id, 'p' || range AS "full name", range * 1.5 AS score FROM range(5)`,
      },
      deps,
    )
    expect(created.snapshotId).not.toBeNull()
    const ours = sortBy(toPlain(await read(created)), 'id')
    expect(ours).toHaveLength(5)
    expect(ours[2]).toEqual({ id: 2, 'full name': 'p2', score: 3 })
    const theirs = sortBy(toPlain(await icebird(created)), 'id')
    expect(theirs).toEqual(ours)
  })

  it('appends, overwrites and deletes, each as one snapshot readable by icebird', async () => {
    const created = await createTable(
      store,
      {
        tableKey: 'w/tarn/events',
        source: `SELECT range::BIGINT AS id, DATE '2022-01-01' + (range % 3)::INTEGER AS day FROM range(9)`,
        partitionBy: [{ column: 'day', transform: 'identity' }],
      },
      deps,
    )
    let t = await loadTable(store, created.metadataLocation)
    const appended = await appendRows(t, `SELECT 100::BIGINT AS id, DATE '2022-01-05' AS day`, deps)
    expect(await read(appended)).toHaveLength(10)
    t = await loadTable(store, appended.metadataLocation)
    const deleted = await deleteWhere(t, { op: 'lt', column: 'id', value: 3 }, deps)
    const afterDelete = toPlain(await read(deleted))
    expect(afterDelete).toHaveLength(7)
    expect(sortBy(toPlain(await icebird(deleted)), 'id')).toEqual(sortBy(afterDelete, 'id'))
    t = await loadTable(store, deleted.metadataLocation)
    const replaced = await overwritePartitions(t, `SELECT 7::BIGINT AS id, DATE '2022-01-05' AS day`, deps)
    const rows = toPlain(await read(replaced))
    expect(rows.filter((r) => r.day === '2022-01-05T00:00:00.000Z').map((r) => r.id)).toEqual([7])
    expect(rows).toHaveLength(7)
    t = await loadTable(store, replaced.metadataLocation)
    const byFilter = await overwriteWhere(
      t,
      { op: 'eq', column: 'day', value: '2022-01-02' },
      `SELECT 50::BIGINT AS id, DATE '2022-01-02' AS day`,
      deps,
    )
    const rows2 = toPlain(await read(byFilter))
    expect(rows2.filter((r) => r.day === '2022-01-02T00:00:00.000Z').map((r) => r.id)).toEqual([50])
    expect(sortBy(toPlain(await icebird(byFilter)), 'id')).toEqual(sortBy(rows2, 'id'))
    t = await loadTable(store, byFilter.metadataLocation)
    const all = await overwriteRows(t, `SELECT 1::BIGINT AS id, DATE '2023-01-01' AS day`, deps)
    expect(toPlain(await icebird(all))).toEqual([{ id: 1, day: '2023-01-01T00:00:00.000Z' }])
    expect(await read(all)).toHaveLength(1)
  })

  it('keeps the manifest list of a table overwritten again and again at one manifest, and its rows readable', async () => {
    let result = await createTable(store, { tableKey: 'w/tarn/replaced', source: 'SELECT 0 AS n' }, deps)
    for (let i = 1; i <= 6; i++) {
      result = await overwriteRows(await loadTable(store, result.metadataLocation), `SELECT ${i} AS n`, deps)
    }
    const table = await loadTable(store, result.metadataLocation)
    const snap = table.metadata.snapshots.at(-1)
    const list = readAvroContainer(await store.get(store.keyOf(snap?.['manifest-list'] ?? '') ?? ''))
    // the new files' manifest, and the one that records what this overwrite removed; older removals are gone
    expect(list.records).toHaveLength(2)
    expect(toPlain(await readTable(table))).toEqual([{ n: 6 }])
    expect(snap?.summary['total-records']).toBe('1')
  })

  it('evolves the schema and reads old files by field id', async () => {
    const created = await createTable(
      store,
      {
        tableKey: 'w/tarn/evolve',
        source: `SELECT range::INTEGER AS n, range::FLOAT AS x, 'a' AS "old name" FROM range(3)`,
      },
      deps,
    )
    let t = await loadTable(store, created.metadataLocation)
    const evolved = await evolveSchema(
      t,
      [
        { op: 'add', name: 'note', type: 'string' },
        { op: 'rename', name: 'old name', newName: 'new name' },
        { op: 'widen', name: 'n', type: 'long' },
        { op: 'widen', name: 'x', type: 'double' },
      ],
      deps,
    )
    t = await loadTable(store, evolved.metadataLocation)
    const appended = await appendRows(t, `SELECT 10 AS n, 2.5 AS x, 'b' AS "new name", 'hi' AS note`, deps)
    const rows = sortBy(toPlain(await read(appended)), 'n')
    expect(rows[0]).toEqual({ n: 0, x: 0, 'new name': 'a', note: null })
    expect(rows[3]).toEqual({ n: 10, x: 2.5, 'new name': 'b', note: 'hi' })
    const theirs = sortBy(toPlain(await icebird(appended)), 'n')
    expect(theirs.map((r) => r['new name'])).toEqual(['a', 'a', 'a', 'b'])
  })

  it('maps nested struct fields, list elements and map values by field id', async () => {
    const created = await createTable(
      store,
      {
        tableKey: 'w/tarn/nested-evolve',
        source: `SELECT 1 AS id, [1, 2] AS tags, {'a': 'x'} AS s, MAP {'k': {'a': 5}} AS m`,
      },
      deps,
    )
    const t = await loadTable(store, created.metadataLocation)
    const schema = t.metadata.schemas[0]!
    const fields = schema.fields.map((f) => {
      if (f.name === 'tags' && typeof f.type === 'object' && f.type.type === 'list')
        return { ...f, type: { ...f.type, element: 'long' } }
      if (f.name === 's' && typeof f.type === 'object' && f.type.type === 'struct') {
        return {
          ...f,
          type: {
            ...f.type,
            fields: [
              ...f.type.fields.map((x) => ({ ...x, name: 'renamed' })),
              { id: 99, name: 'added', required: false, type: 'int' },
            ],
          },
        }
      }
      return f
    })
    const rows = await readTable(t, { schema: { ...schema, fields } })
    expect(rows[0]?.tags).toEqual([1n, 2n])
    expect(rows[0]?.s).toEqual({ renamed: 'x', added: null })
  })

  it('writes Parquet files with Iceberg field ids and Avro files with field-id attributes', async () => {
    const created = await createTable(
      store,
      {
        tableKey: 'w/tarn/nested',
        source: `SELECT 1 AS id, [1, 2] AS tags, {'a': 'x'} AS s, MAP {'k': 1} AS m`,
      },
      deps,
    )
    const t = await loadTable(store, created.metadataLocation)
    const instance = await DuckDBInstance.create(':memory:')
    const conn = await instance.connect()
    const snapshot = t.metadata.snapshots[0]!
    const list = await t.io.read(snapshot['manifest-list']!)
    const listFile = readAvroContainer(list)
    expect(JSON.stringify(listFile.schema)).toContain('"field-id":500')
    expect(listFile.metadata['snapshot-id']).toBe(snapshot['snapshot-id'].toString())
    const manifestPath = String(listFile.records[0]?.manifest_path)
    const manifest = readAvroContainer(await t.io.read(manifestPath))
    expect(JSON.stringify(manifest.schema)).toContain('"field-id":102')
    expect(manifest.metadata['partition-spec']).toBe('[]')
    const entry = manifest.records[0] as { data_file: { file_path: string } }
    const dataPath = entry.data_file.file_path
    const local = await t.io.localPath(dataPath)
    const ids = (
      await conn.runAndReadAll(
        `SELECT name, field_id FROM parquet_schema('${local}') WHERE field_id IS NOT NULL`,
      )
    ).getRowObjectsJS()
    expect(ids.map((r) => [r.name, Number(r.field_id)])).toEqual([
      ['id', 1],
      ['tags', 2],
      ['element', 5],
      ['s', 3],
      ['a', 6],
      ['m', 4],
      ['key', 7],
      ['value', 8],
    ])
    conn.closeSync()
    instance.closeSync()
  })
})
