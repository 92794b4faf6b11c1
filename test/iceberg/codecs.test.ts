import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  type AvroRecord,
  type AvroSchema,
  applyTransform,
  boundsMightMatch,
  type DataFile,
  decodeSingleValue,
  encodeSingleValue,
  icebergHash,
  parseJsonLossless,
  parseTableMetadata,
  parseTransform,
  partitionMightMatch,
  readAvroContainer,
  readManifestList,
  type Schema,
  serializeTableMetadata,
  stringifyJsonLossless,
  toIcebergValue,
  writeAvroContainer,
  writeManifestList,
} from '../../src/iceberg/index.js'
import { seededRandom } from '../../src/util/random.js'
import { FOREIGN_TABLES } from './helpers.js'

const rng = seededRandom(1)

describe('lossless JSON and table metadata', () => {
  it('keeps integers above 2^53 exact through parse and stringify', () => {
    const text = '{"a":9158179788527662767,"b":-9223372036854775808,"c":1.5,"d":[1,"x",null,true]}'
    const v = parseJsonLossless(text)
    expect(v).toEqual({ a: 9158179788527662767n, b: -9223372036854775808n, c: 1.5, d: [1, 'x', null, true] })
    expect(stringifyJsonLossless(v)).toBe(text)
  })

  it('round-trips table metadata with 64-bit snapshot ids', async () => {
    const { readFile } = await import('node:fs/promises')
    const text = await readFile(join(FOREIGN_TABLES, 'java/bunnies/metadata/v5.metadata.json'), 'utf8')
    const m = parseTableMetadata(text)
    expect(m['current-snapshot-id']).toBe(9158179788527662767n)
    expect(m.snapshots[2]?.['parent-snapshot-id']).toBe(6458828015811002920n)
    const again = parseTableMetadata(serializeTableMetadata(m))
    expect(again).toEqual(m)
    expect(serializeTableMetadata(m)).toContain('"current-snapshot-id": 9158179788527662767')
  })

  it('reads gzipped v1 metadata as the v2 shape', async () => {
    const { gzipSync } = await import('node:zlib')
    const v1 = {
      'format-version': 1,
      location: 's3://b/t',
      'last-updated-ms': 1,
      'last-column-id': 2,
      schema: { type: 'struct', fields: [{ id: 1, name: 'id', required: true, type: 'long' }] },
      'partition-spec': [{ name: 'id', transform: 'identity', 'source-id': 1 }],
      'current-snapshot-id': -1,
    }
    const m = parseTableMetadata(gzipSync(Buffer.from(JSON.stringify(v1))))
    expect(m['current-snapshot-id']).toBeNull()
    expect(m['format-version']).toBe(1)
    expect(m.schemas[0]?.['schema-id']).toBe(0)
    expect(m['partition-specs']).toEqual([
      { 'spec-id': 0, fields: [{ name: 'id', transform: 'identity', 'source-id': 1, 'field-id': 1000 }] },
    ])
  })
})

describe('Avro codec', () => {
  it('round-trips records with 63-bit longs, unions, arrays, maps and bytes', () => {
    const schema: AvroSchema = {
      type: 'record',
      name: 'r',
      fields: [
        { name: 'id', type: 'long', 'field-id': 1 },
        { name: 'opt', type: ['null', 'long'], default: null, 'field-id': 2 },
        { name: 's', type: 'string', 'field-id': 3 },
        { name: 'xs', type: { type: 'array', items: 'int', 'element-id': 5 }, 'field-id': 4 },
        { name: 'm', type: { type: 'map', values: 'double' }, 'field-id': 6 },
        { name: 'b', type: 'bytes', 'field-id': 7 },
        { name: 'f', type: 'float', 'field-id': 8 },
        { name: 'flag', type: 'boolean', 'field-id': 9 },
      ],
    }
    const records: AvroRecord[] = [
      {
        id: 9223372036854775807n,
        opt: null,
        s: 'héllo',
        xs: [1, -2, 300],
        m: { a: 1.5 },
        b: new Uint8Array([0, 255]),
        f: 0.5,
        flag: true,
      },
      {
        id: -9223372036854775808n,
        opt: 9158179788527662767n,
        s: '',
        xs: [],
        m: {},
        b: new Uint8Array(),
        f: -2,
        flag: false,
      },
    ]
    for (const codec of ['null', 'deflate'] as const) {
      const bytes = writeAvroContainer({
        schema,
        records,
        syncMarker: rng.bytes(16),
        codec,
        metadata: { k: 'v' },
      })
      const file = readAvroContainer(bytes)
      expect(file.records).toEqual(records)
      expect(file.metadata.k).toBe('v')
      expect(file.metadata['avro.codec']).toBe(codec)
      expect(file.schema).toEqual(schema)
    }
  })

  it('writes manifest lists whose header schema carries field-id attributes', () => {
    const bytes = writeManifestList({
      manifests: [
        {
          manifestPath: 'file:///t/metadata/a-m0.avro',
          manifestLength: 100,
          partitionSpecId: 0,
          content: 0,
          sequenceNumber: 3,
          minSequenceNumber: 1,
          addedSnapshotId: 9158179788527662767n,
          addedFilesCount: 1,
          existingFilesCount: 0,
          deletedFilesCount: 0,
          addedRowsCount: 10,
          existingRowsCount: 0,
          deletedRowsCount: 0,
          partitions: [{ containsNull: false, lowerBound: new Uint8Array([1, 0, 0, 0]) }],
        },
      ],
      snapshotId: 9158179788527662767n,
      parentSnapshotId: null,
      sequenceNumber: 3,
      syncMarker: rng.bytes(16),
    })
    const file = readAvroContainer(bytes)
    expect(JSON.stringify(file.schema)).toContain('"field-id":500')
    expect(JSON.stringify(file.schema)).toContain('"element-id":508')
    expect(file.metadata['snapshot-id']).toBe('9158179788527662767')
    const [m] = readManifestList(bytes)
    expect(m?.addedSnapshotId).toBe(9158179788527662767n)
    expect(m?.partitions?.[0]?.lowerBound).toEqual(new Uint8Array([1, 0, 0, 0]))
  })
})

describe('transforms and single values', () => {
  it('hashes the spec example values', () => {
    expect(icebergHash('int', 34)).toBe(2017239379)
    expect(icebergHash('long', 34n)).toBe(2017239379)
    expect(icebergHash('decimal(9, 2)', toIcebergValue('decimal(9, 2)', '14.20'))).toBe(-500754589)
    expect(icebergHash('date', toIcebergValue('date', '2017-11-16'))).toBe(-653330422)
    expect(icebergHash('time', toIcebergValue('time', '22:31:08'))).toBe(-662762989)
    expect(icebergHash('timestamp', toIcebergValue('timestamp', '2017-11-16T22:31:08'))).toBe(-2047944441)
    expect(icebergHash('timestamptz', toIcebergValue('timestamptz', '2017-11-16T14:31:08-08:00'))).toBe(
      -2047944441,
    )
    expect(icebergHash('string', 'iceberg')).toBe(1210000089)
    expect(icebergHash('uuid', toIcebergValue('uuid', 'f79c3e09-677c-4bbd-a479-3f349cb785e7'))).toBe(
      1488055340,
    )
    expect(icebergHash('binary', new Uint8Array([0, 1, 2, 3]))).toBe(-188683207)
  })

  it('buckets and truncates like the spec', () => {
    expect(applyTransform(parseTransform('bucket[16]'), 'int', 34)).toBe(3)
    expect(applyTransform(parseTransform('bucket[16]'), 'string', 'iceberg')).toBe(9)
    expect(applyTransform(parseTransform('truncate[10]'), 'int', 1)).toBe(0)
    expect(applyTransform(parseTransform('truncate[10]'), 'int', -1)).toBe(-10)
    expect(applyTransform(parseTransform('truncate[10]'), 'long', 1n)).toBe(0n)
    expect(applyTransform(parseTransform('truncate[50]'), 'decimal(9, 2)', 1065n)).toBe(1050n)
    expect(applyTransform(parseTransform('truncate[3]'), 'string', 'iceberg')).toBe('ice')
  })

  it('computes temporal transforms from the epoch', () => {
    const ts = toIcebergValue('timestamp', '2017-11-16T22:31:08')
    expect(applyTransform(parseTransform('year'), 'timestamp', ts)).toBe(47)
    expect(applyTransform(parseTransform('month'), 'timestamp', ts)).toBe(47 * 12 + 10)
    expect(applyTransform(parseTransform('day'), 'timestamp', ts)).toBe(17486)
    expect(applyTransform(parseTransform('hour'), 'timestamp', ts)).toBe(17486 * 24 + 22)
    expect(
      applyTransform(parseTransform('day'), 'timestamp', toIcebergValue('timestamp', '1969-12-31 23:00:00')),
    ).toBe(-1)
    expect(applyTransform(parseTransform('year'), 'date', toIcebergValue('date', '1969-06-01'))).toBe(-1)
  })

  it('encodes bounds in the binary single-value form', () => {
    expect(encodeSingleValue('int', 1)).toEqual(new Uint8Array([1, 0, 0, 0]))
    expect(encodeSingleValue('long', 1n)).toEqual(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]))
    expect(encodeSingleValue('decimal(9, 2)', 1420n)).toEqual(new Uint8Array([0x05, 0x8c]))
    expect(encodeSingleValue('decimal(9, 2)', -1n)).toEqual(new Uint8Array([0xff]))
    expect(encodeSingleValue('string', 'é')).toEqual(new Uint8Array([0xc3, 0xa9]))
    for (const [t, v] of [
      ['double', 2.5],
      ['float', -1.5],
      ['date', 17486],
      ['timestamp', 1510871468000000n],
      ['boolean', true],
      ['decimal(38, 0)', -12345678901234567890n],
    ] as const) {
      expect(decodeSingleValue(t, encodeSingleValue(t, v))).toEqual(v)
    }
  })
})

describe('file pruning', () => {
  const schema: Schema = {
    type: 'struct',
    'schema-id': 0,
    fields: [
      { id: 1, name: 'id', required: false, type: 'int' },
      { id: 2, name: 'day', required: false, type: 'date' },
    ],
  }
  const spec = {
    'spec-id': 0,
    fields: [
      { 'source-id': 1, 'field-id': 1000, name: 'id_bucket', transform: 'bucket[4]' },
      { 'source-id': 2, 'field-id': 1001, name: 'day', transform: 'identity' },
    ],
  }
  const file = (bucket: number, day: string | null, lo: number, hi: number): DataFile => ({
    content: 0,
    filePath: 'x',
    fileFormat: 'PARQUET',
    partition: new Map([
      [1000, bucket],
      [1001, day === null ? null : toIcebergValue('date', day)],
    ]),
    recordCount: 10,
    fileSizeInBytes: 100,
    nullValueCounts: new Map([[1, 0]]),
    valueCounts: new Map([[1, 10]]),
    lowerBounds: new Map([[1, encodeSingleValue('int', lo)]]),
    upperBounds: new Map([[1, encodeSingleValue('int', hi)]]),
  })

  it('keeps only files whose partition can match', () => {
    const files = [file(0, '2022-01-01', 0, 9), file(1, '2022-01-02', 10, 19), file(3, null, 20, 29)]
    const keep = (f: Parameters<typeof partitionMightMatch>[3]) =>
      files.map((x) => partitionMightMatch(x, spec, schema, f))
    expect(keep({ op: 'eq', column: 'day', value: '2022-01-02' })).toEqual([false, true, false])
    expect(keep({ op: 'isNull', column: 'day' })).toEqual([false, false, true])
    expect(keep({ op: 'gte', column: 'day', value: '2022-01-02' })).toEqual([false, true, false])
    const bucketOf34 = applyTransform(parseTransform('bucket[4]'), 'int', 34)
    expect(keep({ op: 'eq', column: 'id', value: 34 })).toEqual(
      files.map((f) => f.partition.get(1000) === bucketOf34),
    )
  })

  it('keeps only files whose column bounds can match', () => {
    const files = [file(0, '2022-01-01', 0, 9), file(1, '2022-01-02', 10, 19)]
    expect(files.map((f) => boundsMightMatch(f, schema, { op: 'eq', column: 'id', value: 12 }))).toEqual([
      false,
      true,
    ])
    expect(files.map((f) => boundsMightMatch(f, schema, { op: 'lt', column: 'id', value: 10 }))).toEqual([
      true,
      false,
    ])
    expect(files.map((f) => boundsMightMatch(f, schema, { op: 'gt', column: 'id', value: 9 }))).toEqual([
      false,
      true,
    ])
    expect(files.map((f) => boundsMightMatch(f, schema, { op: 'isNull', column: 'id' }))).toEqual([
      false,
      false,
    ])
  })
})
