import {
  DuckDBArrayValue,
  DuckDBBlobValue,
  type DuckDBDataChunk,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBListValue,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeValue,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
} from '@duckdb/node-api'
import {
  Binary,
  Bool,
  type Data,
  type DataType,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  List,
  makeBuilder,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  type StructRow,
  TimeMicrosecond,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Utf8,
  type Vector,
} from 'apache-arrow'
import { valueText } from './duckdb-text.js'

/**
 * The Arrow type that holds values of a DuckDB type: integers, floats, booleans, strings, blobs, dates, times and
 * timestamps (exact, in their own unit; TIMESTAMPTZ in UTC), decimals and HUGEINT (128-bit, exact), lists and
 * structs. Other types (UHUGEINT, intervals, maps, unions, enums, ...) become their DuckDB text form.
 */
export function arrowTypeOf(t: DuckDBType): DataType {
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return new Bool()
    case DuckDBTypeId.TINYINT:
      return new Int8()
    case DuckDBTypeId.SMALLINT:
      return new Int16()
    case DuckDBTypeId.INTEGER:
      return new Int32()
    case DuckDBTypeId.BIGINT:
      return new Int64()
    case DuckDBTypeId.UTINYINT:
      return new Uint8()
    case DuckDBTypeId.USMALLINT:
      return new Uint16()
    case DuckDBTypeId.UINTEGER:
      return new Uint32()
    case DuckDBTypeId.UBIGINT:
      return new Uint64()
    case DuckDBTypeId.HUGEINT:
      return new Decimal(0, 38, 128)
    case DuckDBTypeId.FLOAT:
      return new Float32()
    case DuckDBTypeId.DOUBLE:
      return new Float64()
    case DuckDBTypeId.DECIMAL:
      return new Decimal(t.scale, t.width, 128)
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.UUID:
      return new Utf8()
    case DuckDBTypeId.BLOB:
      return new Binary()
    case DuckDBTypeId.DATE:
      return new DateDay()
    case DuckDBTypeId.TIME:
      return new TimeMicrosecond()
    case DuckDBTypeId.TIMESTAMP:
      return new TimestampMicrosecond()
    case DuckDBTypeId.TIMESTAMP_TZ:
      return new TimestampMicrosecond('UTC')
    case DuckDBTypeId.TIMESTAMP_MS:
      return new TimestampMillisecond()
    case DuckDBTypeId.TIMESTAMP_NS:
      return new TimestampNanosecond()
    case DuckDBTypeId.TIMESTAMP_S:
      return new TimestampSecond()
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return new List(new Field('item', arrowTypeOf(t.valueType), true))
    case DuckDBTypeId.STRUCT:
      return new Struct(
        t.entryNames.map((n, i) => new Field(n, arrowTypeOf(t.entryTypes[i] as DuckDBType), true)),
      )
    default:
      return new Utf8()
  }
}

/**
 * The Arrow schema of a DuckDB result (every field nullable).
 */
export function arrowSchemaOf(names: readonly string[], types: readonly DuckDBType[]): Schema {
  return new Schema(names.map((n, i) => new Field(n, arrowTypeOf(types[i] as DuckDBType), true)))
}

function validity(values: readonly DuckDBValue[]): { bitmap: Uint8Array; nulls: number } {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8))
  let nulls = 0
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null) nulls++
    else bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7))
  }
  return { bitmap, nulls }
}

function bigintOf(v: DuckDBValue): bigint {
  if (typeof v === 'bigint') return v
  if (typeof v === 'number') return BigInt(v)
  if (
    v instanceof DuckDBTimestampValue ||
    v instanceof DuckDBTimestampTZValue ||
    v instanceof DuckDBTimeValue
  )
    return v.micros
  if (v instanceof DuckDBTimestampMillisecondsValue) return v.millis
  if (v instanceof DuckDBTimestampNanosecondsValue) return v.nanos
  if (v instanceof DuckDBTimestampSecondsValue) return v.seconds
  if (v instanceof DuckDBDecimalValue) return v.value
  return 0n
}

/** A JS value for builders (nested values): numbers, strings, bigints, Dates (ms), arrays and objects. */
function jsOf(v: DuckDBValue, t: DuckDBType): unknown {
  if (v === null) return null
  switch (t.typeId) {
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return v instanceof DuckDBListValue || v instanceof DuckDBArrayValue
        ? v.items.map((x) => jsOf(x, t.valueType))
        : null
    case DuckDBTypeId.STRUCT: {
      if (!(v instanceof DuckDBStructValue)) return null
      const o: Record<string, unknown> = {}
      t.entryNames.forEach((n, i) => {
        o[n] = jsOf(v.entries[n] ?? null, t.entryTypes[i] as DuckDBType)
      })
      return o
    }
    case DuckDBTypeId.DATE:
      return v instanceof DuckDBDateValue ? v.days * 86_400_000 : null
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return Number(bigintOf(v) / 1000n)
    case DuckDBTypeId.TIMESTAMP_NS:
      return Number(bigintOf(v) / 1_000_000n)
    case DuckDBTypeId.TIMESTAMP_S:
      return Number(bigintOf(v) * 1000n)
    case DuckDBTypeId.TIMESTAMP_MS:
      return Number(bigintOf(v))
    case DuckDBTypeId.DECIMAL:
    case DuckDBTypeId.HUGEINT:
      return decimalWords(bigintOf(v))
    case DuckDBTypeId.TIME:
      return bigintOf(v)
    case DuckDBTypeId.BLOB:
      return v instanceof DuckDBBlobValue ? v.bytes : null
    default: {
      const a = arrowTypeOf(t)
      if (a instanceof Utf8) return typeof v === 'string' ? v : valueText(v, t)
      return v
    }
  }
}

function decimalWords(x: bigint): Uint32Array {
  const out = new Uint32Array(4)
  let v = BigInt.asUintN(128, x)
  for (let i = 0; i < 4; i++) {
    out[i] = Number(v & 0xffffffffn)
    v >>= 32n
  }
  return out
}

function utf8Data(
  type: DataType,
  values: readonly DuckDBValue[],
  bytesOf: (v: DuckDBValue) => Uint8Array,
  textOf: (v: DuckDBValue) => string = String,
): Data {
  const { bitmap, nulls } = validity(values)
  const encoder = new TextEncoder()
  const parts: Uint8Array[] = []
  const offsets = new Int32Array(values.length + 1)
  let total = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? null
    if (v !== null) {
      const b = type instanceof Utf8 ? encoder.encode(typeof v === 'string' ? v : textOf(v)) : bytesOf(v)
      parts.push(b)
      total += b.byteLength
    }
    offsets[i + 1] = total
  }
  const data = new Uint8Array(total)
  let at = 0
  for (const p of parts) {
    data.set(p, at)
    at += p.byteLength
  }
  return makeData({
    type: type as Utf8,
    length: values.length,
    nullCount: nulls,
    nullBitmap: bitmap,
    valueOffsets: offsets,
    data,
  })
}

/**
 * Converts one column of DuckDB values to Arrow data of the type {@link arrowTypeOf} gives. Fixed-width values are
 * copied into typed arrays exactly (64-bit integers and timestamps as BigInt64, decimals as 128-bit words).
 */
export function columnData(t: DuckDBType, values: readonly DuckDBValue[]): Data {
  const type = arrowTypeOf(t)
  const n = values.length
  const { bitmap, nulls } = validity(values)
  const fixed = (
    arrowType: DataType,
    array: ArrayLike<number | bigint> & { [i: number]: number | bigint },
    get: (v: DuckDBValue) => number | bigint,
  ): Data => {
    for (let i = 0; i < n; i++) {
      const v = values[i] ?? null
      if (v !== null) array[i] = get(v)
    }
    return makeData({
      type: arrowType,
      length: n,
      nullCount: nulls,
      nullBitmap: bitmap,
      data: array,
    } as never) as Data
  }
  const num = (v: DuckDBValue): number => (typeof v === 'number' ? v : Number(v))
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN: {
      const bits = new Uint8Array(Math.ceil(n / 8))
      for (let i = 0; i < n; i++)
        if (values[i] === true) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7))
      return makeData({ type: type as Bool, length: n, nullCount: nulls, nullBitmap: bitmap, data: bits })
    }
    case DuckDBTypeId.TINYINT:
      return fixed(type, new Int8Array(n), num)
    case DuckDBTypeId.SMALLINT:
      return fixed(type, new Int16Array(n), num)
    case DuckDBTypeId.INTEGER:
      return fixed(type, new Int32Array(n), num)
    case DuckDBTypeId.UTINYINT:
      return fixed(type, new Uint8Array(n), num)
    case DuckDBTypeId.USMALLINT:
      return fixed(type, new Uint16Array(n), num)
    case DuckDBTypeId.UINTEGER:
      return fixed(type, new Uint32Array(n), num)
    case DuckDBTypeId.FLOAT:
      return fixed(type, new Float32Array(n), num)
    case DuckDBTypeId.DOUBLE:
      return fixed(type, new Float64Array(n), num)
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_S:
      return fixed(type, new BigInt64Array(n), bigintOf)
    case DuckDBTypeId.UBIGINT:
      return fixed(type, new BigUint64Array(n), bigintOf)
    case DuckDBTypeId.DATE:
      return fixed(type, new Int32Array(n), (v) => (v instanceof DuckDBDateValue ? v.days : 0))
    case DuckDBTypeId.DECIMAL:
    case DuckDBTypeId.HUGEINT: {
      const words = new Uint32Array(n * 4)
      for (let i = 0; i < n; i++) {
        const v = values[i] ?? null
        if (v !== null) words.set(decimalWords(bigintOf(v)), i * 4)
      }
      return makeData({ type: type as Decimal, length: n, nullCount: nulls, nullBitmap: bitmap, data: words })
    }
    case DuckDBTypeId.BLOB:
      return utf8Data(new Binary(), values, (v) =>
        v instanceof DuckDBBlobValue ? v.bytes : new Uint8Array(),
      )
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
    case DuckDBTypeId.STRUCT: {
      const builder = makeBuilder({ type, nullValues: [null, undefined] })
      for (const v of values) builder.append(jsOf(v, t) as never)
      return builder.finish().flush()
    }
    default:
      return utf8Data(
        type,
        values,
        () => new Uint8Array(),
        (v) => valueText(v, t),
      )
  }
}

/**
 * Builds one Arrow record batch from DuckDB data chunks (all of the same result).
 */
export function recordBatchOf(
  schema: Schema,
  types: readonly DuckDBType[],
  chunks: readonly DuckDBDataChunk[],
): RecordBatch {
  const length = chunks.reduce((a, c) => a + c.rowCount, 0)
  const children = types.map((t, i) => {
    const values: DuckDBValue[] = []
    for (const c of chunks) for (const v of c.getColumnValues(i)) values.push(v)
    return columnData(t, values)
  })
  const data = makeData({
    type: new Struct(schema.fields),
    length,
    nullCount: 0,
    children,
  })
  return new RecordBatch(schema, data)
}

/**
 * A plain JS value of an Arrow value: 64-bit integers and HUGEINT (decimals of scale 0) as bigint, timestamps and
 * dates as `Date`, other decimals as numbers, lists as arrays and structs as objects.
 */
export function plainValue(v: unknown, type: DataType): unknown {
  if (v === null || v === undefined) return null
  if (type instanceof Decimal) {
    const words = v as Uint32Array
    let x = 0n
    for (let i = 3; i >= 0; i--) x = (x << 32n) | BigInt(words[i] ?? 0)
    const signed = BigInt.asIntN(128, x)
    return type.scale === 0 ? signed : Number(signed) / 10 ** type.scale
  }
  if (type instanceof DateDay) return new Date(v as number)
  if (
    type instanceof TimestampMicrosecond ||
    type instanceof TimestampMillisecond ||
    type instanceof TimestampNanosecond ||
    type instanceof TimestampSecond
  ) {
    return new Date(v as number)
  }
  if (type instanceof List) {
    const child = type.children[0]?.type as DataType
    return [...(v as Vector)].map((x) => plainValue(x, child))
  }
  if (type instanceof Struct) {
    const o: Record<string, unknown> = {}
    const row = v as StructRow
    for (const f of type.children)
      o[f.name] = plainValue((row as unknown as Record<string, unknown>)[f.name], f.type)
    return o
  }
  return v
}
