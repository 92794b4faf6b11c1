import type { DuckDBConnection, DuckDBMaterializedResult, DuckDBType } from '@duckdb/node-api'
import { DuckDBTypeId } from '@duckdb/node-api'
import duckdb from '@duckdb/node-bindings'
import { type Data, type DataType, makeData, RecordBatch, type Schema, Struct, Type } from 'apache-arrow'
import { arrowSchemaOf, arrowTypeOf } from './arrow-convert.js'
import { quoteIdent } from './sql-quote.js'

/*
 * DuckDB vectors to Arrow data without a JavaScript value per cell: fixed-width columns (integers, floats, dates,
 * times, timestamps, decimals) are copied from the vector's memory as whole byte ranges, validity masks as bit
 * ranges (DuckDB's 64-bit validity words and Arrow's bitmaps share the least-significant-bit-first layout), lists and
 * structs recurse into their child vectors, and strings copy their bytes (never decoded to JS strings). Types with
 * no columnar form here (intervals, maps, unions, enums, UUIDs, huge integers) are cast in SQL first, to the form
 * `arrowTypeOf` gives them.
 */

/** Rows per Arrow record batch at most: DuckDB's 2,048-row chunks are joined, as small batches make IPC slow. */
const MAX_BATCH_ROWS = 16 * 1024 * 1024
/** Bytes of variable-width values (strings, lists) per batch at most: Arrow's 32-bit offsets stop at 2 GiB. */
const MAX_BATCH_BYTES = 512 * 1024 * 1024

const FIXED_BYTES: Partial<Record<DuckDBTypeId, number>> = {
  [DuckDBTypeId.TINYINT]: 1,
  [DuckDBTypeId.UTINYINT]: 1,
  [DuckDBTypeId.SMALLINT]: 2,
  [DuckDBTypeId.USMALLINT]: 2,
  [DuckDBTypeId.INTEGER]: 4,
  [DuckDBTypeId.UINTEGER]: 4,
  [DuckDBTypeId.DATE]: 4,
  [DuckDBTypeId.FLOAT]: 4,
  [DuckDBTypeId.BIGINT]: 8,
  [DuckDBTypeId.UBIGINT]: 8,
  [DuckDBTypeId.DOUBLE]: 8,
  [DuckDBTypeId.TIME]: 8,
  [DuckDBTypeId.TIMESTAMP]: 8,
  [DuckDBTypeId.TIMESTAMP_TZ]: 8,
  [DuckDBTypeId.TIMESTAMP_MS]: 8,
  [DuckDBTypeId.TIMESTAMP_NS]: 8,
  [DuckDBTypeId.TIMESTAMP_S]: 8,
}

/** Whether every part of a DuckDB type has a columnar conversion here. */
function columnar(t: DuckDBType): boolean {
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.BLOB:
      return true
    case DuckDBTypeId.DECIMAL:
      return true
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return columnar(t.valueType)
    case DuckDBTypeId.STRUCT:
      return t.entryTypes.every(columnar)
    default:
      return FIXED_BYTES[t.typeId] !== undefined
  }
}

/** The SQL cast that gives a column without a columnar conversion the type its Arrow form holds. */
function castOf(t: DuckDBType): string {
  return t.typeId === DuckDBTypeId.HUGEINT || t.typeId === DuckDBTypeId.UHUGEINT ? 'DECIMAL(38,0)' : 'VARCHAR'
}

function validityOf(vec: duckdb.Vector, count: number): Uint8Array | null {
  const words = duckdb.vector_get_validity(vec, Math.ceil(count / 64) * 8) as Uint8Array | null
  return words ? words.slice(0, Math.ceil(count / 8)) : null
}

function isValid(bitmap: Uint8Array | null, i: number): boolean {
  return bitmap === null || ((bitmap[i >> 3] as number) & (1 << (i & 7))) !== 0
}

function copyBytes(vec: duckdb.Vector, bytes: number): Uint8Array {
  return bytes === 0 ? new Uint8Array(0) : (duckdb.vector_get_data(vec, bytes) as Uint8Array).slice()
}

function decimalWords(vec: duckdb.Vector, width: number, count: number): Uint32Array {
  if (width > 18) return new Uint32Array(copyBytes(vec, count * 16).buffer)
  const out = new Uint32Array(count * 4)
  if (width > 9) {
    const src = new Int32Array(copyBytes(vec, count * 8).buffer)
    for (let i = 0; i < count; i++) {
      const hi = src[2 * i + 1] as number
      const sign = hi < 0 ? 0xffffffff : 0
      out[4 * i] = src[2 * i] as number
      out[4 * i + 1] = hi
      out[4 * i + 2] = sign
      out[4 * i + 3] = sign
    }
    return out
  }
  const src =
    width > 4
      ? new Int32Array(copyBytes(vec, count * 4).buffer)
      : new Int16Array(copyBytes(vec, count * 2).buffer)
  for (let i = 0; i < count; i++) {
    const v = src[i] as number
    const sign = v < 0 ? 0xffffffff : 0
    out[4 * i] = v
    out[4 * i + 1] = sign
    out[4 * i + 2] = sign
    out[4 * i + 3] = sign
  }
  return out
}

function stringData(type: DataType, vec: duckdb.Vector, count: number, bitmap: Uint8Array | null): Data {
  const raw = duckdb.vector_get_data(vec, count * 16) as Uint8Array
  const view = new DataView(raw.buffer, raw.byteOffset, count * 16)
  const offsets = new Int32Array(count + 1)
  let out = new Uint8Array(Math.max(64, count * 16))
  let at = 0
  for (let i = 0; i < count; i++) {
    if (isValid(bitmap, i)) {
      const len = view.getUint32(16 * i, true)
      if (at + len > out.length) {
        const grown = new Uint8Array(Math.max(out.length * 2, at + len))
        grown.set(out.subarray(0, at))
        out = grown
      }
      if (len <= 12) out.set(raw.subarray(16 * i + 4, 16 * i + 4 + len), at)
      else
        out.set(duckdb.get_data_from_pointer(raw.buffer as ArrayBuffer, raw.byteOffset + 16 * i + 8, len), at)
      at += len
    }
    offsets[i + 1] = at
  }
  return makeData({
    type,
    length: count,
    nullCount: -1,
    nullBitmap: bitmap,
    valueOffsets: offsets,
    data: out.slice(0, at),
  } as Parameters<typeof makeData>[0])
}

/** Copies `n` bits of `src` from bit `from` into `dst` at bit `at` (whole bytes when both are byte-aligned). */
function copyBits(dst: Uint8Array, at: number, src: Uint8Array | null, from: number, n: number): void {
  if (src === null) {
    let i = 0
    for (; i < n && (at + i) % 8 !== 0; i++)
      dst[(at + i) >> 3] = (dst[(at + i) >> 3] as number) | (1 << ((at + i) & 7))
    const whole = (n - i) >> 3
    dst.fill(0xff, (at + i) >> 3, ((at + i) >> 3) + whole)
    for (i += whole * 8; i < n; i++)
      dst[(at + i) >> 3] = (dst[(at + i) >> 3] as number) | (1 << ((at + i) & 7))
    return
  }
  if (at % 8 === 0 && from % 8 === 0) {
    const whole = n >> 3
    dst.set(src.subarray(from >> 3, (from >> 3) + whole), at >> 3)
    for (let i = whole * 8; i < n; i++)
      if (((src[(from + i) >> 3] as number) >> ((from + i) & 7)) & 1)
        dst[(at + i) >> 3] = (dst[(at + i) >> 3] as number) | (1 << ((at + i) & 7))
    return
  }
  for (let i = 0; i < n; i++)
    if (((src[(from + i) >> 3] as number) >> ((from + i) & 7)) & 1)
      dst[(at + i) >> 3] = (dst[(at + i) >> 3] as number) | (1 << ((at + i) & 7))
}

type Typed = ArrayBufferView & {
  length: number
  subarray(a: number, b?: number): Typed
  set(a: Typed, at: number): void
}

function concatTyped(parts: readonly Typed[], ctor: new (n: number) => Typed): Typed {
  const out = new ctor(parts.reduce((a, p) => a + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** One Arrow data of the parts (each at offset 0, as {@link vectorData} makes them), end to end. */
function concatData(parts: readonly Data[]): Data {
  const first = parts[0] as Data
  if (parts.length === 1) return first
  const type = first.type
  const length = parts.reduce((a, p) => a + p.length, 0)
  let nullBitmap: Uint8Array | null = null
  if (parts.some((p) => p.nullBitmap && p.nullBitmap.length > 0 && p.nullCount !== 0)) {
    nullBitmap = new Uint8Array(Math.ceil(length / 8))
    let at = 0
    for (const p of parts) {
      copyBits(
        nullBitmap,
        at,
        p.nullBitmap && p.nullBitmap.length > 0 ? p.nullBitmap : null,
        p.offset,
        p.length,
      )
      at += p.length
    }
  }
  const base = { type, length, nullCount: nullBitmap ? -1 : 0, nullBitmap }
  const make = (extra: Record<string, unknown>): Data =>
    makeData({ ...base, ...extra } as Parameters<typeof makeData>[0])
  const offsetsOf = (sizes: readonly number[]): Int32Array => {
    const out = new Int32Array(length + 1)
    let at = 0
    let base = 0
    parts.forEach((p, k) => {
      const offs = p.valueOffsets as Int32Array
      for (let i = 1; i <= p.length; i++) out[at + i] = base + (offs[i] as number) - (offs[0] as number)
      at += p.length
      base += sizes[k] as number
    })
    return out
  }
  switch (type.typeId) {
    case Type.Bool: {
      const bits = new Uint8Array(Math.ceil(length / 8))
      let at = 0
      for (const p of parts) {
        copyBits(bits, at, p.values as Uint8Array, p.offset, p.length)
        at += p.length
      }
      return make({ data: bits })
    }
    case Type.Utf8:
    case Type.Binary: {
      const values = parts.map((p) => {
        const offs = p.valueOffsets as Int32Array
        return (p.values as Uint8Array).subarray(offs[0] as number, offs[p.length] as number)
      })
      return make({
        valueOffsets: offsetsOf(values.map((v) => v.length)),
        data: concatTyped(values as unknown as Typed[], Uint8Array as unknown as new (n: number) => Typed),
      })
    }
    case Type.List: {
      const children = parts.map((p) => p.children[0] as Data)
      return make({ valueOffsets: offsetsOf(children.map((c) => c.length)), child: concatData(children) })
    }
    case Type.Struct:
      return make({
        children: type.children.map((_f: unknown, i: number) =>
          concatData(parts.map((p) => p.children[i] as Data)),
        ),
      })
    default: {
      const values = parts.map((p) => p.values as unknown as Typed)
      return make({ data: concatTyped(values, (values[0] as Typed).constructor as new (n: number) => Typed) })
    }
  }
}

/**
 * Thrown when a list vector's entries are not laid out in row order; the caller converts value by value.
 */
export class NonContiguousList extends Error {}

function vectorData(vec: duckdb.Vector, t: DuckDBType, count: number): Data {
  const type = arrowTypeOf(t)
  const bitmap = validityOf(vec, count)
  const base = { type, length: count, nullCount: bitmap ? -1 : 0, nullBitmap: bitmap }
  const make = (extra: Record<string, unknown>): Data =>
    makeData({ ...base, ...extra } as Parameters<typeof makeData>[0])
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN: {
      const bytes = count === 0 ? new Uint8Array(0) : (duckdb.vector_get_data(vec, count) as Uint8Array)
      const bits = new Uint8Array(Math.ceil(count / 8))
      for (let i = 0; i < count; i++) if (bytes[i]) bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7))
      return make({ data: bits })
    }
    case DuckDBTypeId.DECIMAL:
      return make({ data: decimalWords(vec, t.width, count) })
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.BLOB:
      return stringData(type, vec, count, bitmap)
    case DuckDBTypeId.LIST: {
      const entries = new Uint32Array(copyBytes(vec, count * 16).buffer)
      const offsets = new Int32Array(count + 1)
      let at = 0
      for (let i = 0; i < count; i++) {
        if (isValid(bitmap, i)) {
          if ((entries[4 * i] as number) !== at || (entries[4 * i + 1] as number) !== 0)
            throw new NonContiguousList()
          at += entries[4 * i + 2] as number
        }
        offsets[i + 1] = at
      }
      const size = duckdb.list_vector_get_size(vec)
      const child = vectorData(duckdb.list_vector_get_child(vec), t.valueType, Math.max(size, at))
      return make({ valueOffsets: offsets, child: child.slice(0, at) })
    }
    case DuckDBTypeId.ARRAY: {
      const offsets = new Int32Array(count + 1)
      for (let i = 0; i <= count; i++) offsets[i] = i * t.length
      const child = vectorData(duckdb.array_vector_get_child(vec), t.valueType, count * t.length)
      return make({ valueOffsets: offsets, child })
    }
    case DuckDBTypeId.STRUCT: {
      const children = t.entryTypes.map((et, i) =>
        vectorData(duckdb.struct_vector_get_child(vec, i), et, count),
      )
      return make({ children })
    }
    default: {
      const width = FIXED_BYTES[t.typeId] as number
      const bytes = copyBytes(vec, count * width)
      const ctor = (type as DataType & { ArrayType: new (b: ArrayBuffer) => ArrayBufferView }).ArrayType
      return make({ data: new ctor(bytes.buffer) })
    }
  }
}

/**
 * Runs a query and returns its rows as Arrow record batches, converting column by column: types keep their exact
 * form (decimals as 128-bit decimals, timestamps in their unit, TIMESTAMPTZ in UTC, lists and structs nested), the
 * others become the text (or decimal) form {@link arrowTypeOf} gives them. The result is materialised by DuckDB (its
 * threads run the whole query in one call) and its chunks are read synchronously: a streamed result costs a
 * round trip through the thread pool per 2,048-row chunk, which a loaded machine turns into most of the time.
 * Batches are as large as the result (up to {@link MAX_BATCH_ROWS} rows, or until variable-width columns reach
 * {@link MAX_BATCH_BYTES}), so a column of a typical input is one contiguous array (`toArray()` copies nothing).
 * Throws {@link NonContiguousList} when DuckDB hands back a list vector whose entries are out of row order.
 */
export async function queryToArrowBatches(
  conn: DuckDBConnection,
  sql: string,
): Promise<{ schema: Schema; batches: RecordBatch[] }> {
  let prepared = await conn.prepare(sql)
  const first = Array.from({ length: prepared.columnCount }, (_v, i) => prepared.columnType(i))
  const casts = first.map((t) => !columnar(t))
  if (casts.some(Boolean)) {
    const names = Array.from({ length: prepared.columnCount }, (_v, i) => prepared.columnName(i))
    const cols = names.map((n, i) =>
      casts[i]
        ? `CAST(${quoteIdent(n)} AS ${castOf(first[i] as DuckDBType)}) AS ${quoteIdent(n)}`
        : quoteIdent(n),
    )
    prepared.destroySync()
    prepared = await conn.prepare(`SELECT ${cols.join(', ')} FROM (${sql}) AS q`)
  }
  let result: DuckDBMaterializedResult
  try {
    result = await prepared.run()
  } finally {
    prepared.destroySync()
  }
  const types = result.columnTypes()
  const schema = arrowSchemaOf(result.deduplicatedColumnNames(), types)
  const total = result.rowCount
  const batches: RecordBatch[] = []
  // Fixed-width columns are copied straight from each chunk's vector into the batch's buffers; the others are
  // converted chunk by chunk and joined when the batch is complete.
  const widths = types.map((t) => FIXED_BYTES[t.typeId] ?? 0)
  let done = 0
  let capacity = 0
  let buffers: (Uint8Array | null)[] = []
  let bitmaps: (Uint8Array | null)[] = []
  let pending: Data[][] = []
  let pendingBytes = 0
  let rows = 0
  const start = (atLeast: number): void => {
    capacity = Math.max(Math.min(total - done, MAX_BATCH_ROWS), atLeast)
    // not zero-filled (tens of MB for a large input): every row up to the batch's length is copied in before use
    buffers = widths.map((w) => (w > 0 ? Buffer.allocUnsafeSlow(capacity * w) : null))
    bitmaps = widths.map(() => null)
    pending = types.map(() => [])
    pendingBytes = 0
    rows = 0
  }
  const flush = (): void => {
    if (rows === 0) return
    const children = types.map((_t, i) => {
      const buf = buffers[i]
      if (!buf) return concatData(pending[i] as Data[])
      const type = schema.fields[i]?.type as DataType & {
        ArrayType: new (b: ArrayBuffer, o: number, n: number) => ArrayBufferView
      }
      const bitmap = bitmaps[i] ?? null
      return makeData({
        type,
        length: rows,
        nullCount: bitmap ? -1 : 0,
        nullBitmap: bitmap ? bitmap.subarray(0, Math.ceil(rows / 8)) : null,
        data: new type.ArrayType(buf.buffer, 0, rows),
      } as Parameters<typeof makeData>[0])
    })
    const data = makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children })
    batches.push(new RecordBatch(schema, data))
    done += rows
  }
  start(0)
  const chunks = result.chunkCount
  for (let c = 0; c < chunks; c++) {
    const chunk = result.getChunk(c)
    const count = chunk.rowCount
    if (count === 0) continue
    if (rows + count > capacity) {
      flush()
      start(count)
    }
    types.forEach((t, i) => {
      const vec = duckdb.data_chunk_get_vector(chunk.chunk, i)
      const buf = buffers[i]
      if (!buf) {
        const d = vectorData(vec, t, count)
        pendingBytes += d.byteLength
        pending[i]?.push(d)
        return
      }
      const w = widths[i] as number
      buf.set(duckdb.vector_get_data(vec, count * w) as Uint8Array, rows * w)
      const valid = validityOf(vec, count)
      if (valid) {
        let bitmap = bitmaps[i]
        if (!bitmap) {
          // rows before this chunk were all valid
          bitmap = new Uint8Array(Math.ceil(capacity / 8))
          copyBits(bitmap, 0, null, 0, rows)
          bitmaps[i] = bitmap
        }
        copyBits(bitmap, rows, valid, 0, count)
      } else if (bitmaps[i]) copyBits(bitmaps[i] as Uint8Array, rows, null, 0, count)
    })
    rows += count
    if (rows >= capacity || pendingBytes >= MAX_BATCH_BYTES) {
      flush()
      start(0)
    }
  }
  flush()
  return { schema, batches }
}
