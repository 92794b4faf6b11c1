import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadTable } from '../../src/iceberg/table-loader.js'
import { readTable } from '../../src/iceberg/table-reader.js'
import type { LocalObjectStore } from '../../src/storage/local.js'
import { foreignStore } from './helpers.js'

let store: LocalObjectStore
let cleanup: () => Promise<void>
beforeAll(async () => {
  ;({ store, cleanup } = await foreignStore())
})
afterAll(async () => cleanup())

const cases: [string, string, number][] = [
  ['java/bunnies', 'v1.metadata.json', 0],
  ['java/bunnies', 'v2.metadata.json', 21],
  ['java/bunnies', 'v3.metadata.json', 21],
  ['java/bunnies', 'v4.metadata.json', 15],
  ['java/bunnies', 'v5.metadata.json', 15],
  ['spark/bunnies', 'v1.metadata.json', 21],
  ['spark/bunnies', 'v2.metadata.json', 21],
  ['spark/bunnies', 'v3.metadata.json', 20],
  ['spark/bunnies', 'v4.metadata.json', 20],
  ['spark/bunnies', 'v5.metadata.json', 20],
  ['spark/rename_column', 'v1.metadata.json', 0],
  ['spark/rename_column', 'v2.metadata.json', 4],
  ['spark/rename_column', 'v3.metadata.json', 4],
  ['athena/example', '00000-eedf51e6-8c09-463b-8850-844ee6ec1de0.metadata.json', 0],
  ['athena/example', '00001-aaf0d033-d06b-43c7-be60-67f83abd4aca.metadata.json', 2],
]

describe('reading foreign Iceberg tables', () => {
  for (const [table, file, rows] of cases) {
    it(`reads ${table} at ${file} with ${rows} rows`, async () => {
      const t = await loadTable(store, `foreign/${table}/metadata/${file}`)
      const result = await readTable(t)
      expect(result.length).toBe(rows)
    })
  }
})

describe('concrete values of foreign tables', () => {
  it('keeps exactly one updated New Zealand row after the equality delete', async () => {
    const t = await loadTable(store, 'foreign/java/bunnies/metadata/v5.metadata.json')
    const rows = await readTable(t, { where: { op: 'eq', column: 'Origin Country', value: 'New Zealand' } })
    expect(rows).toHaveLength(1)
    expect(rows[0]?.['Popularity Rank']).toBe(0n)
    expect(rows[0]?.__happy__).toBe(true)
  })

  it('reads the added boolean column as null in rows written before it existed', async () => {
    const t = await loadTable(store, 'foreign/java/bunnies/metadata/v3.metadata.json')
    const rows = await readTable(t)
    expect(rows.every((r) => r.__happy__ === null)).toBe(true)
  })

  it('reads a renamed column by field id under its new name', async () => {
    const t = await loadTable(store, 'foreign/spark/rename_column/metadata/v3.metadata.json')
    const rows = await readTable(t)
    expect(Object.keys(rows[0] ?? {})).toEqual(['id', 'name', 'event_date', 'price', 'active'])
    const thumper = rows.find((r) => r.name === 'Thumper')
    expect(thumper?.event_date).toEqual(new Date('2022-01-02T00:00:00Z'))
    expect(rows.find((r) => r.name === 'Cottontail')?.event_date).toBeNull()
  })

  it('reads the added int column of the copy-on-write Spark table', async () => {
    const t = await loadTable(store, 'foreign/spark/bunnies/metadata/v5.metadata.json')
    const rows = await readTable(t, { where: { op: 'eq', column: 'Breed Name', value: 'New Zealand' } })
    expect(rows[0]?.breed_name_length).toBe(11)
  })

  it('travels back in time by snapshot id', async () => {
    const t = await loadTable(store, 'foreign/java/bunnies/metadata/v5.metadata.json')
    const first = await readTable(t, { snapshotId: '4951213507629824583' })
    expect(first).toHaveLength(21)
    expect(Object.keys(first[0] ?? {})).not.toContain('__happy__')
    expect(await readTable(t, { snapshotId: 6458828015811002920n })).toHaveLength(15)
  })

  it('reads the Athena table from its object-storage data layout', async () => {
    const t = await loadTable(
      store,
      'foreign/athena/example/metadata/00001-aaf0d033-d06b-43c7-be60-67f83abd4aca.metadata.json',
    )
    const rows = await readTable(t)
    expect(rows.map((r) => r.name).sort()).toEqual(['Alice', 'Bob'])
  })

  it('keeps 64-bit snapshot ids exact', async () => {
    const t = await loadTable(store, 'foreign/java/bunnies/metadata/v5.metadata.json')
    expect(t.metadata['current-snapshot-id']).toBe(9158179788527662767n)
  })
})
