/**
 * One field of a partition spec: a transform of a source column.
 */
export interface PartitionField {
  readonly 'source-id': number
  readonly 'field-id': number
  readonly name: string
  readonly transform: string
}

/**
 * A partition spec, in the JSON shape of table metadata.
 */
export interface PartitionSpec {
  readonly 'spec-id': number
  readonly fields: readonly PartitionField[]
}

/**
 * A sort order, in the JSON shape of table metadata.
 */
export interface SortOrder {
  readonly 'order-id': number
  readonly fields: readonly SortField[]
}

/**
 * One field of a sort order.
 */
export interface SortField {
  readonly transform: string
  readonly 'source-id': number
  readonly direction: 'asc' | 'desc'
  readonly 'null-order': 'nulls-first' | 'nulls-last'
}

/**
 * The spec of an unpartitioned table.
 */
export const UNPARTITIONED_SPEC: PartitionSpec = { 'spec-id': 0, fields: [] }

/**
 * The unsorted sort order.
 */
export const UNSORTED_ORDER: SortOrder = { 'order-id': 0, fields: [] }

/**
 * True when two specs partition the same way (same fields, ignoring the spec id).
 */
export function sameSpecShape(a: PartitionSpec, b: PartitionSpec): boolean {
  const key = (s: PartitionSpec): string =>
    JSON.stringify(s.fields.map((f) => [f['source-id'], f['field-id'], f.name, f.transform]))
  return key(a) === key(b)
}
