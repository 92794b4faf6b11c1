import type { DuckDBConnection } from '@duckdb/node-api'
import { TarnError } from '../../util/errors.js'
import type { IcebergType, NestedField, Schema } from '../schema.js'

type Raw =
  | { kind: 'prim'; type: string }
  | { kind: 'struct'; fields: { name: string; type: Raw }[] }
  | { kind: 'list'; element: Raw }
  | { kind: 'map'; key: Raw; value: Raw }

function splitTop(s: string): string[] {
  const out: string[] = []
  let depth = 0
  let quoted = false
  let cur = ''
  for (const ch of s) {
    if (ch === '"') quoted = !quoted
    if (!quoted && ch === '(') depth++
    if (!quoted && ch === ')') depth--
    if (!quoted && depth === 0 && ch === ',') {
      out.push(cur.trim())
      cur = ''
    } else cur += ch
  }
  if (cur.trim() !== '') out.push(cur.trim())
  return out
}

function parseDuckType(t: string): Raw {
  const s = t.trim()
  if (s.endsWith('[]')) return { kind: 'list', element: parseDuckType(s.slice(0, -2)) }
  const m = /^(STRUCT|MAP)\((.*)\)$/is.exec(s)
  if (m) {
    const parts = splitTop(m[2] ?? '')
    if ((m[1] ?? '').toUpperCase() === 'MAP') {
      return { kind: 'map', key: parseDuckType(parts[0] ?? ''), value: parseDuckType(parts[1] ?? '') }
    }
    return {
      kind: 'struct',
      fields: parts.map((p) => {
        const q = /^"((?:[^"]|"")*)"\s+(.*)$/s.exec(p)
        if (q) return { name: (q[1] ?? '').replace(/""/g, '"'), type: parseDuckType(q[2] ?? '') }
        const i = p.indexOf(' ')
        return { name: p.slice(0, i), type: parseDuckType(p.slice(i + 1)) }
      }),
    }
  }
  return { kind: 'prim', type: s.toUpperCase() }
}

/**
 * The Iceberg primitive type for a DuckDB type name (v2 types only: small and unsigned ints widen, nanosecond
 * timestamps become microsecond ones).
 */
export function icebergPrimitiveOf(duck: string): string {
  const t = duck.toUpperCase()
  const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t)
  if (dec) return `decimal(${dec[1]}, ${dec[2]})`
  switch (t) {
    case 'BOOLEAN':
      return 'boolean'
    case 'TINYINT':
    case 'SMALLINT':
    case 'INTEGER':
    case 'UTINYINT':
    case 'USMALLINT':
      return 'int'
    case 'BIGINT':
    case 'UINTEGER':
      return 'long'
    case 'UBIGINT':
    case 'HUGEINT':
    case 'UHUGEINT':
      return 'decimal(38, 0)'
    case 'FLOAT':
      return 'float'
    case 'DOUBLE':
      return 'double'
    case 'DATE':
      return 'date'
    case 'TIME':
      return 'time'
    case 'TIMESTAMP':
    case 'TIMESTAMP_S':
    case 'TIMESTAMP_MS':
    case 'TIMESTAMP_NS':
      return 'timestamp'
    case 'TIMESTAMP WITH TIME ZONE':
    case 'TIMESTAMPTZ':
      return 'timestamptz'
    case 'VARCHAR':
      return 'string'
    case 'BLOB':
      return 'binary'
    case 'UUID':
      return 'uuid'
  }
  throw new TarnError('INVALID_ARGUMENT', `DuckDB type ${duck} has no Iceberg v2 equivalent`, { type: duck })
}

/**
 * Derives an Iceberg schema (fresh field ids: top-level columns 1..n, then nested ids) from the result columns of a
 * DuckDB query.
 */
export async function schemaFromQuery(conn: DuckDBConnection, sql: string): Promise<Schema> {
  const reader = await conn.runAndReadAll(`DESCRIBE (${sql})`)
  const cols = reader
    .getRowObjectsJS()
    .map((r) => ({ name: String(r.column_name), raw: parseDuckType(String(r.column_type)) }))
  let next = cols.length + 1
  const convert = (raw: Raw): IcebergType => {
    switch (raw.kind) {
      case 'prim':
        return icebergPrimitiveOf(raw.type)
      case 'struct': {
        const ids = raw.fields.map(() => next++)
        return {
          type: 'struct',
          fields: raw.fields.map((f, i) => ({
            id: ids[i] ?? 0,
            name: f.name,
            required: false,
            type: convert(f.type),
          })),
        }
      }
      case 'list': {
        const id = next++
        return { type: 'list', 'element-id': id, element: convert(raw.element), 'element-required': false }
      }
      case 'map': {
        const k = next++
        const v = next++
        return {
          type: 'map',
          'key-id': k,
          key: convert(raw.key),
          'value-id': v,
          value: convert(raw.value),
          'value-required': false,
        }
      }
    }
  }
  const fields: NestedField[] = cols.map((c, i) => ({
    id: i + 1,
    name: c.name,
    required: false,
    type: convert(c.raw),
  }))
  return { type: 'struct', 'schema-id': 0, fields }
}
