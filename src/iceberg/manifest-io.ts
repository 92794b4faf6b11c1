import { TarnError } from '../util/errors.js'
import { type JsonValue, stringifyJsonLossless } from '../util/lossless-json.js'
import { readAvroContainer } from './avro/avro-reader.js'
import type { AvroComplexSchema, AvroField, AvroRecord, AvroSchema, AvroValue } from './avro/avro-schema.js'
import { writeAvroContainer } from './avro/avro-writer.js'
import {
  avroTypeOf,
  decimalFixedSize,
  MANIFEST_LIST_AVRO_SCHEMA,
  MANIFEST_LIST_ICEBERG_SCHEMA,
  manifestEntryAvroSchema,
} from './avro/manifest-avro-schemas.js'
import { bytesToBigInt, type IcebergValue } from './iceberg-value.js'
import type {
  DataFile,
  EntryStatus,
  FieldSummary,
  FileContent,
  ManifestEntry,
  ManifestFile,
} from './manifest.js'
import type { PartitionSpec } from './partition-spec.js'
import { decimalParams, type Schema, type StructType } from './schema.js'

/** Fields of a record schema by field id (falling back to known v1 names when ids are missing). */
function fieldsById(
  schema: AvroSchema,
  names: Readonly<Record<string, number>> = {},
): Map<number, AvroField> {
  const rec = unwrap(schema)
  const out = new Map<number, AvroField>()
  for (const f of rec?.fields ?? []) {
    const id = typeof f['field-id'] === 'number' ? f['field-id'] : names[f.name]
    if (id !== undefined) out.set(id, f)
  }
  return out
}

function unwrap(s: AvroSchema | undefined): AvroComplexSchema | undefined {
  if (s === undefined || typeof s === 'string') return undefined
  if (Array.isArray(s)) return unwrap((s as readonly AvroSchema[]).find((b) => b !== 'null'))
  const c = s as AvroComplexSchema
  if (c.type === 'record' || c.type === 'array' || c.type === 'map' || c.type === 'fixed' || c.logicalType)
    return c
  return typeof c.type === 'string' ? c : unwrap(c.type)
}

const V1_LIST_NAMES: Record<string, number> = {
  manifest_path: 500,
  manifest_length: 501,
  partition_spec_id: 502,
  added_snapshot_id: 503,
  added_data_files_count: 504,
  added_files_count: 504,
  existing_data_files_count: 505,
  existing_files_count: 505,
  deleted_data_files_count: 506,
  deleted_files_count: 506,
  partitions: 507,
  added_rows_count: 512,
  existing_rows_count: 513,
  deleted_rows_count: 514,
  sequence_number: 515,
  min_sequence_number: 516,
  content: 517,
  key_metadata: 519,
}
const ENTRY_NAMES: Record<string, number> = {
  status: 0,
  snapshot_id: 1,
  data_file: 2,
  sequence_number: 3,
  file_sequence_number: 4,
}
const DATA_FILE_NAMES: Record<string, number> = {
  file_path: 100,
  file_format: 101,
  partition: 102,
  record_count: 103,
  file_size_in_bytes: 104,
  column_sizes: 108,
  value_counts: 109,
  null_value_counts: 110,
  lower_bounds: 125,
  upper_bounds: 128,
  key_metadata: 131,
  split_offsets: 132,
  content: 134,
  equality_ids: 135,
  nan_value_counts: 137,
  sort_order_id: 140,
  referenced_data_file: 143,
}

const num = (v: AvroValue | undefined, dflt = 0): number =>
  typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : dflt
const big = (v: AvroValue | undefined): bigint | undefined =>
  typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : undefined

function getter(rec: AvroRecord, fields: Map<number, AvroField>): (id: number) => AvroValue | undefined {
  return (id) => {
    const f = fields.get(id)
    return f === undefined ? undefined : rec[f.name]
  }
}

/**
 * Decodes a manifest list file (v1 or v2; fields resolved by field id, with v1 names as fallback).
 */
export function readManifestList(bytes: Uint8Array): ManifestFile[] {
  const file = readAvroContainer(bytes)
  const fields = fieldsById(file.schema, V1_LIST_NAMES)
  const partFields = fieldsById(unwrap(fields.get(507)?.type)?.items ?? 'null', {
    contains_null: 509,
    contains_nan: 518,
    lower_bound: 510,
    upper_bound: 511,
  })
  return file.records.map((rec) => {
    const g = getter(rec, fields)
    const parts = g(507)
    const partitions = Array.isArray(parts)
      ? (parts as readonly AvroRecord[]).map((p): FieldSummary => {
          const pg = getter(p, partFields)
          const lo = pg(510)
          const hi = pg(511)
          const nan = pg(518)
          return {
            containsNull: pg(509) === true,
            ...(typeof nan === 'boolean' ? { containsNan: nan } : {}),
            ...(lo instanceof Uint8Array ? { lowerBound: lo } : {}),
            ...(hi instanceof Uint8Array ? { upperBound: hi } : {}),
          }
        })
      : undefined
    const km = g(519)
    const m: ManifestFile = {
      manifestPath: String(g(500)),
      manifestLength: num(g(501)),
      partitionSpecId: num(g(502)),
      content: num(g(517)) === 1 ? 1 : 0,
      sequenceNumber: num(g(515)),
      minSequenceNumber: num(g(516)),
      addedSnapshotId: big(g(503)) ?? 0n,
      addedFilesCount: num(g(504)),
      existingFilesCount: num(g(505)),
      deletedFilesCount: num(g(506)),
      addedRowsCount: num(g(512)),
      existingRowsCount: num(g(513)),
      deletedRowsCount: num(g(514)),
      ...(partitions ? { partitions } : {}),
      ...(km instanceof Uint8Array ? { keyMetadata: km } : {}),
    }
    return m
  })
}

function readIntMap(v: AvroValue | undefined): Map<number, number> | undefined {
  if (!Array.isArray(v)) return undefined
  return new Map((v as readonly AvroRecord[]).map((kv) => [num(kv.key), num(kv.value)]))
}
function readBytesMap(v: AvroValue | undefined): Map<number, Uint8Array> | undefined {
  if (!Array.isArray(v)) return undefined
  const out = new Map<number, Uint8Array>()
  for (const kv of v as readonly AvroRecord[])
    if (kv.value instanceof Uint8Array) out.set(num(kv.key), kv.value)
  return out
}

/**
 * A decoded manifest: its entries (before inheritance) and the facts of its header.
 */
export interface ManifestContents {
  readonly entries: readonly ManifestEntry[]
  readonly content: 'data' | 'deletes'
  readonly formatVersion: number
}

/**
 * Decodes a manifest file. Partition values are keyed by partition field id (from the Avro `field-id` attributes, or
 * by position in `spec` when the writer left them out); decimals become unscaled bigints.
 */
export function readManifest(bytes: Uint8Array, spec?: PartitionSpec): ManifestContents {
  const file = readAvroContainer(bytes)
  const fields = fieldsById(file.schema, ENTRY_NAMES)
  const dfSchema = fields.get(2)?.type
  const dfFields = fieldsById(dfSchema ?? 'null', DATA_FILE_NAMES)
  const partSchema = unwrap(dfFields.get(102)?.type)
  const partAvroFields = partSchema?.fields ?? []
  const partIds = partAvroFields.map((f, i) =>
    typeof f['field-id'] === 'number' ? f['field-id'] : (spec?.fields[i]?.['field-id'] ?? 1000 + i),
  )
  const partConverters = partAvroFields.map((f) => {
    const t = unwrap(f.type)
    if (t?.logicalType === 'decimal')
      return (v: AvroValue): IcebergValue => (v instanceof Uint8Array ? bytesToBigInt(v) : null)
    return (v: AvroValue): IcebergValue => v as IcebergValue
  })
  const formatVersion = Number(file.metadata['format-version'] ?? (fields.has(3) ? 2 : 1))
  const entries = file.records.map((rec): ManifestEntry => {
    const g = getter(rec, fields)
    const df = g(2) as AvroRecord
    const dg = getter(df, dfFields)
    const prec = (dg(102) ?? {}) as AvroRecord
    const partition = new Map<number, IcebergValue>()
    partAvroFields.forEach((f, i) => {
      const v = prec[f.name]
      partition.set(
        partIds[i] ?? 1000 + i,
        v === undefined || v === null ? null : (partConverters[i]?.(v) ?? null),
      )
    })
    const eq = dg(135)
    const so = dg(140)
    const rdf = dg(143)
    const km = dg(131)
    const split = dg(132)
    const content = num(dg(134)) as FileContent
    const optMap = <T>(k: string, m: Map<number, T> | undefined): Record<string, Map<number, T>> =>
      m ? { [k]: m } : {}
    const dataFile: DataFile = {
      content,
      filePath: String(dg(100)),
      fileFormat: String(dg(101) ?? 'PARQUET'),
      partition,
      recordCount: num(dg(103)),
      fileSizeInBytes: num(dg(104)),
      ...optMap('columnSizes', readIntMap(dg(108))),
      ...optMap('valueCounts', readIntMap(dg(109))),
      ...optMap('nullValueCounts', readIntMap(dg(110))),
      ...optMap('nanValueCounts', readIntMap(dg(137))),
      ...optMap('lowerBounds', readBytesMap(dg(125))),
      ...optMap('upperBounds', readBytesMap(dg(128))),
      ...(km instanceof Uint8Array ? { keyMetadata: km } : {}),
      ...(Array.isArray(split)
        ? { splitOffsets: (split as readonly AvroValue[]).map((x) => big(x) ?? 0n) }
        : {}),
      ...(Array.isArray(eq) ? { equalityIds: (eq as readonly AvroValue[]).map((x) => num(x)) } : {}),
      ...(typeof so === 'number' ? { sortOrderId: so } : {}),
      ...(typeof rdf === 'string' ? { referencedDataFile: rdf } : {}),
    }
    const sid = big(g(1))
    const seq = g(3)
    const fseq = g(4)
    return {
      status: num(g(0)) as EntryStatus,
      ...(sid === undefined ? {} : { snapshotId: sid }),
      ...(seq === null || seq === undefined ? {} : { sequenceNumber: num(seq) }),
      ...(fseq === null || fseq === undefined ? {} : { fileSequenceNumber: num(fseq) }),
      dataFile,
    }
  })
  const content = file.metadata.content === 'deletes' ? 'deletes' : 'data'
  return { entries, content, formatVersion }
}

const toMapArray = (m: ReadonlyMap<number, number | Uint8Array> | undefined, asLong: boolean): AvroValue =>
  m === undefined
    ? null
    : [...m].map(([key, value]) => ({
        key,
        value: asLong && typeof value === 'number' ? BigInt(value) : value,
      }))

function partitionAvroValue(type: string, v: IcebergValue): AvroValue {
  if (v === null) return null
  const dec = decimalParams(type)
  if (dec) {
    const size = decimalFixedSize(dec.precision)
    const out = new Uint8Array(size)
    let x = BigInt.asUintN(size * 8, BigInt(v as bigint))
    for (let i = size - 1; i >= 0; i--) {
      out[i] = Number(x & 0xffn)
      x >>= 8n
    }
    return out
  }
  if (type === 'long' || type === 'time' || type.startsWith('timestamp')) return BigInt(v as bigint | number)
  return v
}

/**
 * What {@link writeManifest} needs.
 */
export interface ManifestWriteInput {
  readonly entries: readonly ManifestEntry[]
  /** The table schema the files were written with (for the `schema` header key). */
  readonly schema: Schema
  readonly spec: PartitionSpec
  /** The partition struct type of `spec` over `schema`. */
  readonly partition: StructType
  readonly content: 'data' | 'deletes'
  readonly syncMarker: Uint8Array
}

/**
 * Encodes a v2 manifest (Avro, deflate) whose header carries the Avro schema with field ids and the Iceberg header
 * keys `schema`, `schema-id`, `partition-spec`, `partition-spec-id`, `format-version`, `content`.
 */
export function writeManifest(input: ManifestWriteInput): Uint8Array {
  const schema = manifestEntryAvroSchema(input.partition)
  const records = input.entries.map((e): AvroValue => {
    const f = e.dataFile
    const partition: Record<string, AvroValue> = {}
    for (const pf of input.partition.fields) {
      partition[pf.name] = partitionAvroValue(String(pf.type), f.partition.get(pf.id) ?? null)
    }
    return {
      status: e.status,
      snapshot_id: e.snapshotId ?? null,
      sequence_number: e.sequenceNumber === undefined ? null : BigInt(e.sequenceNumber),
      file_sequence_number: e.fileSequenceNumber === undefined ? null : BigInt(e.fileSequenceNumber),
      data_file: {
        content: f.content,
        file_path: f.filePath,
        file_format: f.fileFormat,
        partition,
        record_count: BigInt(f.recordCount),
        file_size_in_bytes: BigInt(f.fileSizeInBytes),
        column_sizes: toMapArray(f.columnSizes, true),
        value_counts: toMapArray(f.valueCounts, true),
        null_value_counts: toMapArray(f.nullValueCounts, true),
        nan_value_counts: toMapArray(f.nanValueCounts, true),
        lower_bounds: toMapArray(f.lowerBounds, false),
        upper_bounds: toMapArray(f.upperBounds, false),
        key_metadata: f.keyMetadata ?? null,
        split_offsets: f.splitOffsets ? [...f.splitOffsets] : null,
        equality_ids: f.equalityIds ? [...f.equalityIds] : null,
        sort_order_id: f.sortOrderId ?? null,
        referenced_data_file: f.referencedDataFile ?? null,
      },
    }
  })
  return writeAvroContainer({
    schema,
    records,
    syncMarker: input.syncMarker,
    metadata: {
      schema: stringifyJsonLossless(input.schema as unknown as JsonValue),
      'schema-id': String(input.schema['schema-id']),
      'partition-spec': stringifyJsonLossless(input.spec.fields as unknown as JsonValue),
      'partition-spec-id': String(input.spec['spec-id']),
      'format-version': '2',
      content: input.content,
    },
  })
}

/**
 * Encodes a v2 manifest list (Avro, deflate) with the header keys `snapshot-id`, `parent-snapshot-id`,
 * `sequence-number`, `format-version` and the Iceberg schema in `iceberg.schema`.
 */
export function writeManifestList(input: {
  readonly manifests: readonly ManifestFile[]
  readonly snapshotId: bigint
  readonly parentSnapshotId: bigint | null
  readonly sequenceNumber: number
  readonly syncMarker: Uint8Array
}): Uint8Array {
  const records = input.manifests.map(
    (m): AvroValue => ({
      manifest_path: m.manifestPath,
      manifest_length: BigInt(m.manifestLength),
      partition_spec_id: m.partitionSpecId,
      content: m.content,
      sequence_number: BigInt(m.sequenceNumber),
      min_sequence_number: BigInt(m.minSequenceNumber),
      added_snapshot_id: m.addedSnapshotId,
      added_files_count: m.addedFilesCount,
      existing_files_count: m.existingFilesCount,
      deleted_files_count: m.deletedFilesCount,
      added_rows_count: BigInt(m.addedRowsCount),
      existing_rows_count: BigInt(m.existingRowsCount),
      deleted_rows_count: BigInt(m.deletedRowsCount),
      partitions: m.partitions
        ? m.partitions.map((p) => ({
            contains_null: p.containsNull,
            contains_nan: p.containsNan ?? null,
            lower_bound: p.lowerBound ?? null,
            upper_bound: p.upperBound ?? null,
          }))
        : null,
      key_metadata: m.keyMetadata ?? null,
    }),
  )
  return writeAvroContainer({
    schema: MANIFEST_LIST_AVRO_SCHEMA,
    records,
    syncMarker: input.syncMarker,
    metadata: {
      'snapshot-id': input.snapshotId.toString(),
      'parent-snapshot-id': input.parentSnapshotId === null ? 'null' : input.parentSnapshotId.toString(),
      'sequence-number': String(input.sequenceNumber),
      'format-version': '2',
      'iceberg.schema': JSON.stringify(MANIFEST_LIST_ICEBERG_SCHEMA as unknown as JsonValue),
    },
  })
}

/** Re-exported for writers that build partition Avro types. */
export { avroTypeOf }

/**
 * Throws unless `bytes` is an Avro file whose header schema carries `field-id` attributes.
 */
export function assertHasFieldIds(bytes: Uint8Array): void {
  const f = readAvroContainer(bytes)
  if (!JSON.stringify(f.schema).includes('"field-id"')) {
    throw new TarnError('INTERNAL', 'Avro header schema has no field-id attributes')
  }
}
