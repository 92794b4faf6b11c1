import {
  Bool,
  type DataType,
  Float64,
  Int32,
  Int64,
  Table,
  TimestampMillisecond,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow'

/** The Arrow type of one column of plain values, or `null` to let Arrow infer it (nested values). */
function columnType(values: readonly unknown[]): DataType | null {
  let kind: 'none' | 'int' | 'bigint' | 'float' | 'string' | 'boolean' | 'date' | 'other' = 'none'
  let int32 = true
  for (const v of values) {
    if (v === null || v === undefined) continue
    const k =
      typeof v === 'number'
        ? Number.isSafeInteger(v)
          ? 'int'
          : 'float'
        : typeof v === 'bigint'
          ? 'bigint'
          : typeof v === 'string'
            ? 'string'
            : typeof v === 'boolean'
              ? 'boolean'
              : v instanceof Date
                ? 'date'
                : 'other'
    if (k === 'int' && (v as number) !== ((v as number) | 0)) int32 = false
    if (kind === 'none' || kind === k) kind = k
    else if ((kind === 'int' && k === 'float') || (kind === 'float' && k === 'int')) kind = 'float'
    else if ((kind === 'int' && k === 'bigint') || (kind === 'bigint' && k === 'int')) kind = 'bigint'
    else return null
  }
  switch (kind) {
    case 'int':
      return int32 ? new Int32() : new Int64()
    case 'bigint':
      return new Int64()
    case 'float':
      return new Float64()
    case 'string':
    case 'none':
      return new Utf8()
    case 'boolean':
      return new Bool()
    case 'date':
      return new TimestampMillisecond()
    default:
      return null
  }
}

/**
 * An Arrow table from plain row objects, with a column per key (in first-seen order). Integer columns stay integers:
 * INTEGER (Int32) when every value fits 32 bits, BIGINT (Int64) when every value is a safe integer or a bigint;
 * other numbers make a DOUBLE column; strings are Utf8, booleans Bool, Dates millisecond timestamps; arrays and
 * objects take the type Arrow infers (lists and structs).
 */
export function tableFromRows(rows: readonly Readonly<Record<string, unknown>>[]): Table {
  const keys: string[] = []
  const seen = new Set<string>()
  for (const r of rows)
    for (const k of Object.keys(r))
      if (!seen.has(k)) {
        seen.add(k)
        keys.push(k)
      }
  const columns: Record<string, Vector> = {}
  for (const k of keys) {
    const values = rows.map((r) => r[k] ?? null)
    const type = columnType(values)
    if (type instanceof Int64) {
      columns[k] = vectorFromArray(
        values.map((v) => (v === null ? null : BigInt(v as number | bigint))),
        type,
      )
    } else if (type instanceof TimestampMillisecond) {
      columns[k] = vectorFromArray(
        values.map((v) => (v === null ? null : (v as Date).getTime())),
        type,
      )
    } else columns[k] = type ? vectorFromArray(values, type) : vectorFromArray(values)
  }
  return new Table(columns)
}
