import {
  Binary,
  type DataType,
  DateDay,
  Decimal,
  List,
  type RecordBatch,
  Struct,
  TimeMicrosecond,
  Timestamp,
  TimeUnit,
  type Vector,
} from 'apache-arrow'

const pad = (n: number | bigint, w: number): string => n.toString().padStart(w, '0')

function dayText(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10)
}

function microsText(micros: bigint, withDate: boolean): string {
  const dayMicros = 86_400_000_000n
  let days = micros / dayMicros
  let rest = micros % dayMicros
  if (rest < 0n) {
    rest += dayMicros
    days -= 1n
  }
  const secs = rest / 1_000_000n
  const frac = rest % 1_000_000n
  const time = `${pad(secs / 3600n, 2)}:${pad((secs / 60n) % 60n, 2)}:${pad(secs % 60n, 2)}${
    frac === 0n ? '' : `.${pad(frac, 6).replace(/0+$/, '')}`
  }`
  return withDate ? `${dayText(Number(days))} ${time}` : time
}

function decimalText(words: Uint32Array, scale: number): string {
  let x = 0n
  for (let i = 3; i >= 0; i--) x = (x << 32n) | BigInt(words[i] ?? 0)
  const v = BigInt.asIntN(128, x)
  if (scale === 0) return v.toString()
  const neg = v < 0n
  const digits = (neg ? -v : v).toString().padStart(scale + 1, '0')
  return `${neg ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`
}

function toMicros(raw: bigint, unit: TimeUnit): bigint {
  switch (unit) {
    case TimeUnit.SECOND:
      return raw * 1_000_000n
    case TimeUnit.MILLISECOND:
      return raw * 1000n
    case TimeUnit.NANOSECOND:
      return raw / 1000n
    default:
      return raw
  }
}

/**
 * A cell's value as plain data, exact: big integers and decimals as their digits (`{ exact }`), timestamps and dates
 * as DuckDB prints them, lists as arrays, structs as objects.
 */
export type Cell =
  | null
  | boolean
  | number
  | string
  | { readonly exact: string }
  | readonly Cell[]
  | { [k: string]: Cell }

function rawAt(vector: Vector, i: number): unknown {
  // batches built by the engine hold one Data per column; fall back to get() for anything else
  const data = vector.data.length === 1 ? vector.data[0] : undefined
  const type = vector.type as DataType
  if (!data || type instanceof List || type instanceof Struct || !data.values) return undefined
  if (type instanceof Decimal) return data.values.subarray((data.offset + i) * 4, (data.offset + i) * 4 + 4)
  return data.values[data.offset + i]
}

function cellOf(value: unknown, type: DataType, raw: unknown): Cell {
  if (value === null || value === undefined) return null
  if (type instanceof Timestamp) {
    const micros =
      typeof raw === 'bigint' ? toMicros(raw, type.unit) : BigInt(Math.round(Number(value) * 1000))
    return `${microsText(micros, true)}${type.timezone ? '+00' : ''}`
  }
  if (type instanceof DateDay)
    return dayText(typeof raw === 'number' ? raw : Math.floor(Number(value) / 86_400_000))
  if (type instanceof TimeMicrosecond)
    return microsText(typeof raw === 'bigint' ? raw : BigInt(value as number), false)
  if (type instanceof Decimal) return { exact: decimalText((raw ?? value) as Uint32Array, type.scale) }
  if (type instanceof Binary) {
    return [...(value as Uint8Array)]
      .map((b) => (b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${pad(b, 2)}`))
      .join('')
  }
  if (type instanceof List) {
    const child = type.children[0]?.type as DataType
    return [...(value as Vector)].map((x) => cellOf(x, child, undefined))
  }
  if (type instanceof Struct) {
    const o: { [k: string]: Cell } = {}
    const row = value as unknown as Record<string, unknown>
    for (const f of type.children) o[f.name] = cellOf(row[f.name], f.type, undefined)
    return o
  }
  if (typeof value === 'bigint') return { exact: value.toString() }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value
  return String(value)
}

function cellJson(c: Cell): string {
  if (c === null) return 'null'
  if (typeof c === 'number') return Number.isFinite(c) ? String(c) : JSON.stringify(String(c))
  if (typeof c === 'boolean' || typeof c === 'string') return JSON.stringify(c)
  if (Array.isArray(c)) return `[${c.map(cellJson).join(',')}]`
  if ('exact' in c && typeof c.exact === 'string') return c.exact
  return `{${Object.entries(c as { [k: string]: Cell })
    .map(([k, v]) => `${JSON.stringify(k)}:${cellJson(v)}`)
    .join(',')}}`
}

function cellText(c: Cell): string {
  if (c === null) return 'NULL'
  if (typeof c === 'string') return c
  if (typeof c === 'number' || typeof c === 'boolean') return String(c)
  if (!Array.isArray(c) && 'exact' in c && typeof c.exact === 'string') return c.exact
  return cellJson(c)
}

/**
 * The cells of a record batch row by row, exact (timestamps to the microsecond, decimals and 64-bit integers by
 * their digits), for the CLI's table, CSV and JSON output.
 */
export function* batchCells(batch: RecordBatch): Generator<Cell[]> {
  const columns = batch.schema.fields.map((_, c) => batch.getChildAt(c) as Vector)
  for (let i = 0; i < batch.numRows; i++) {
    yield columns.map((v) => (v.isValid(i) ? cellOf(v.get(i), v.type as DataType, rawAt(v, i)) : null))
  }
}

/**
 * One row as text cells (NULL for nulls), as the table output shows them.
 */
export function rowText(row: readonly Cell[]): string[] {
  return row.map(cellText)
}

/**
 * One row as a JSON object text (big integers and decimals as exact JSON numbers).
 */
export function rowJson(names: readonly string[], row: readonly Cell[]): string {
  return `{${names.map((n, i) => `${JSON.stringify(n)}:${cellJson(row[i] ?? null)}`).join(',')}}`
}

/**
 * One row as a CSV line (RFC 4180 quoting; NULL as an empty field).
 */
export function rowCsv(row: readonly Cell[]): string {
  return row
    .map((c) => {
      if (c === null) return ''
      const t = cellText(c)
      return /[",\r\n]/.test(t) || t !== t.trim() ? `"${t.replace(/"/g, '""')}"` : t
    })
    .join(',')
}

/**
 * A short type name for a column header (`BIGINT`, `VARCHAR`, `DECIMAL(10,2)`, `TIMESTAMP`, ...).
 */
export function typeName(type: DataType): string {
  if (type instanceof Decimal)
    return type.scale === 0 && type.precision === 38 ? 'HUGEINT' : `DECIMAL(${type.precision},${type.scale})`
  if (type instanceof Timestamp) return type.timezone ? 'TIMESTAMPTZ' : 'TIMESTAMP'
  if (type instanceof DateDay) return 'DATE'
  if (type instanceof TimeMicrosecond) return 'TIME'
  if (type instanceof Binary) return 'BLOB'
  if (type instanceof List) return `${typeName(type.children[0]?.type as DataType)}[]`
  if (type instanceof Struct) return 'STRUCT'
  const names: Record<string, string> = {
    Bool: 'BOOLEAN',
    Int8: 'TINYINT',
    Int16: 'SMALLINT',
    Int32: 'INTEGER',
    Int64: 'BIGINT',
    Uint8: 'UTINYINT',
    Uint16: 'USMALLINT',
    Uint32: 'UINTEGER',
    Uint64: 'UBIGINT',
    Float32: 'FLOAT',
    Float64: 'DOUBLE',
    Utf8: 'VARCHAR',
  }
  return names[type.toString()] ?? type.toString().toUpperCase()
}
