import { describe, expect, it } from 'vitest'
import { freshSchemaIds, newTableMetadata } from '../../src/iceberg/commit/new-table-metadata.js'
import { checkRequirement, parseRequirement } from '../../src/iceberg/commit/table-requirement.js'
import {
  applyTableUpdates,
  EMPTY_TABLE_METADATA,
  parseTableUpdate,
} from '../../src/iceberg/commit/table-update.js'
import type { Schema } from '../../src/iceberg/schema.js'
import type { TableMetadata } from '../../src/iceberg/table-metadata.js'
import { isTarnError } from '../../src/util/errors.js'
import { parseJsonLossless } from '../../src/util/lossless-json.js'

const SCHEMA: Schema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 10, name: 'id', required: true, type: 'long' },
    {
      id: 11,
      name: 'tags',
      required: false,
      type: { type: 'list', 'element-id': 12, element: 'string', 'element-required': false },
    },
    {
      id: 13,
      name: 'attrs',
      required: false,
      type: {
        type: 'map',
        'key-id': 14,
        key: 'string',
        'value-id': 15,
        value: 'int',
        'value-required': false,
      },
    },
    { id: 16, name: 'ts', required: false, type: 'timestamptz' },
  ],
}

const base = (): TableMetadata =>
  newTableMetadata(
    {
      schema: SCHEMA,
      location: 'file:///w/sales/orders-1',
      partitionSpec: {
        'spec-id': 0,
        fields: [{ 'source-id': 16, 'field-id': 5, name: 'ts_day', transform: 'day' }],
      },
      sortOrder: {
        'order-id': 3,
        fields: [{ 'source-id': 10, transform: 'identity', direction: 'asc', 'null-order': 'nulls-first' }],
      },
      properties: { owner: 'ops', 'format-version': '2' },
    },
    { uuid: 'u-1', now: 1000 },
  )

const updates = (json: string) =>
  (parseJsonLossless(json) as unknown[]).map((u) => parseTableUpdate(u as never))
const code = (f: () => unknown): string | undefined => {
  try {
    f()
  } catch (e) {
    return isTarnError(e) ? e.code : 'other'
  }
  return undefined
}

describe('Iceberg commits: new tables, requirements and updates', () => {
  it('assigns fresh ids on create: struct fields first, then list elements and map keys and values; spec and sort order follow', () => {
    const { ids, last } = freshSchemaIds(SCHEMA)
    expect([...ids]).toEqual([
      [10, 1],
      [11, 2],
      [13, 3],
      [16, 4],
      [12, 5],
      [14, 6],
      [15, 7],
    ])
    expect(last).toBe(7)
    const m = base()
    expect(m['last-column-id']).toBe(7)
    expect(m['partition-specs'][0]?.fields).toEqual([
      { 'source-id': 4, 'field-id': 1000, name: 'ts_day', transform: 'day' },
    ])
    expect(m['last-partition-id']).toBe(1000)
    expect(m['sort-orders']).toEqual([
      {
        'order-id': 1,
        fields: [{ 'source-id': 1, transform: 'identity', direction: 'asc', 'null-order': 'nulls-first' }],
      },
    ])
    expect(m.properties).toEqual({ owner: 'ops' })
    expect(m['current-snapshot-id']).toBeNull()
  })

  it('checks every requirement type of the spec and names what differs', () => {
    const m = { ...base(), refs: { main: { 'snapshot-id': 9007199254740993n, type: 'branch' as const } } }
    const reqs = [
      { type: 'assert-table-uuid', uuid: 'u-1' },
      { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': 9007199254740993n },
      { type: 'assert-ref-snapshot-id', ref: 'audit', 'snapshot-id': null },
      { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': 7 },
      { type: 'assert-current-schema-id', 'current-schema-id': 0 },
      { type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': 1000 },
      { type: 'assert-default-spec-id', 'default-spec-id': 0 },
      { type: 'assert-default-sort-order-id', 'default-sort-order-id': 1 },
    ]
    for (const r of reqs)
      expect(code(() => checkRequirement('sales.orders', m, parseRequirement(r)))).toBeUndefined()
    const wrong = [
      { type: 'assert-create' },
      { type: 'assert-table-uuid', uuid: 'u-2' },
      { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': 9007199254740992n },
      { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null },
      { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': 6 },
      { type: 'assert-current-schema-id', 'current-schema-id': 1 },
      { type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': 999 },
      { type: 'assert-default-spec-id', 'default-spec-id': 1 },
      { type: 'assert-default-sort-order-id', 'default-sort-order-id': 0 },
    ]
    for (const r of wrong) {
      expect(code(() => checkRequirement('sales.orders', m, parseRequirement(r)))).toBe(
        'COMMIT_REQUIREMENT_FAILED',
      )
    }
    expect(
      code(() => checkRequirement('t', undefined, parseRequirement({ type: 'assert-create' }))),
    ).toBeUndefined()
    expect(code(() => checkRequirement('t', undefined, parseRequirement(reqs[0] as never)))).toBe(
      'COMMIT_REQUIREMENT_FAILED',
    )
    expect(code(() => parseRequirement({ type: 'assert-view-uuid', uuid: 'x' }))).toBe('INVALID_ARGUMENT')
  })

  it('applies schema, spec and sort-order updates, reusing equal ones and reading -1 as the last added', () => {
    const m0 = base()
    const m = applyTableUpdates(
      m0,
      updates(`[
        {"action":"add-schema","schema":{"type":"struct","schema-id":7,"fields":[{"id":1,"name":"id","required":true,"type":"long"},{"id":8,"name":"note","required":false,"type":"string"}]}},
        {"action":"set-current-schema","schema-id":-1},
        {"action":"add-spec","spec":{"spec-id":4,"fields":[{"source-id":1,"field-id":1001,"name":"id_bucket","transform":"bucket[4]"}]}},
        {"action":"set-default-spec","spec-id":-1},
        {"action":"add-sort-order","sort-order":{"order-id":9,"fields":[{"source-id":8,"transform":"identity","direction":"desc","null-order":"nulls-last"}]}},
        {"action":"set-default-sort-order","sort-order-id":-1},
        {"action":"add-schema","schema":{"type":"struct","schema-id":3,"fields":[{"id":1,"name":"id","required":true,"type":"long"},{"id":8,"name":"note","required":false,"type":"string"}]}}
      ]`),
      { now: 2000 },
    )
    expect(m.schemas.map((s) => s['schema-id'])).toEqual([0, 1])
    expect(m['current-schema-id']).toBe(1)
    expect(m['last-column-id']).toBe(8)
    expect(m['default-spec-id']).toBe(1)
    expect(m['last-partition-id']).toBe(1001)
    expect(m['default-sort-order-id']).toBe(2)
    expect(m['last-updated-ms']).toBe(2000)
    expect(m0.schemas).toHaveLength(1)
    const r = applyTableUpdates(
      m,
      updates(
        '[{"action":"remove-schemas","schema-ids":[0]},{"action":"remove-partition-specs","spec-ids":[0]}]',
      ),
      {
        now: 3000,
      },
    )
    expect(r.schemas.map((s) => s['schema-id'])).toEqual([1])
    expect(r['partition-specs'].map((s) => s['spec-id'])).toEqual([1])
    expect(
      code(() => applyTableUpdates(m, updates('[{"action":"remove-schemas","schema-ids":[1]}]'), { now: 0 })),
    ).toBe('INVALID_ARGUMENT')
    expect(
      code(() =>
        applyTableUpdates(m, updates('[{"action":"set-current-schema","schema-id":5}]'), { now: 0 }),
      ),
    ).toBe('INVALID_ARGUMENT')
  })

  it('adds snapshots and moves refs: main moves the current snapshot and the snapshot log; 64-bit ids survive; stale sequence numbers are refused', () => {
    const snap = (id: string, parent: string | null, seq: number) =>
      `{"action":"add-snapshot","snapshot":{"snapshot-id":${id},${parent === null ? '' : `"parent-snapshot-id":${parent},`}"sequence-number":${seq},"timestamp-ms":${5000 + seq},"manifest-list":"file:///w/m${seq}.avro","summary":{"operation":"append"},"schema-id":0}}`
    const m1 = applyTableUpdates(
      base(),
      updates(`[${snap('9223372036854775807', null, 1)},
        {"action":"set-snapshot-ref","ref-name":"main","type":"branch","snapshot-id":9223372036854775807},
        {"action":"set-snapshot-ref","ref-name":"audit","type":"tag","snapshot-id":9223372036854775807,"max-ref-age-ms":60000}]`),
      { now: 9000 },
    )
    expect(m1['current-snapshot-id']).toBe(9223372036854775807n)
    expect(m1['last-sequence-number']).toBe(1)
    expect(m1['snapshot-log']).toEqual([{ 'timestamp-ms': 5001, 'snapshot-id': 9223372036854775807n }])
    expect(m1.refs.audit).toEqual({
      'snapshot-id': 9223372036854775807n,
      type: 'tag',
      'max-ref-age-ms': 60000,
    })
    expect(
      code(() => applyTableUpdates(m1, updates(`[${snap('2', '9223372036854775807', 1)}]`), { now: 0 })),
    ).toBe('COMMIT_REQUIREMENT_FAILED')
    expect(
      code(() => applyTableUpdates(m1, updates(`[${snap('9223372036854775807', null, 2)}]`), { now: 0 })),
    ).toBe('INVALID_ARGUMENT')
    const m2 = applyTableUpdates(
      m1,
      updates(`[${snap('2', '9223372036854775807', 2)},{"action":"set-snapshot-ref","ref-name":"main","type":"branch","snapshot-id":2},
        {"action":"set-statistics","statistics":{"snapshot-id":2,"statistics-path":"file:///w/s.puffin","file-size-in-bytes":1,"file-footer-size-in-bytes":1,"blob-metadata":[]}},
        {"action":"set-partition-statistics","partition-statistics":{"snapshot-id":2,"statistics-path":"file:///w/p.parquet","file-size-in-bytes":1}}]`),
      { now: 9000 },
    )
    expect(m2.statistics).toHaveLength(1)
    expect(m2['partition-statistics']).toHaveLength(1)
    const m3 = applyTableUpdates(
      m2,
      updates(
        '[{"action":"remove-snapshot-ref","ref-name":"audit"},{"action":"remove-snapshots","snapshot-ids":[9223372036854775807]}]',
      ),
      { now: 9500 },
    )
    expect(m3.snapshots.map((s) => s['snapshot-id'])).toEqual([2n])
    expect(Object.keys(m3.refs)).toEqual(['main'])
    expect(m3['snapshot-log'].map((e) => e['snapshot-id'])).toEqual([2n])
    const m4 = applyTableUpdates(
      m3,
      updates(
        '[{"action":"remove-statistics","snapshot-id":2},{"action":"remove-partition-statistics","snapshot-id":2},{"action":"remove-snapshot-ref","ref-name":"main"}]',
      ),
      { now: 9600 },
    )
    expect(m4.statistics).toEqual([])
    expect(m4['partition-statistics']).toEqual([])
    expect(m4['current-snapshot-id']).toBeNull()
  })

  it('sets the location, properties, uuid, format version and encryption keys, and refuses a v3 upgrade and a uuid change', () => {
    const m = applyTableUpdates(
      { ...EMPTY_TABLE_METADATA, 'format-version': 1 },
      updates(`[{"action":"assign-uuid","uuid":"u-9"},{"action":"upgrade-format-version","format-version":2},
        {"action":"set-location","location":"file:///w/x/"},{"action":"set-properties","updates":{"a":"1","b":"2"}},
        {"action":"remove-properties","removals":["a"]},
        {"action":"add-encryption-key","encryption-key":{"key-id":"k1","encrypted-key-metadata":"AA=="}},
        {"action":"add-encryption-key","encryption-key":{"key-id":"k2","encrypted-key-metadata":"AQ=="}},
        {"action":"remove-encryption-key","key-id":"k1"}]`),
      { now: 1 },
    )
    expect(m['table-uuid']).toBe('u-9')
    expect(m['format-version']).toBe(2)
    expect(m.location).toBe('file:///w/x')
    expect(m.properties).toEqual({ b: '2' })
    expect(m['encryption-keys']).toEqual([{ 'key-id': 'k2', 'encrypted-key-metadata': 'AQ==' }])
    expect(
      code(() => applyTableUpdates(m, updates('[{"action":"assign-uuid","uuid":"u-8"}]'), { now: 1 })),
    ).toBe('INVALID_ARGUMENT')
    expect(
      code(() =>
        applyTableUpdates(m, updates('[{"action":"upgrade-format-version","format-version":3}]'), { now: 1 }),
      ),
    ).toBe('NOT_SUPPORTED')
    expect(code(() => parseTableUpdate({ action: 'add-view-version' } as never))).toBe('INVALID_ARGUMENT')
  })
})
