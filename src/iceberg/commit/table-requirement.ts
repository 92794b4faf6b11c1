import { TarnError } from '../../util/errors.js'
import { type JsonValue, jsonToBigInt } from '../../util/lossless-json.js'
import type { TableMetadata } from '../table-metadata.js'

/**
 * One requirement of an Iceberg commit (the REST spec's `TableRequirement`): what the table must look like for the
 * commit's updates to apply. Plain data; {@link checkRequirement} evaluates it.
 */
export type TableRequirement =
  | { readonly type: 'assert-create' }
  | { readonly type: 'assert-table-uuid'; readonly uuid: string }
  | { readonly type: 'assert-ref-snapshot-id'; readonly ref: string; readonly snapshotId: bigint | null }
  | { readonly type: 'assert-last-assigned-field-id'; readonly value: number }
  | { readonly type: 'assert-current-schema-id'; readonly value: number }
  | { readonly type: 'assert-last-assigned-partition-id'; readonly value: number }
  | { readonly type: 'assert-default-spec-id'; readonly value: number }
  | { readonly type: 'assert-default-sort-order-id'; readonly value: number }

const INT_FIELD = {
  'assert-last-assigned-field-id': 'last-assigned-field-id',
  'assert-current-schema-id': 'current-schema-id',
  'assert-last-assigned-partition-id': 'last-assigned-partition-id',
  'assert-default-spec-id': 'default-spec-id',
  'assert-default-sort-order-id': 'default-sort-order-id',
} as const

function bad(message: string): TarnError {
  return new TarnError('INVALID_ARGUMENT', message, {})
}

/**
 * Reads a requirement from its JSON (as the REST spec spells it); `INVALID_ARGUMENT` for an unknown type or a
 * missing field.
 */
export function parseRequirement(v: JsonValue): TableRequirement {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad('a requirement must be an object')
  const o = v as { readonly [k: string]: JsonValue | undefined }
  const type = o.type
  switch (type) {
    case 'assert-create':
      return { type }
    case 'assert-table-uuid':
      if (typeof o.uuid !== 'string') throw bad('assert-table-uuid needs a uuid')
      return { type, uuid: o.uuid }
    case 'assert-ref-snapshot-id': {
      if (typeof o.ref !== 'string') throw bad('assert-ref-snapshot-id needs a ref')
      const id = o['snapshot-id']
      if (id !== null && id !== undefined && typeof id !== 'number' && typeof id !== 'bigint') {
        throw bad('assert-ref-snapshot-id needs a snapshot-id (a number or null)')
      }
      return {
        type,
        ref: o.ref,
        snapshotId: id === null || id === undefined ? null : (jsonToBigInt(id) ?? null),
      }
    }
    case 'assert-last-assigned-field-id':
    case 'assert-current-schema-id':
    case 'assert-last-assigned-partition-id':
    case 'assert-default-spec-id':
    case 'assert-default-sort-order-id': {
      const value = o[INT_FIELD[type]]
      if (typeof value !== 'number') throw bad(`${type} needs ${INT_FIELD[type]}`)
      return { type, value }
    }
    default:
      throw bad(`unknown requirement type ${JSON.stringify(type)}`)
  }
}

function failed(table: string, message: string, context: Record<string, string | number | null>): TarnError {
  return new TarnError('COMMIT_REQUIREMENT_FAILED', `requirement failed on ${table}: ${message}`, {
    table,
    ...context,
  })
}

/**
 * Throws `COMMIT_REQUIREMENT_FAILED` (naming the table and what differs) unless the table — its metadata, or
 * undefined when it does not exist — meets the requirement. A table that does not exist meets only `assert-create`.
 */
export function checkRequirement(table: string, m: TableMetadata | undefined, r: TableRequirement): void {
  if (r.type === 'assert-create') {
    if (m !== undefined) throw failed(table, 'the table already exists', { requirement: r.type })
    return
  }
  if (m === undefined) throw failed(table, 'the table does not exist', { requirement: r.type })
  const differs = (what: string, expected: string | number | null, actual: string | number | null): void => {
    if (expected !== actual) {
      throw failed(table, `${what} is ${actual ?? 'absent'}, expected ${expected ?? 'absent'}`, {
        requirement: r.type,
        expected,
        actual,
      })
    }
  }
  switch (r.type) {
    case 'assert-table-uuid':
      differs('the table uuid', r.uuid, m['table-uuid'])
      return
    case 'assert-ref-snapshot-id': {
      const ref = m.refs[r.ref]
      const actual = ref?.['snapshot-id'] ?? (r.ref === 'main' ? m['current-snapshot-id'] : null)
      differs(
        `ref ${r.ref}`,
        r.snapshotId === null ? null : r.snapshotId.toString(),
        actual === null ? null : actual.toString(),
      )
      return
    }
    case 'assert-last-assigned-field-id':
      differs('the last assigned field id', r.value, m['last-column-id'])
      return
    case 'assert-current-schema-id':
      differs('the current schema id', r.value, m['current-schema-id'])
      return
    case 'assert-last-assigned-partition-id':
      differs('the last assigned partition id', r.value, m['last-partition-id'])
      return
    case 'assert-default-spec-id':
      differs('the default spec id', r.value, m['default-spec-id'])
      return
    case 'assert-default-sort-order-id':
      differs('the default sort order id', r.value, m['default-sort-order-id'])
      return
  }
}
