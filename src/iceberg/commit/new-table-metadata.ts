import { TarnError } from '../../util/errors.js'
import type { PartitionSpec, SortOrder } from '../partition-spec.js'
import {
  type IcebergType,
  isListType,
  isMapType,
  isStructType,
  type NestedField,
  type Schema,
} from '../schema.js'
import type { TableMetadata } from '../table-metadata.js'

/**
 * What a new table is made of (the REST spec's `CreateTableRequest`, minus the name): ids in the schema, spec and
 * sort order may be anything consistent; {@link newTableMetadata} assigns fresh ones.
 */
export interface NewTable {
  readonly schema: Schema
  readonly location: string
  readonly partitionSpec?: PartitionSpec
  readonly sortOrder?: SortOrder
  readonly properties?: Readonly<Record<string, string>>
}

/**
 * Gives every field of a schema a fresh id, 1, 2, ... as Iceberg does on create: the fields of a struct first, then
 * what each of them holds (list elements, map keys and values, nested structs). Returns the new schema (id 0) and the
 * map from old to new ids.
 */
export function freshSchemaIds(schema: Schema): {
  schema: Schema
  ids: ReadonlyMap<number, number>
  last: number
} {
  let next = 0
  const ids = new Map<number, number>()
  const assign = (old: number): number => {
    next += 1
    ids.set(old, next)
    return next
  }
  const visit = (t: IcebergType): IcebergType => {
    if (isStructType(t)) {
      const newIds = t.fields.map((f) => assign(f.id))
      return {
        ...t,
        fields: t.fields.map((f, i): NestedField => ({ ...f, id: newIds[i] as number, type: visit(f.type) })),
      }
    }
    if (isListType(t)) {
      const id = assign(t['element-id'])
      return { ...t, 'element-id': id, element: visit(t.element) }
    }
    if (isMapType(t)) {
      const k = assign(t['key-id'])
      const v = assign(t['value-id'])
      return { ...t, 'key-id': k, 'value-id': v, key: visit(t.key), value: visit(t.value) }
    }
    return t
  }
  const fields = (visit({ type: 'struct', fields: schema.fields }) as Schema).fields
  const identifiers = schema['identifier-field-ids']
  return {
    schema: {
      type: 'struct',
      'schema-id': 0,
      fields,
      ...(identifiers ? { 'identifier-field-ids': identifiers.map((i) => ids.get(i) ?? i) } : {}),
    },
    ids,
    last: next,
  }
}

/**
 * Metadata of a new, empty table (format v2, or `format-version` from the properties): fresh field ids, partition
 * field ids from 1000, spec 0, sort order 1 (or 0 when unsorted), no snapshot. `INVALID_ARGUMENT` when a partition or
 * sort field names a column the schema does not have.
 */
export function newTableMetadata(
  t: NewTable,
  o: { readonly uuid: string; readonly now: number },
): TableMetadata {
  const { schema, ids, last } = freshSchemaIds(t.schema)
  const source = (old: number, what: string): number => {
    const id = ids.get(old)
    if (id === undefined) {
      throw new TarnError(
        'INVALID_ARGUMENT',
        `the ${what} names source column ${old}, which the schema lacks`,
        {
          sourceId: old,
        },
      )
    }
    return id
  }
  const specFields = (t.partitionSpec?.fields ?? []).map((f, i) => ({
    ...f,
    'source-id': source(f['source-id'], 'partition spec'),
    'field-id': 1000 + i,
  }))
  const orderFields = (t.sortOrder?.fields ?? []).map((f) => ({
    ...f,
    'source-id': source(f['source-id'], 'sort order'),
  }))
  const { 'format-version': fv, ...properties } = t.properties ?? {}
  const formatVersion = fv === undefined ? 2 : Number(fv)
  if (formatVersion !== 1 && formatVersion !== 2) {
    throw new TarnError('NOT_SUPPORTED', `format version ${fv} is not supported: tarn writes v1 and v2`, {
      formatVersion: String(fv),
    })
  }
  const orderId = orderFields.length === 0 ? 0 : 1
  return {
    'format-version': formatVersion,
    'table-uuid': o.uuid,
    location: t.location.replace(/\/+$/, ''),
    'last-sequence-number': 0,
    'last-updated-ms': o.now,
    'last-column-id': last,
    schemas: [schema],
    'current-schema-id': 0,
    'partition-specs': [{ 'spec-id': 0, fields: specFields }],
    'default-spec-id': 0,
    'last-partition-id': 999 + specFields.length,
    properties,
    'current-snapshot-id': null,
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
    'sort-orders': [{ 'order-id': orderId, fields: orderFields }],
    'default-sort-order-id': orderId,
    refs: {},
  }
}
