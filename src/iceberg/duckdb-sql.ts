import { quoteIdent, sqlString } from '../duckdb/sql-quote.js'
import { TarnError } from '../util/errors.js'
import type { Expression, Literal } from './expression.js'
import {
  decimalParams,
  fixedLength,
  type IcebergType,
  isListType,
  isMapType,
  isStructType,
  type StructType,
} from './schema.js'

/**
 * The DuckDB type that holds an Iceberg type.
 */
export function duckdbTypeOf(t: IcebergType): string {
  if (isStructType(t))
    return `STRUCT(${t.fields.map((f) => `${quoteIdent(f.name)} ${duckdbTypeOf(f.type)}`).join(', ')})`
  if (isListType(t)) return `${duckdbTypeOf(t.element)}[]`
  if (isMapType(t)) return `MAP(${duckdbTypeOf(t.key)}, ${duckdbTypeOf(t.value)})`
  const dec = decimalParams(t)
  if (dec) return `DECIMAL(${dec.precision}, ${dec.scale})`
  if (fixedLength(t) !== undefined) return 'BLOB'
  const map: Record<string, string> = {
    boolean: 'BOOLEAN',
    int: 'INTEGER',
    long: 'BIGINT',
    float: 'FLOAT',
    double: 'DOUBLE',
    date: 'DATE',
    time: 'TIME',
    timestamp: 'TIMESTAMP',
    timestamptz: 'TIMESTAMPTZ',
    timestamp_ns: 'TIMESTAMP_NS',
    timestamptz_ns: 'TIMESTAMPTZ',
    string: 'VARCHAR',
    uuid: 'UUID',
    binary: 'BLOB',
  }
  const d = map[t]
  if (!d) throw new TarnError('INVALID_ARGUMENT', `Unsupported Iceberg type ${t}`)
  return d
}

/**
 * Renders a literal as a DuckDB expression of the given Iceberg type.
 */
export function sqlLiteral(t: IcebergType, v: Literal): string {
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE'
  if (typeof v === 'bigint') return `CAST(${v.toString()} AS ${duckdbTypeOf(t)})`
  if (typeof v === 'number') {
    if (!Number.isFinite(v))
      throw new TarnError('INVALID_ARGUMENT', 'Non-finite numbers are not allowed in filters')
    return `CAST(${String(v)} AS ${duckdbTypeOf(t)})`
  }
  const s = v instanceof Date ? v.toISOString() : v
  return `CAST(${sqlString(s)} AS ${duckdbTypeOf(t)})`
}

/**
 * Renders a filter as a DuckDB boolean expression over the columns of `schema` (by current name), qualified by
 * `alias` when given.
 */
export function expressionToSql(e: Expression, schema: StructType, alias?: string): string {
  const col = (name: string): { ref: string; type: IcebergType } => {
    const f = schema.fields.find((x) => x.name === name)
    if (!f)
      throw new TarnError('INVALID_ARGUMENT', `No column named ${JSON.stringify(name)}`, { column: name })
    return { ref: alias ? `${alias}.${quoteIdent(name)}` : quoteIdent(name), type: f.type }
  }
  const ops = { eq: '=', neq: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const
  switch (e.op) {
    case 'true':
      return 'TRUE'
    case 'and':
      return e.args.length === 0
        ? 'TRUE'
        : `(${e.args.map((a) => expressionToSql(a, schema, alias)).join(' AND ')})`
    case 'or':
      return e.args.length === 0
        ? 'FALSE'
        : `(${e.args.map((a) => expressionToSql(a, schema, alias)).join(' OR ')})`
    case 'not':
      return `(NOT ${expressionToSql(e.arg, schema, alias)})`
    case 'isNull':
      return `(${col(e.column).ref} IS NULL)`
    case 'notNull':
      return `(${col(e.column).ref} IS NOT NULL)`
    case 'in': {
      const c = col(e.column)
      if (e.values.length === 0) return 'FALSE'
      return `(${c.ref} IN (${e.values.map((v) => sqlLiteral(c.type, v)).join(', ')}))`
    }
    default: {
      const c = col(e.column)
      return `(${c.ref} ${ops[e.op]} ${sqlLiteral(c.type, e.value)})`
    }
  }
}
