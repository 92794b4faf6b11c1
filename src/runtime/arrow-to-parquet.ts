import { closeSync, openSync, writeSync } from 'node:fs'
import { type Data, type DataType, type Field, type Schema, type Table, Type } from 'apache-arrow'
import { type ThriftStruct, ThriftWriter } from './thrift-compact.js'

/*
 * Arrow tables to Parquet files in JavaScript, for the flat column types whose Parquet PLAIN encoding is Arrow's own
 * memory layout (or a typed-array step away): a TS model's result goes from its worker to DuckDB with no
 * conversion in the run's process. Integers, floats, dates and microsecond/millisecond timestamps are written as
 * their Arrow buffers, validity bitmaps as bit-packed definition levels (both least-significant-bit first), strings
 * as length-prefixed bytes, decimals as INT32/INT64 or big-endian 16-byte values. Pages are uncompressed (the file
 * lives for one run step); row groups hold up to 122,880 rows so DuckDB reads them in parallel. The column types
 * DuckDB reads back are those {@link duckTypeOfArrow} gives the same Arrow types.
 */

const ROW_GROUP_ROWS = 122_880
const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]) // PAR1

const PHYSICAL = { BOOLEAN: 0, INT32: 1, INT64: 2, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6, FLBA: 7 } as const
const ENCODING = { PLAIN: 0, RLE: 3 } as const
const OPTIONAL = 1

type Encode = (data: Data, start: number, count: number) => Uint8Array

interface ColumnPlan {
  readonly element: ThriftStruct
  readonly physical: number
  readonly encode: Encode
}

function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
}

function hasNulls(data: Data): boolean {
  return data.nullCount !== 0 && data.nullBitmap !== undefined && data.nullBitmap.length > 0
}

function isValid(data: Data, i: number): boolean {
  const bit = data.offset + i
  return (((data.nullBitmap as Uint8Array)[bit >> 3] as number) & (1 << (bit & 7))) !== 0
}

function nonNullCount(data: Data, start: number, count: number): number {
  if (!hasNulls(data)) return count
  let n = 0
  for (let i = 0; i < count; i++) if (isValid(data, start + i)) n++
  return n
}

type Typed = ArrayBufferView & {
  readonly length: number
  [i: number]: number | bigint
  subarray(a: number, b?: number): Typed
}

/** The values of rows `[start, start+count)` that are not null (`range` holds those rows' values), of its kind. */
function compact(data: Data, range: Typed, start: number, count: number): Typed {
  if (!hasNulls(data)) return range
  const out = new (range.constructor as new (n: number) => Typed)(nonNullCount(data, start, count))
  let j = 0
  for (let i = 0; i < count; i++) if (isValid(data, start + i)) out[j++] = range[i] as number & bigint
  return out
}

const fixed =
  (widen?: (v: Typed) => Typed): Encode =>
  (data, start, count) => {
    const range = (data.values as unknown as Typed).subarray(start, start + count)
    return bytesOf(compact(data, widen ? widen(range) : range, start, count) as ArrayBufferView)
  }

const encodeBool: Encode = (data, start, count) => {
  const bits = data.values as Uint8Array
  const out = new Uint8Array(Math.ceil(nonNullCount(data, start, count) / 8))
  let j = 0
  for (let i = 0; i < count; i++) {
    if (hasNulls(data) && !isValid(data, start + i)) continue
    const b = data.offset + start + i
    if (((bits[b >> 3] as number) >> (b & 7)) & 1) out[j >> 3] = (out[j >> 3] as number) | (1 << (j & 7))
    j++
  }
  return out
}

const encodeBytes: Encode = (data, start, count) => {
  const offsets = data.valueOffsets as Int32Array
  const bytes = data.values as Uint8Array
  const nulls = hasNulls(data)
  let size = 0
  for (let i = 0; i < count; i++)
    if (!nulls || isValid(data, start + i))
      size += 4 + (offsets[start + i + 1] as number) - (offsets[start + i] as number)
  const out = new Uint8Array(size)
  let at = 0
  for (let i = 0; i < count; i++) {
    if (nulls && !isValid(data, start + i)) continue
    const from = offsets[start + i] as number
    const len = (offsets[start + i + 1] as number) - from
    out[at] = len & 0xff
    out[at + 1] = (len >>> 8) & 0xff
    out[at + 2] = (len >>> 16) & 0xff
    out[at + 3] = len >>> 24
    at += 4
    if (len > 32) out.set(bytes.subarray(from, from + len), at)
    else for (let k = 0; k < len; k++) out[at + k] = bytes[from + k] as number
    at += len
  }
  return out
}

/** Decimals (128-bit little-endian words in Arrow) narrowed to INT32 or INT64, or big-endian 16-byte values. */
function encodeDecimal(precision: number): Encode {
  return (data, start, count) => {
    const words = data.values as Uint32Array
    const rows: number[] = []
    const nulls = hasNulls(data)
    for (let i = 0; i < count; i++) if (!nulls || isValid(data, start + i)) rows.push(start + i)
    if (precision <= 9) {
      const out = new Int32Array(rows.length)
      rows.forEach((r, j) => {
        out[j] = words[4 * r] as number
      })
      return bytesOf(out)
    }
    if (precision <= 18) {
      const out = new Uint32Array(rows.length * 2)
      rows.forEach((r, j) => {
        out[2 * j] = words[4 * r] as number
        out[2 * j + 1] = words[4 * r + 1] as number
      })
      return bytesOf(out)
    }
    const src = bytesOf(words)
    const out = new Uint8Array(rows.length * 16)
    rows.forEach((r, j) => {
      for (let k = 0; k < 16; k++) out[16 * j + k] = src[16 * r + 15 - k] as number
    })
    return out
  }
}

const INT_CONVERTED: Record<string, number> = {
  i8: 15,
  i16: 16,
  i32: 17,
  i64: 18,
  u8: 11,
  u16: 12,
  u32: 13,
  u64: 14,
}

/** How one Arrow column is written, or `null` when its type has no direct Parquet form here. */
function planColumn(field: Field): ColumnPlan | null {
  const t = field.type as DataType & {
    bitWidth: number
    isSigned: boolean
    precision: number
    scale: number
    unit: number
    timezone?: string | null
  }
  const leaf = (physical: number, extra: ThriftStruct, encode: Encode): ColumnPlan => ({
    physical,
    encode,
    element: { 1: physical, 3: OPTIONAL, 4: field.name, ...extra },
  })
  switch (t.typeId) {
    case Type.Int: {
      const key = `${t.isSigned ? 'i' : 'u'}${t.bitWidth}`
      const extra = { 6: INT_CONVERTED[key], 10: { 10: { 1: { i8: t.bitWidth }, 2: t.isSigned } } }
      if (t.bitWidth === 64) return leaf(PHYSICAL.INT64, extra, fixed())
      if (t.bitWidth === 32) return leaf(PHYSICAL.INT32, extra, fixed())
      return leaf(
        PHYSICAL.INT32,
        extra,
        fixed((v) => Int32Array.from(v as unknown as ArrayLike<number>)),
      )
    }
    case Type.Float:
      if (t.precision === 1) return leaf(PHYSICAL.FLOAT, {}, fixed())
      if (t.precision === 2) return leaf(PHYSICAL.DOUBLE, {}, fixed())
      return null
    case Type.Bool:
      return leaf(PHYSICAL.BOOLEAN, {}, encodeBool)
    case Type.Utf8:
      return leaf(PHYSICAL.BYTE_ARRAY, { 6: 0, 10: { 1: {} } }, encodeBytes)
    case Type.Binary:
      return leaf(PHYSICAL.BYTE_ARRAY, {}, encodeBytes)
    case Type.Date:
      return t.unit === 0 ? leaf(PHYSICAL.INT32, { 6: 6, 10: { 6: {} } }, fixed()) : null
    case Type.Time:
      // TIME_MICROS, not adjusted to UTC (DuckDB's TIME)
      return t.unit === 2 && t.bitWidth === 64
        ? leaf(PHYSICAL.INT64, { 10: { 7: { 1: false, 2: { 2: {} } } } }, fixed())
        : null
    case Type.Timestamp:
      // MILLIS or MICROS; adjusted to UTC when the column has a time zone (DuckDB's TIMESTAMPTZ)
      return t.unit === 1 || t.unit === 2
        ? leaf(PHYSICAL.INT64, { 10: { 8: { 1: Boolean(t.timezone), 2: { [t.unit]: {} } } } }, fixed())
        : null
    case Type.Decimal: {
      if (t.bitWidth !== 128 || t.precision > 38 || t.precision < 1) return null
      const physical = t.precision <= 9 ? PHYSICAL.INT32 : t.precision <= 18 ? PHYSICAL.INT64 : PHYSICAL.FLBA
      return leaf(
        physical,
        {
          ...(physical === PHYSICAL.FLBA ? { 2: 16 } : {}),
          6: 5,
          7: t.scale,
          8: t.precision,
          10: { 5: { 1: t.scale, 2: t.precision } },
        },
        encodeDecimal(t.precision),
      )
    }
    default:
      return null
  }
}

/**
 * Whether {@link writeParquetFile} can write a table of this schema: at least one column, names distinct (ignoring
 * case, as DuckDB does), every column of a type with a direct Parquet form (integers, floats, booleans, strings,
 * binary, days, microsecond times, millisecond and microsecond timestamps, 128-bit decimals).
 */
export function parquetWritable(schema: Schema): boolean {
  const names = new Set(schema.fields.map((f) => f.name.toLowerCase()))
  return (
    schema.fields.length > 0 &&
    names.size === schema.fields.length &&
    schema.fields.every((f) => planColumn(f) !== null)
  )
}

function varint(n: number): number[] {
  const out: number[] = []
  let v = n >>> 0
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80)
    v >>>= 7
  }
  out.push(v)
  return out
}

/** Definition levels (0 null, 1 value) of rows `[start, start+count)`, with their 4-byte length prefix. */
function definitionLevels(data: Data, start: number, count: number): Uint8Array {
  let body: number[] | Uint8Array
  if (!hasNulls(data))
    body = [...varint(count << 1), 1] // one RLE run of 1s
  else {
    const groups = Math.ceil(count / 8)
    const header = varint((groups << 1) | 1) // one bit-packed run
    const bits = new Uint8Array(header.length + groups)
    bits.set(header)
    const from = data.offset + start
    const bitmap = data.nullBitmap as Uint8Array
    if (from % 8 === 0) bits.set(bitmap.subarray(from >> 3, (from >> 3) + groups), header.length)
    else
      for (let i = 0; i < count; i++)
        if (isValid(data, start + i))
          bits[header.length + (i >> 3)] = (bits[header.length + (i >> 3)] as number) | (1 << (i & 7))
    // bits past the last row are zero
    if (count % 8 !== 0) bits[bits.length - 1] = (bits[bits.length - 1] as number) & ((1 << (count % 8)) - 1)
    body = bits
  }
  const out = new Uint8Array(4 + body.length)
  new DataView(out.buffer).setUint32(0, body.length, true)
  out.set(body, 4)
  return out
}

/**
 * Writes an Arrow table as an uncompressed Parquet file (see {@link parquetWritable} for the column types it
 * takes) and returns its row count. Every column is nullable; DuckDB reads back the types it gives the same Arrow
 * columns (INTEGER, BIGINT, DOUBLE, VARCHAR, DECIMAL(p,s), DATE, TIMESTAMP, TIMESTAMPTZ, ...).
 */
export function writeParquetFile(table: Table, path: string): number {
  const fields = table.schema.fields
  const plans = fields.map((f) => {
    const p = planColumn(f)
    if (!p || !parquetWritable(table.schema))
      throw new Error(`column ${f.name} of type ${String(f.type)} has no Parquet form here`)
    return p
  })
  const fd = openSync(path, 'w')
  let at = 0
  const write = (b: Uint8Array): void => {
    let done = 0
    while (done < b.length) done += writeSync(fd, b, done, b.length - done, at + done)
    at += b.length
  }
  try {
    write(MAGIC)
    const batches = table.batches.filter((b) => b.numRows > 0)
    const rowGroups: ThriftStruct[] = []
    // row groups of up to ROW_GROUP_ROWS rows; each column chunk has a page per batch piece in the group
    let bi = 0
    let offsetInBatch = 0
    while (bi < batches.length) {
      const pieces: { batch: number; start: number; count: number }[] = []
      let rows = 0
      while (bi < batches.length && rows < ROW_GROUP_ROWS) {
        const b = batches[bi] as (typeof batches)[number]
        const count = Math.min(b.numRows - offsetInBatch, ROW_GROUP_ROWS - rows)
        pieces.push({ batch: bi, start: offsetInBatch, count })
        rows += count
        offsetInBatch += count
        if (offsetInBatch >= b.numRows) {
          bi++
          offsetInBatch = 0
        }
      }
      const groupStart = at
      const columns = plans.map((plan, c) => {
        const first = at
        for (const p of pieces) {
          const data = (batches[p.batch] as (typeof batches)[number]).data.children[c] as Data
          const levels = definitionLevels(data, p.start, p.count)
          const values = plan.encode(data, p.start, p.count)
          const size = levels.length + values.length
          const header = new ThriftWriter()
          header.struct({
            1: 0,
            2: size,
            3: size,
            5: { 1: p.count, 2: ENCODING.PLAIN, 3: ENCODING.RLE, 4: ENCODING.RLE },
          })
          write(header.bytes())
          write(levels)
          write(values)
        }
        const size = BigInt(at - first)
        return {
          2: BigInt(first),
          3: {
            1: plan.physical,
            2: { list: 'i32' as const, items: [ENCODING.PLAIN, ENCODING.RLE] },
            3: { list: 'string' as const, items: [(fields[c] as Field).name] },
            4: 0,
            5: BigInt(rows),
            6: size,
            7: size,
            9: BigInt(first),
          },
        }
      })
      rowGroups.push({
        1: { list: 'struct', items: columns },
        2: BigInt(at - groupStart),
        3: BigInt(rows),
      })
    }
    const meta = new ThriftWriter()
    meta.struct({
      1: 1,
      2: {
        list: 'struct',
        items: [{ 4: 'schema', 5: fields.length }, ...plans.map((p) => p.element)],
      },
      3: BigInt(table.numRows),
      4: { list: 'struct', items: rowGroups },
      6: 'tarn',
    })
    const footer = meta.bytes()
    write(footer)
    const len = new Uint8Array(4)
    new DataView(len.buffer).setUint32(0, footer.length, true)
    write(len)
    write(MAGIC)
  } finally {
    closeSync(fd)
  }
  return table.numRows
}
