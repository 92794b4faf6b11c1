import { TarnError } from '../../util/errors.js'
import type { AvroComplexSchema, AvroField, AvroSchema, AvroValue } from './avro-schema.js'

const utf8Decoder = new TextDecoder()
const utf8Encoder = new TextEncoder()

/**
 * A cursor over Avro binary data (zig-zag varints, IEEE floats, length-prefixed bytes).
 */
export class AvroBinaryReader {
  pos = 0
  private readonly view: DataView
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }
  /** True when every byte has been read. */
  get done(): boolean {
    return this.pos >= this.buf.length
  }
  /** A zig-zag varint long as bigint. */
  readLong(): bigint {
    let shift = 0n
    let result = 0n
    for (;;) {
      const b = this.buf[this.pos++]
      if (b === undefined) throw new TarnError('INVALID_ARGUMENT', 'Truncated Avro data')
      result |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) break
      shift += 7n
    }
    return (result >> 1n) ^ -(result & 1n)
  }
  /** A zig-zag varint int. */
  readInt(): number {
    let shift = 0
    let result = 0
    for (;;) {
      const b = this.buf[this.pos++]
      if (b === undefined) throw new TarnError('INVALID_ARGUMENT', 'Truncated Avro data')
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) break
      shift += 7
      if (shift > 35) return Number(this.readLongTail(result, shift))
    }
    return result % 2 === 1 ? -(result + 1) / 2 : result / 2
  }
  private readLongTail(prefix: number, shift: number): bigint {
    let result = BigInt(prefix)
    let s = BigInt(shift)
    for (;;) {
      const b = this.buf[this.pos++]
      if (b === undefined) throw new TarnError('INVALID_ARGUMENT', 'Truncated Avro data')
      result |= BigInt(b & 0x7f) << s
      if ((b & 0x80) === 0) break
      s += 7n
    }
    return (result >> 1n) ^ -(result & 1n)
  }
  /** A length-prefixed byte string. */
  readBytes(): Uint8Array {
    const n = this.readInt()
    return this.readFixed(n)
  }
  /** `n` raw bytes. */
  readFixed(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new TarnError('INVALID_ARGUMENT', 'Truncated Avro data')
    const out = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }
  /** A UTF-8 string. */
  readString(): string {
    return utf8Decoder.decode(this.readBytes())
  }
  /** A 4-byte float. */
  readFloat(): number {
    const v = this.view.getFloat32(this.pos, true)
    this.pos += 4
    return v
  }
  /** An 8-byte double. */
  readDouble(): number {
    const v = this.view.getFloat64(this.pos, true)
    this.pos += 8
    return v
  }
}

/**
 * A growable Avro binary output buffer.
 */
export class AvroBinaryWriter {
  private buf = new Uint8Array(1024)
  private len = 0
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.len + n) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
  }
  /** Appends raw bytes. */
  writeRaw(b: Uint8Array): void {
    this.ensure(b.length)
    this.buf.set(b, this.len)
    this.len += b.length
  }
  /** A zig-zag varint long. */
  writeLong(v: bigint | number): void {
    let n = BigInt(v)
    n = n < 0n ? (-n << 1n) - 1n : n << 1n
    this.ensure(10)
    while (n >= 0x80n) {
      this.buf[this.len++] = Number(n & 0x7fn) | 0x80
      n >>= 7n
    }
    this.buf[this.len++] = Number(n)
  }
  /** A length-prefixed byte string. */
  writeBytes(b: Uint8Array): void {
    this.writeLong(b.length)
    this.writeRaw(b)
  }
  /** A UTF-8 string. */
  writeString(s: string): void {
    this.writeBytes(utf8Encoder.encode(s))
  }
  /** A 4-byte float. */
  writeFloat(v: number): void {
    this.ensure(4)
    new DataView(this.buf.buffer).setFloat32(this.len, v, true)
    this.len += 4
  }
  /** An 8-byte double. */
  writeDouble(v: number): void {
    this.ensure(8)
    new DataView(this.buf.buffer).setFloat64(this.len, v, true)
    this.len += 8
  }
  /** Bytes written so far (a copy). */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len)
  }
  /** Number of bytes written so far. */
  get length(): number {
    return this.len
  }
}

/**
 * Named types of a schema (records, enums, fixed), by full and short name, for resolving type references.
 */
export function collectNamedTypes(
  schema: AvroSchema,
  out = new Map<string, AvroComplexSchema>(),
): Map<string, AvroComplexSchema> {
  if (typeof schema === 'string') return out
  if (Array.isArray(schema)) {
    for (const s of schema as readonly AvroSchema[]) collectNamedTypes(s, out)
    return out
  }
  const c = schema as AvroComplexSchema
  if (typeof c.name === 'string' && (c.type === 'record' || c.type === 'enum' || c.type === 'fixed')) {
    out.set(c.name, c)
    if (typeof c.namespace === 'string') out.set(`${c.namespace}.${c.name}`, c)
  }
  if (c.fields) for (const f of c.fields) collectNamedTypes(f.type, out)
  if (c.items !== undefined) collectNamedTypes(c.items, out)
  if (c.values !== undefined) collectNamedTypes(c.values, out)
  if (typeof c.type !== 'string') collectNamedTypes(c.type, out)
  return out
}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'])

function resolve(schema: AvroSchema, names: Map<string, AvroComplexSchema>): AvroSchema {
  if (typeof schema === 'string' && !PRIMITIVES.has(schema)) {
    const named = names.get(schema)
    if (!named) throw new TarnError('INVALID_ARGUMENT', `Unknown Avro type ${schema}`)
    return named
  }
  return schema
}

/**
 * Decodes one value of `schema` from `r`.
 */
export function decodeAvroValue(
  schema: AvroSchema,
  r: AvroBinaryReader,
  names: Map<string, AvroComplexSchema>,
): AvroValue {
  const s = resolve(schema, names)
  if (typeof s === 'string') {
    switch (s) {
      case 'null':
        return null
      case 'boolean':
        return r.readFixed(1)[0] === 1
      case 'int':
        return r.readInt()
      case 'long':
        return r.readLong()
      case 'float':
        return r.readFloat()
      case 'double':
        return r.readDouble()
      case 'bytes':
        return r.readBytes().slice()
      case 'string':
        return r.readString()
    }
    throw new TarnError('INVALID_ARGUMENT', `Unknown Avro type ${s}`)
  }
  if (Array.isArray(s)) {
    const branches = s as readonly AvroSchema[]
    const idx = r.readInt()
    const branch = branches[idx]
    if (branch === undefined) throw new TarnError('INVALID_ARGUMENT', `Bad Avro union index ${idx}`)
    return decodeAvroValue(branch, r, names)
  }
  const c = s as AvroComplexSchema
  switch (c.type) {
    case 'record': {
      const out: Record<string, AvroValue> = {}
      for (const f of c.fields ?? []) out[f.name] = decodeAvroValue(f.type, r, names)
      return out
    }
    case 'array': {
      const out: AvroValue[] = []
      for (;;) {
        let n = r.readInt()
        if (n === 0) break
        if (n < 0) {
          n = -n
          r.readLong()
        }
        for (let i = 0; i < n; i++) out.push(decodeAvroValue(c.items ?? 'null', r, names))
      }
      return out
    }
    case 'map': {
      const out: Record<string, AvroValue> = {}
      for (;;) {
        let n = r.readInt()
        if (n === 0) break
        if (n < 0) {
          n = -n
          r.readLong()
        }
        for (let i = 0; i < n; i++) {
          const k = r.readString()
          out[k] = decodeAvroValue(c.values ?? 'null', r, names)
        }
      }
      return out
    }
    case 'enum':
      return c.symbols?.[r.readInt()] ?? null
    case 'fixed':
      return r.readFixed(c.size ?? 0).slice()
    default:
      return decodeAvroValue(c.type, r, names)
  }
}

function isNullSchema(s: AvroSchema): boolean {
  return (
    s === 'null' || (typeof s === 'object' && !Array.isArray(s) && (s as AvroComplexSchema).type === 'null')
  )
}

/**
 * Encodes one value of `schema` into `w`. Unions pick the `null` branch for null and the first non-null branch
 * otherwise. Missing record fields are written as null.
 */
export function encodeAvroValue(
  schema: AvroSchema,
  value: AvroValue | undefined,
  w: AvroBinaryWriter,
  names: Map<string, AvroComplexSchema>,
): void {
  const s = resolve(schema, names)
  const bad = (): TarnError =>
    new TarnError('INVALID_ARGUMENT', `Cannot encode ${String(value)} as Avro ${JSON.stringify(s)}`)
  if (typeof s === 'string') {
    switch (s) {
      case 'null':
        if (value !== null && value !== undefined) throw bad()
        return
      case 'boolean':
        if (typeof value !== 'boolean') throw bad()
        w.writeRaw(new Uint8Array([value ? 1 : 0]))
        return
      case 'int':
      case 'long':
        if (typeof value !== 'number' && typeof value !== 'bigint') throw bad()
        w.writeLong(value)
        return
      case 'float':
        if (typeof value !== 'number') throw bad()
        w.writeFloat(value)
        return
      case 'double':
        if (typeof value !== 'number') throw bad()
        w.writeDouble(value)
        return
      case 'bytes':
        if (!(value instanceof Uint8Array)) throw bad()
        w.writeBytes(value)
        return
      case 'string':
        if (typeof value !== 'string') throw bad()
        w.writeString(value)
        return
    }
    throw bad()
  }
  if (Array.isArray(s)) {
    const branches = s as readonly AvroSchema[]
    const isNull = value === null || value === undefined
    const idx = branches.findIndex((b) => isNullSchema(b) === isNull)
    if (idx < 0) throw bad()
    w.writeLong(idx)
    encodeAvroValue(branches[idx] as AvroSchema, value, w, names)
    return
  }
  const c = s as AvroComplexSchema
  switch (c.type) {
    case 'record': {
      if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array)
        throw bad()
      const rec = value as { readonly [k: string]: AvroValue }
      for (const f of c.fields ?? []) encodeField(f, rec[f.name], w, names)
      return
    }
    case 'array': {
      if (!Array.isArray(value)) throw bad()
      const arr = value as readonly AvroValue[]
      if (arr.length > 0) {
        w.writeLong(arr.length)
        for (const v of arr) encodeAvroValue(c.items ?? 'null', v, w, names)
      }
      w.writeLong(0)
      return
    }
    case 'map': {
      if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array)
        throw bad()
      const entries = Object.entries(value as { readonly [k: string]: AvroValue })
      if (entries.length > 0) {
        w.writeLong(entries.length)
        for (const [k, v] of entries) {
          w.writeString(k)
          encodeAvroValue(c.values ?? 'null', v, w, names)
        }
      }
      w.writeLong(0)
      return
    }
    case 'enum': {
      const idx = c.symbols?.indexOf(String(value)) ?? -1
      if (idx < 0) throw bad()
      w.writeLong(idx)
      return
    }
    case 'fixed':
      if (!(value instanceof Uint8Array) || value.length !== c.size) throw bad()
      w.writeRaw(value)
      return
    default:
      encodeAvroValue(c.type, value, w, names)
  }
}

function encodeField(
  f: AvroField,
  v: AvroValue | undefined,
  w: AvroBinaryWriter,
  names: Map<string, AvroComplexSchema>,
): void {
  encodeAvroValue(f.type, v === undefined ? null : v, w, names)
}
