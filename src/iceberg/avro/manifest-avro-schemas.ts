import { TarnError } from '../../util/errors.js'
import type { PartitionSpec } from '../partition-spec.js'
import { decimalParams, fixedLength, type IcebergType, type StructType } from '../schema.js'
import { parseTransform, transformResultType } from '../transforms.js'
import type { AvroField, AvroSchema } from './avro-schema.js'

const opt = (name: string, type: AvroSchema, id: number, doc?: string): AvroField => ({
  name,
  type: ['null', type],
  ...(doc ? { doc } : {}),
  default: null,
  'field-id': id,
})
const req = (name: string, type: AvroSchema, id: number, doc?: string): AvroField => ({
  name,
  type,
  ...(doc ? { doc } : {}),
  'field-id': id,
})
const mapOf = (keyId: number, valueId: number, value: AvroSchema): AvroSchema => ({
  type: 'array',
  items: {
    type: 'record',
    name: `k${keyId}_v${valueId}`,
    fields: [
      { name: 'key', type: 'int', 'field-id': keyId },
      { name: 'value', type: value, 'field-id': valueId },
    ],
  },
  logicalType: 'map',
})

/**
 * The Avro schema of a v2 manifest list (the shape Java Iceberg 1.8 writes, with field ids).
 */
export const MANIFEST_LIST_AVRO_SCHEMA: AvroSchema = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    req('manifest_path', 'string', 500, 'Location URI with FS scheme'),
    req('manifest_length', 'long', 501, 'Total file size in bytes'),
    req('partition_spec_id', 'int', 502, 'Spec ID used to write'),
    req('content', 'int', 517, 'Contents of the manifest: 0=data, 1=deletes'),
    req('sequence_number', 'long', 515, 'Sequence number when the manifest was added'),
    req('min_sequence_number', 'long', 516, 'Lowest sequence number in the manifest'),
    req('added_snapshot_id', 'long', 503, 'Snapshot ID that added the manifest'),
    req('added_files_count', 'int', 504, 'Added entry count'),
    req('existing_files_count', 'int', 505, 'Existing entry count'),
    req('deleted_files_count', 'int', 506, 'Deleted entry count'),
    req('added_rows_count', 'long', 512, 'Added rows count'),
    req('existing_rows_count', 'long', 513, 'Existing rows count'),
    req('deleted_rows_count', 'long', 514, 'Deleted rows count'),
    opt(
      'partitions',
      {
        type: 'array',
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            req('contains_null', 'boolean', 509, 'True if any file has a null partition value'),
            opt('contains_nan', 'boolean', 518, 'True if any file has a nan partition value'),
            opt('lower_bound', 'bytes', 510, 'Partition lower bound for all files'),
            opt('upper_bound', 'bytes', 511, 'Partition upper bound for all files'),
          ],
        },
        'element-id': 508,
      },
      507,
      'Summary for each partition',
    ),
    opt('key_metadata', 'bytes', 519, 'Encryption key metadata blob'),
  ],
}

/**
 * The Iceberg schema (JSON) of the manifest list, for the `iceberg.schema` header key.
 */
export const MANIFEST_LIST_ICEBERG_SCHEMA: StructType & { 'schema-id': number } = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 500, name: 'manifest_path', required: true, type: 'string' },
    { id: 501, name: 'manifest_length', required: true, type: 'long' },
    { id: 502, name: 'partition_spec_id', required: true, type: 'int' },
    { id: 517, name: 'content', required: true, type: 'int' },
    { id: 515, name: 'sequence_number', required: true, type: 'long' },
    { id: 516, name: 'min_sequence_number', required: true, type: 'long' },
    { id: 503, name: 'added_snapshot_id', required: true, type: 'long' },
    { id: 504, name: 'added_files_count', required: true, type: 'int' },
    { id: 505, name: 'existing_files_count', required: true, type: 'int' },
    { id: 506, name: 'deleted_files_count', required: true, type: 'int' },
    { id: 512, name: 'added_rows_count', required: true, type: 'long' },
    { id: 513, name: 'existing_rows_count', required: true, type: 'long' },
    { id: 514, name: 'deleted_rows_count', required: true, type: 'long' },
    {
      id: 507,
      name: 'partitions',
      required: false,
      type: {
        type: 'list',
        'element-id': 508,
        'element-required': true,
        element: {
          type: 'struct',
          fields: [
            { id: 509, name: 'contains_null', required: true, type: 'boolean' },
            { id: 518, name: 'contains_nan', required: false, type: 'boolean' },
            { id: 510, name: 'lower_bound', required: false, type: 'binary' },
            { id: 511, name: 'upper_bound', required: false, type: 'binary' },
          ],
        },
      },
    },
    { id: 519, name: 'key_metadata', required: false, type: 'binary' },
  ],
}

/**
 * Bytes needed to store a decimal of the given precision as fixed.
 */
export function decimalFixedSize(precision: number): number {
  let n = 1
  while (2n ** BigInt(8 * n - 1) <= 10n ** BigInt(precision)) n++
  return n
}

/**
 * The Avro schema of an Iceberg primitive type (with logical types); `uniq` names fixed types.
 */
export function avroTypeOf(t: IcebergType, uniq: string): AvroSchema {
  if (typeof t !== 'string')
    throw new TarnError('INVALID_ARGUMENT', 'Nested partition types are not supported')
  const dec = decimalParams(t)
  if (dec) {
    return {
      type: 'fixed',
      name: `decimal_${uniq}`,
      size: decimalFixedSize(dec.precision),
      logicalType: 'decimal',
      precision: dec.precision,
      scale: dec.scale,
    }
  }
  const fl = fixedLength(t)
  if (fl !== undefined) return { type: 'fixed', name: `fixed_${uniq}`, size: fl }
  switch (t) {
    case 'boolean':
    case 'int':
    case 'long':
    case 'float':
    case 'double':
    case 'string':
      return t
    case 'binary':
      return 'bytes'
    case 'date':
      return { type: 'int', logicalType: 'date' }
    case 'time':
      return { type: 'long', logicalType: 'time-micros' }
    case 'timestamp':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': false }
    case 'timestamptz':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': true }
    case 'uuid':
      return { type: 'fixed', name: `uuid_${uniq}`, size: 16, logicalType: 'uuid' }
  }
  throw new TarnError('INVALID_ARGUMENT', `Unsupported Iceberg type ${t}`)
}

/**
 * The Iceberg partition type (struct of transform results) of a spec over a schema.
 */
export function partitionType(spec: PartitionSpec, schema: StructType): StructType {
  return {
    type: 'struct',
    fields: spec.fields.map((f) => {
      const src = schema.fields.find((x) => x.id === f['source-id'])
      const srcType: IcebergType = src?.type ?? 'int'
      return {
        id: f['field-id'],
        name: f.name,
        required: false,
        type: transformResultType(parseTransform(f.transform), srcType),
      }
    }),
  }
}

/**
 * The Avro schema of a v2 manifest for a partition type (the shape Java Iceberg 1.8 writes, with field ids).
 */
export function manifestEntryAvroSchema(partition: StructType): AvroSchema {
  const partitionRecord: AvroSchema = {
    type: 'record',
    name: 'r102',
    fields: partition.fields.map((f) => opt(f.name, avroTypeOf(f.type, String(f.id)), f.id)),
  }
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      req('status', 'int', 0),
      opt('snapshot_id', 'long', 1),
      opt('sequence_number', 'long', 3),
      opt('file_sequence_number', 'long', 4),
      req(
        'data_file',
        {
          type: 'record',
          name: 'r2',
          fields: [
            req(
              'content',
              'int',
              134,
              'Contents of the file: 0=data, 1=position deletes, 2=equality deletes',
            ),
            req('file_path', 'string', 100, 'Location URI with FS scheme'),
            req('file_format', 'string', 101, 'File format name: avro, orc, or parquet'),
            req(
              'partition',
              partitionRecord,
              102,
              'Partition data tuple, schema based on the partition spec',
            ),
            req('record_count', 'long', 103, 'Number of records in the file'),
            req('file_size_in_bytes', 'long', 104, 'Total file size in bytes'),
            opt('column_sizes', mapOf(117, 118, 'long'), 108, 'Map of column id to total size on disk'),
            opt(
              'value_counts',
              mapOf(119, 120, 'long'),
              109,
              'Map of column id to total count, including null and NaN',
            ),
            opt('null_value_counts', mapOf(121, 122, 'long'), 110, 'Map of column id to null value count'),
            opt(
              'nan_value_counts',
              mapOf(138, 139, 'long'),
              137,
              'Map of column id to number of NaN values in the column',
            ),
            opt('lower_bounds', mapOf(126, 127, 'bytes'), 125, 'Map of column id to lower bound'),
            opt('upper_bounds', mapOf(129, 130, 'bytes'), 128, 'Map of column id to upper bound'),
            opt('key_metadata', 'bytes', 131, 'Encryption key metadata blob'),
            opt(
              'split_offsets',
              { type: 'array', items: 'long', 'element-id': 133 },
              132,
              'Splittable offsets',
            ),
            opt(
              'equality_ids',
              { type: 'array', items: 'int', 'element-id': 136 },
              135,
              'Equality comparison field IDs',
            ),
            opt('sort_order_id', 'int', 140, 'Sort order ID'),
            opt(
              'referenced_data_file',
              'string',
              143,
              'Fully qualified location (URI with FS scheme) of a data file that all deletes reference',
            ),
          ],
        },
        2,
      ),
    ],
  }
}
