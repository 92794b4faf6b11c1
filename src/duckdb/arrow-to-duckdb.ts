import {
  BIGINT,
  BLOB,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  type DuckDBConnection,
  DuckDBDataChunk,
  type DuckDBType,
  FLOAT,
  INTEGER,
  LIST,
  SMALLINT,
  STRUCT,
  TIME,
  TIMESTAMP,
  TIMESTAMPTZ,
  TINYINT,
  UBIGINT,
  UINTEGER,
  USMALLINT,
  UTINYINT,
  VARCHAR,
} from '@duckdb/node-api'
import duckdb from '@duckdb/node-bindings'
import { type Data, type DataType, type Field, type Table, Type } from 'apache-arrow'
import { quoteIdent } from './sql-quote.js'

/*
 * Arrow data to DuckDB vectors without a JavaScript value per cell where the layouts agree: integers, floats,
 * DATE (days) and TIME/TIMESTAMP in microseconds are copied into each 2048-row data chunk as one byte range, validity
 * bitmaps as one bit range (Arrow's bitmaps and DuckDB's validity words are both least-significant-bit first), and
 * lists and structs recurse into their child vectors. Decimals are narrowed to DuckDB's storage width, booleans
 * unpacked from bits, other time units rescaled, and strings handed over as byte ranges (never decoded to JS
 * strings). Anything else (dictionaries, intervals, maps, unions, ...) is written as its text.
 */

const CHUNK = 2048

/**
 * The DuckDB type that holds an Arrow type exactly, or `null` when the column is written as text.
 */
export function duckTypeOfArrow(t: DataType): DuckDBType | null {
  const a = t as DataType & {
    bitWidth: number
    isSigned: boolean
    precision: number
    scale: number
    unit: number
    timezone?: string | null
    children: Field[]
  }
  switch (t.typeId) {
    case Type.Int: {
      const signed = [TINYINT, SMALLINT, INTEGER, BIGINT]
      const unsigned = [UTINYINT, USMALLINT, UINTEGER, UBIGINT]
      const i = Math.log2(a.bitWidth / 8)
      return (a.isSigned ? signed : unsigned)[i] ?? null
    }
    case Type.Float:
      return a.precision === 1 ? FLOAT : a.precision === 2 ? DOUBLE : null
    case Type.Decimal:
      return a.bitWidth === 128 && a.precision <= 38 ? DECIMAL(a.precision, a.scale) : null
    case Type.Bool:
      return BOOLEAN
    case Type.Utf8:
      return VARCHAR
    case Type.Binary:
      return BLOB
    case Type.Date:
      return DATE
    case Type.Time:
      return TIME
    case Type.Timestamp:
      return a.timezone ? TIMESTAMPTZ : TIMESTAMP
    case Type.List: {
      const child = duckTypeOfArrow((a.children[0] as Field).type)
      return child ? LIST(child) : null
    }
    case Type.Struct: {
      const entries: Record<string, DuckDBType> = {}
      for (const f of a.children) {
        const c = duckTypeOfArrow(f.type)
        if (!c) return null
        entries[f.name] = c
      }
      return a.children.length > 0 ? STRUCT(entries) : null
    }
    default:
      return null
  }
}

function isValid(data: Data, i: number): boolean {
  const bitmap = data.nullBitmap
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return true
  const bit = data.offset + i
  return ((bitmap[bit >> 3] as number) & (1 << (bit & 7))) !== 0
}

function writeValidity(vec: duckdb.Vector, data: Data, start: number, count: number): void {
  const bitmap = data.nullBitmap
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0 || count === 0) return
  duckdb.vector_ensure_validity_writable(vec)
  const bit = data.offset + start
  const bytes = Math.ceil(count / 8)
  if (bit % 8 === 0) {
    duckdb.copy_data_to_vector_validity(
      vec,
      0,
      bitmap.buffer as ArrayBuffer,
      bitmap.byteOffset + bit / 8,
      bytes,
    )
    return
  }
  const shifted = new Uint8Array(bytes)
  for (let i = 0; i < count; i++)
    if (isValid(data, start + i)) shifted[i >> 3] = (shifted[i >> 3] as number) | (1 << (i & 7))
  duckdb.copy_data_to_vector_validity(vec, 0, shifted.buffer, 0, bytes)
}

function copyTyped(
  vec: duckdb.Vector,
  values: ArrayBufferView & { BYTES_PER_ELEMENT: number },
  first: number,
  count: number,
): void {
  if (count === 0) return
  const w = values.BYTES_PER_ELEMENT
  duckdb.copy_data_to_vector(vec, 0, values.buffer as ArrayBuffer, values.byteOffset + first * w, count * w)
}

const MICROS_PER_UNIT = [1_000_000n, 1_000n, 1n] // SECOND, MILLISECOND, MICROSECOND (NANOSECOND divides)

function toMicros(
  values: BigInt64Array | Int32Array,
  unit: number,
  start: number,
  count: number,
): BigInt64Array {
  const out = new BigInt64Array(count)
  for (let i = 0; i < count; i++) {
    const v = BigInt(values[start + i] as number | bigint)
    out[i] = unit === 3 ? v / 1000n : v * (MICROS_PER_UNIT[unit] as bigint)
  }
  return out
}

function writeVector(vec: duckdb.Vector, data: Data, start: number, count: number): void {
  writeValidity(vec, data, start, count)
  const t = data.type as DataType & { unit: number; precision: number; bitWidth: number }
  const values = data.values as ArrayBufferView & { BYTES_PER_ELEMENT: number; length: number }
  switch (t.typeId) {
    case Type.Int:
    case Type.Float:
      copyTyped(vec, values, start, count)
      return
    case Type.Bool: {
      const bits = data.values as Uint8Array
      const out = new Uint8Array(count)
      for (let i = 0; i < count; i++) {
        const b = data.offset + start + i
        out[i] = ((bits[b >> 3] as number) >> (b & 7)) & 1
      }
      copyTyped(vec, out, 0, count)
      return
    }
    case Type.Decimal: {
      const words = data.values as Uint32Array
      const p = t.precision
      if (p > 18) {
        copyTyped(vec, words, start * 4, count * 4)
        return
      }
      const out = p > 9 ? new Uint32Array(count * 2) : p > 4 ? new Int32Array(count) : new Int16Array(count)
      if (p > 9)
        for (let i = 0; i < count; i++) {
          out[2 * i] = words[4 * (start + i)] as number
          out[2 * i + 1] = words[4 * (start + i) + 1] as number
        }
      else for (let i = 0; i < count; i++) out[i] = words[4 * (start + i)] as number
      copyTyped(vec, out, 0, out.length)
      return
    }
    case Type.Date: {
      if (t.unit === 0) {
        copyTyped(vec, values, start, count)
        return
      }
      const out = new Int32Array(count)
      const ms = data.values as BigInt64Array | Float64Array
      for (let i = 0; i < count; i++) out[i] = Math.floor(Number(ms[start + i]) / 86_400_000)
      copyTyped(vec, out, 0, count)
      return
    }
    case Type.Time:
    case Type.Timestamp:
      if (t.unit === 2) copyTyped(vec, values, start, count)
      else copyTyped(vec, toMicros(data.values as BigInt64Array | Int32Array, t.unit, start, count), 0, count)
      return
    case Type.Utf8:
    case Type.Binary: {
      const offsets = data.valueOffsets as Int32Array
      const bytes = data.values as Uint8Array
      for (let i = 0; i < count; i++) {
        if (!isValid(data, start + i)) continue
        const from = offsets[start + i] as number
        duckdb.vector_assign_string_element_len(
          vec,
          i,
          bytes.subarray(from, offsets[start + i + 1] as number),
        )
      }
      return
    }
    case Type.List: {
      const offsets = data.valueOffsets as Int32Array
      const first = offsets[start] as number
      const size = (offsets[start + count] as number) - first
      const entries = new Uint32Array(count * 4)
      for (let i = 0; i < count; i++) {
        const from = offsets[start + i] as number
        entries[4 * i] = from - first
        entries[4 * i + 2] = (offsets[start + i + 1] as number) - from
      }
      duckdb.list_vector_reserve(vec, size)
      writeVector(duckdb.list_vector_get_child(vec), data.children[0] as Data, first, size)
      duckdb.list_vector_set_size(vec, size)
      copyTyped(vec, entries, 0, entries.length)
      return
    }
    case Type.Struct:
      data.children.forEach((c, i) => {
        writeVector(duckdb.struct_vector_get_child(vec, i), c, start, count)
      })
      return
    default:
      throw new Error(`no columnar form for Arrow type ${String(t)}`)
  }
}

function textOf(v: unknown): string {
  if (typeof v === 'string') return v
  if (typeof v === 'object' && v !== null) {
    const plain = (v as { toJSON?: () => unknown }).toJSON ? (v as { toJSON: () => unknown }).toJSON() : v
    return JSON.stringify(plain, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))
  }
  return String(v)
}

/**
 * Loads an Arrow table into a new DuckDB table (`name`) chunk by chunk, column by column, keeping every type with
 * an exact DuckDB counterpart ({@link duckTypeOfArrow}: integers of every width, floats, DECIMAL(p,s), booleans,
 * strings, blobs, DATE, TIME, TIMESTAMP, TIMESTAMPTZ, and lists and structs of these); other columns hold their
 * text. Returns the column names and the row count.
 */
export async function arrowTableToDuckDB(
  conn: DuckDBConnection,
  table: Table,
  name: string,
): Promise<{ columns: string[]; rows: number }> {
  const fields: Field[] = table.schema.fields
  if (fields.length === 0) throw new Error('the function returned a table without columns')
  const exact = fields.map((f) => duckTypeOfArrow(f.type))
  const types = exact.map((t) => t ?? VARCHAR)
  await conn.run(
    `CREATE OR REPLACE TABLE ${quoteIdent(name)} (${fields.map((f, i) => `${quoteIdent(f.name)} ${(types[i] as DuckDBType).toString()}`).join(', ')})`,
  )
  const app = await conn.createAppender(name)
  try {
    for (const batch of table.batches) {
      for (let start = 0; start < batch.numRows; start += CHUNK) {
        const count = Math.min(CHUNK, batch.numRows - start)
        const chunk = DuckDBDataChunk.create(types, count)
        fields.forEach((_f, c) => {
          const vec = duckdb.data_chunk_get_vector(chunk.chunk, c)
          if (exact[c]) {
            writeVector(vec, batch.data.children[c] as Data, start, count)
            return
          }
          const column = batch.getChildAt(c)
          duckdb.vector_ensure_validity_writable(vec)
          const validity = duckdb.vector_get_validity(vec, Math.ceil(count / 64) * 8) as Uint8Array
          for (let i = 0; i < count; i++) {
            const v: unknown = column?.get(start + i)
            if (v === null || v === undefined) duckdb.validity_set_row_invalid(validity, i)
            else duckdb.vector_assign_string_element(vec, i, textOf(v))
          }
        })
        chunk.rowCount = count
        app.appendDataChunk(chunk)
      }
    }
    app.flushSync()
  } finally {
    app.closeSync()
  }
  return { columns: fields.map((f) => f.name), rows: table.numRows }
}
