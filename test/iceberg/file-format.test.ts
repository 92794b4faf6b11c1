import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  appendRows,
  createTable,
  deleteWhere,
  evolveSchema,
  loadTable,
  planScan,
  readAvroContainer,
  readTable,
} from '../../src/iceberg/index.js'
import type { LocalObjectStore } from '../../src/storage/local.js'
import { fixedClock } from '../../src/util/clock.js'
import { seededRandom } from '../../src/util/random.js'
import { tempStore } from './helpers.js'

let store: LocalObjectStore
let dir: string
let cleanup: () => Promise<void>
const deps = { clock: fixedClock(Date.parse('2026-01-01T00:00:00Z'), 1000), random: seededRandom(5) }
beforeAll(async () => {
  ;({ store, dir, cleanup } = await tempStore())
})
afterAll(async () => cleanup())

async function filesUnder(root: string, ext: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith(ext)) out.push(join(e.parentPath, e.name))
  }
  return out
}

describe('file formats tarn writes', () => {
  it('maps DuckDB types onto Iceberg v2 types, never writing TINYINT, UINTEGER or TIMESTAMP_NS', async () => {
    const created = await createTable(
      store,
      {
        tableKey: 'w/tarn/types',
        source: `SELECT 1::TINYINT AS a, 2::UINTEGER AS b, TIMESTAMP_NS '2024-01-01 00:00:00.123456789' AS c,
          3::SMALLINT AS d, uuid() AS e, 'x'::BLOB AS f, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS g, TIME '10:00:00' AS h`,
      },
      deps,
    )
    const t = await loadTable(store, created.metadataLocation)
    expect(t.metadata.schemas[0]?.fields.map((f) => f.type)).toEqual([
      'int',
      'long',
      'timestamp',
      'int',
      'uuid',
      'binary',
      'timestamptz',
      'time',
    ])
    const plan = await planScan(t)
    const path = await t.io.localPath(plan.tasks[0]!.dataFile.dataFile.filePath)
    const instance = await DuckDBInstance.create(':memory:')
    const conn = await instance.connect()
    const schema = (
      await conn.runAndReadAll(
        `SELECT name, field_id, type, logical_type, converted_type FROM parquet_schema('${path}') WHERE field_id IS NOT NULL`,
      )
    ).getRowObjectsJS()
    expect(schema.map((r) => [r.name, Number(r.field_id), r.type])).toEqual([
      ['a', 1, 'INT32'],
      ['b', 2, 'INT64'],
      ['c', 3, 'INT64'],
      ['d', 4, 'INT32'],
      ['e', 5, 'FIXED_LEN_BYTE_ARRAY'],
      ['f', 6, 'BYTE_ARRAY'],
      ['g', 7, 'INT64'],
      ['h', 8, 'INT64'],
    ])
    expect(String(schema[2]?.logical_type)).toContain('MICROS')
    conn.closeSync()
    instance.closeSync()
    const rows = await readTable(t)
    expect(rows[0]?.a).toBe(1)
  })

  it('writes field-id attributes into the header schema of every Avro file', async () => {
    const created = await createTable(
      store,
      {
        tableKey: 'w/tarn/avro',
        source: `SELECT range AS id, 'r' || (range % 3) AS region FROM range(30)`,
        partitionBy: [{ column: 'region', transform: 'identity' }],
      },
      deps,
    )
    let t = await loadTable(store, created.metadataLocation)
    t = await loadTable(
      store,
      (await appendRows(t, `SELECT 100 AS id, 'r9' AS region`, deps)).metadataLocation,
    )
    t = await loadTable(
      store,
      (await deleteWhere(t, { op: 'lt', column: 'id', value: 5 }, deps)).metadataLocation,
    )
    t = await loadTable(
      store,
      (await evolveSchema(t, [{ op: 'add', name: 'x', type: 'double' }], deps)).metadataLocation,
    )
    await appendRows(t, `SELECT 101 AS id, 'r0' AS region, 1.5 AS x`, deps)
    const avros = await filesUnder(join(dir, 'w/tarn/avro'), '.avro')
    expect(avros.length).toBeGreaterThanOrEqual(8)
    for (const f of avros) {
      const file = readAvroContainer(new Uint8Array(await readFile(f)))
      const text = JSON.stringify(file.schema)
      expect(text).toContain('"field-id"')
      expect(file.metadata['format-version']).toBe('2')
      if (f.includes('/snap-')) {
        expect(text).toContain('"element-id":508')
        expect(file.metadata['snapshot-id']).toMatch(/^\d+$/)
      } else {
        expect(text).toContain('"logicalType":"map"')
        expect(file.metadata['partition-spec']).toContain('"field-id":1000')
        expect(file.metadata.schema).toContain('"schema-id"')
        expect(file.metadata.content).toBe('data')
      }
    }
  })
})
