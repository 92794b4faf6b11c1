import { gunzipSync } from 'node:zlib'
import { TarnError } from '../util/errors.js'
import {
  type JsonObject,
  type JsonValue,
  jsonToBigInt,
  parseJsonLossless,
  stringifyJsonLossless,
} from '../util/lossless-json.js'
import type { PartitionField, PartitionSpec, SortOrder } from './partition-spec.js'
import { maxFieldId, type Schema } from './schema.js'

/**
 * A snapshot of a table. Snapshot ids are `bigint` so that 64-bit ids survive.
 */
export interface Snapshot {
  readonly 'snapshot-id': bigint
  readonly 'parent-snapshot-id'?: bigint
  readonly 'sequence-number': number
  readonly 'timestamp-ms': number
  readonly 'manifest-list'?: string
  /** v1 only: manifest paths listed inline instead of a manifest list. */
  readonly manifests?: readonly string[]
  readonly summary: { readonly operation: string; readonly [key: string]: string }
  readonly 'schema-id'?: number
}

/**
 * A named reference (branch or tag) to a snapshot.
 */
export interface SnapshotRef {
  readonly 'snapshot-id': bigint
  readonly type: 'branch' | 'tag'
  readonly 'max-ref-age-ms'?: number
  readonly 'max-snapshot-age-ms'?: number
  readonly 'min-snapshots-to-keep'?: number
}

/**
 * Iceberg table metadata (format v2 shape; v1 files are upgraded on read), in the spec's JSON shape.
 */
export interface TableMetadata {
  readonly 'format-version': 1 | 2
  readonly 'table-uuid': string
  readonly location: string
  readonly 'last-sequence-number': number
  readonly 'last-updated-ms': number
  readonly 'last-column-id': number
  readonly schemas: readonly Schema[]
  readonly 'current-schema-id': number
  readonly 'partition-specs': readonly PartitionSpec[]
  readonly 'default-spec-id': number
  readonly 'last-partition-id': number
  readonly properties: Readonly<Record<string, string>>
  readonly 'current-snapshot-id': bigint | null
  readonly snapshots: readonly Snapshot[]
  readonly 'snapshot-log': readonly { readonly 'timestamp-ms': number; readonly 'snapshot-id': bigint }[]
  readonly 'metadata-log': readonly { readonly 'timestamp-ms': number; readonly 'metadata-file': string }[]
  readonly 'sort-orders': readonly SortOrder[]
  readonly 'default-sort-order-id': number
  readonly refs: Readonly<Record<string, SnapshotRef>>
  readonly statistics?: readonly JsonValue[]
  readonly 'partition-statistics'?: readonly JsonValue[]
  /** Encryption keys (added by Iceberg REST clients), kept as written. */
  readonly 'encryption-keys'?: readonly JsonValue[]
}

const asObj = (v: JsonValue | undefined, what: string): JsonObject => {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) {
    throw new TarnError('INVALID_ARGUMENT', `Invalid table metadata: ${what} is not an object`)
  }
  return v as JsonObject
}
const asArr = (v: JsonValue | undefined): readonly JsonValue[] =>
  Array.isArray(v) ? (v as readonly JsonValue[]) : []
const asNum = (v: JsonValue | undefined, dflt?: number): number => {
  if (typeof v === 'number') return v
  if (typeof v === 'bigint') return Number(v)
  if (dflt !== undefined) return dflt
  throw new TarnError('INVALID_ARGUMENT', `Invalid table metadata: expected a number, got ${String(v)}`)
}
const asStr = (v: JsonValue | undefined, what: string): string => {
  if (typeof v !== 'string')
    throw new TarnError('INVALID_ARGUMENT', `Invalid table metadata: ${what} is not a string`)
  return v
}

/**
 * Parses one snapshot object of table metadata (or of an Iceberg REST `add-snapshot` update), keeping 64-bit ids.
 */
export function parseSnapshot(v: JsonValue): Snapshot {
  const o = asObj(v, 'snapshot')
  const parent = jsonToBigInt(o['parent-snapshot-id'])
  const summaryObj = o.summary === undefined ? {} : asObj(o.summary, 'summary')
  const summary: Record<string, string> = { operation: 'append' }
  for (const [k, x] of Object.entries(summaryObj)) if (typeof x === 'string') summary[k] = x
  const snap: Snapshot = {
    'snapshot-id': jsonToBigInt(o['snapshot-id']) ?? 0n,
    ...(parent === undefined ? {} : { 'parent-snapshot-id': parent }),
    'sequence-number': asNum(o['sequence-number'], 0),
    'timestamp-ms': asNum(o['timestamp-ms'], 0),
    ...(typeof o['manifest-list'] === 'string' ? { 'manifest-list': o['manifest-list'] } : {}),
    ...(Array.isArray(o.manifests)
      ? { manifests: (o.manifests as JsonValue[]).map((m) => asStr(m, 'manifest')) }
      : {}),
    summary: summary as Snapshot['summary'],
    ...(o['schema-id'] === undefined ? {} : { 'schema-id': asNum(o['schema-id']) }),
  }
  return snap
}

/**
 * Parses table metadata JSON (v1 or v2, plain or gzipped bytes) without losing 64-bit ids. v1 metadata is
 * normalised to the v2 shape (`schemas`, `partition-specs`, `refs`, ...), keeping `format-version: 1`.
 */
export function parseTableMetadata(input: string | Uint8Array): TableMetadata {
  let text: string
  if (typeof input === 'string') text = input
  else {
    const bytes = input[0] === 0x1f && input[1] === 0x8b ? new Uint8Array(gunzipSync(input)) : input
    text = new TextDecoder().decode(bytes)
  }
  const o = asObj(parseJsonLossless(text), 'metadata')
  const formatVersion = asNum(o['format-version'])
  if (formatVersion !== 1 && formatVersion !== 2) {
    throw new TarnError('INVALID_ARGUMENT', `Unsupported Iceberg format version ${formatVersion}`)
  }
  let schemas: Schema[]
  let currentSchemaId: number
  if (Array.isArray(o.schemas)) {
    schemas = asArr(o.schemas).map((s) => s as unknown as Schema)
    currentSchemaId = asNum(o['current-schema-id'], schemas[0]?.['schema-id'] ?? 0)
  } else {
    const s = asObj(o.schema, 'schema') as unknown as Schema
    schemas = [{ ...s, 'schema-id': s['schema-id'] ?? 0 }]
    currentSchemaId = schemas[0]?.['schema-id'] ?? 0
  }
  schemas = schemas.map((s) => ({ ...s, 'schema-id': s['schema-id'] ?? 0 }))
  let specs: PartitionSpec[]
  let defaultSpecId: number
  if (Array.isArray(o['partition-specs'])) {
    specs = asArr(o['partition-specs']).map((s) => s as unknown as PartitionSpec)
    defaultSpecId = asNum(o['default-spec-id'], specs[0]?.['spec-id'] ?? 0)
  } else {
    let nextId = 1000
    const fields = asArr(o['partition-spec']).map((f) => {
      const pf = f as unknown as PartitionField
      return { ...pf, 'field-id': pf['field-id'] ?? nextId++ }
    })
    specs = [{ 'spec-id': 0, fields }]
    defaultSpecId = 0
  }
  const lastPartitionId = asNum(
    o['last-partition-id'],
    Math.max(999, ...specs.flatMap((s) => s.fields.map((f) => f['field-id']))),
  )
  const snapshots = asArr(o.snapshots).map(parseSnapshot)
  let current = jsonToBigInt(o['current-snapshot-id']) ?? null
  if (current === -1n) current = null
  const refs: Record<string, SnapshotRef> = {}
  if (o.refs !== undefined && o.refs !== null) {
    for (const [name, r] of Object.entries(asObj(o.refs, 'refs'))) {
      const ro = asObj(r, 'ref')
      refs[name] = {
        ...(ro as unknown as SnapshotRef),
        'snapshot-id': jsonToBigInt(ro['snapshot-id']) ?? 0n,
        type: ro.type === 'tag' ? 'tag' : 'branch',
      }
    }
  }
  if (current !== null && refs.main === undefined) refs.main = { 'snapshot-id': current, type: 'branch' }
  const properties: Record<string, string> = {}
  if (o.properties)
    for (const [k, v] of Object.entries(asObj(o.properties, 'properties'))) properties[k] = String(v)
  const sortOrders = Array.isArray(o['sort-orders'])
    ? asArr(o['sort-orders']).map((s) => s as unknown as SortOrder)
    : [{ 'order-id': 0, fields: [] }]
  const lastColumnId = asNum(o['last-column-id'], Math.max(0, ...schemas.map((s) => maxFieldId(s))))
  return {
    'format-version': formatVersion,
    'table-uuid': typeof o['table-uuid'] === 'string' ? o['table-uuid'] : '',
    location: asStr(o.location, 'location'),
    'last-sequence-number': asNum(o['last-sequence-number'], 0),
    'last-updated-ms': asNum(o['last-updated-ms'], 0),
    'last-column-id': lastColumnId,
    schemas,
    'current-schema-id': currentSchemaId,
    'partition-specs': specs,
    'default-spec-id': defaultSpecId,
    'last-partition-id': lastPartitionId,
    properties,
    'current-snapshot-id': current,
    snapshots,
    'snapshot-log': asArr(o['snapshot-log']).map((e) => {
      const eo = asObj(e, 'snapshot-log entry')
      return {
        'timestamp-ms': asNum(eo['timestamp-ms']),
        'snapshot-id': jsonToBigInt(eo['snapshot-id']) ?? 0n,
      }
    }),
    'metadata-log': asArr(o['metadata-log']).map((e) => {
      const eo = asObj(e, 'metadata-log entry')
      return {
        'timestamp-ms': asNum(eo['timestamp-ms']),
        'metadata-file': asStr(eo['metadata-file'], 'metadata-file'),
      }
    }),
    'sort-orders': sortOrders,
    'default-sort-order-id': asNum(o['default-sort-order-id'], sortOrders[0]?.['order-id'] ?? 0),
    refs,
    ...(Array.isArray(o.statistics) ? { statistics: asArr(o.statistics) } : {}),
    ...(Array.isArray(o['partition-statistics'])
      ? { 'partition-statistics': asArr(o['partition-statistics']) }
      : {}),
    ...(Array.isArray(o['encryption-keys']) ? { 'encryption-keys': asArr(o['encryption-keys']) } : {}),
  }
}

/**
 * Serialises table metadata to JSON (pretty-printed unless `indent` is 0; compact text is remembered per metadata
 * object) with exact 64-bit ids. A table without a current snapshot is
 * written with `current-snapshot-id: -1` (what Java readers expect).
 */
export function serializeTableMetadata(m: TableMetadata, indent = 2): string {
  const compact = indent === 0
  const known = compact ? compactText.get(m) : undefined
  if (known !== undefined) return known
  const v = {
    ...m,
    'current-snapshot-id': m['current-snapshot-id'] ?? -1n,
  }
  const text = stringifyJsonLossless(v as unknown as JsonValue, indent)
  if (compact) compactText.set(m, text)
  return text
}

/**
 * The compact JSON of metadata objects serialised before: metadata is immutable, so a commit writes its file and
 * answers its client with one serialisation.
 */
const compactText = new WeakMap<TableMetadata, string>()

/**
 * The current schema of a table (or the schema with the given id).
 */
export function currentSchema(m: TableMetadata, schemaId?: number): Schema {
  const id = schemaId ?? m['current-schema-id']
  const s = m.schemas.find((x) => x['schema-id'] === id)
  if (!s) throw new TarnError('INVALID_ARGUMENT', `Table metadata has no schema ${id}`)
  return s
}

/**
 * The partition spec with the given id (default: the table's default spec).
 */
export function specById(m: TableMetadata, specId?: number): PartitionSpec {
  const id = specId ?? m['default-spec-id']
  const s = m['partition-specs'].find((x) => x['spec-id'] === id)
  if (!s) throw new TarnError('INVALID_ARGUMENT', `Table metadata has no partition spec ${id}`)
  return s
}

/**
 * The snapshot with the given id (default: current), or undefined when the table has no snapshot.
 * Throws `INVALID_REF` when an explicit id is unknown.
 */
export function snapshotById(m: TableMetadata, snapshotId?: bigint | string | null): Snapshot | undefined {
  const id = snapshotId === undefined || snapshotId === null ? m['current-snapshot-id'] : BigInt(snapshotId)
  if (id === null) return undefined
  const s = m.snapshots.find((x) => x['snapshot-id'] === id)
  if (!s) throw new TarnError('INVALID_REF', `Table has no snapshot ${id}`, { snapshotId: id.toString() })
  return s
}
