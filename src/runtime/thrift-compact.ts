/*
 * Thrift's compact protocol, the write side only and only what Parquet metadata uses: structs of i32/i64/bool/
 * binary fields, lists of structs, i32s and strings.
 */

/** Compact-protocol type codes of a field or list element. */
const T = { TRUE: 1, FALSE: 2, BYTE: 3, I32: 5, I64: 6, BINARY: 8, LIST: 9, STRUCT: 12 } as const

/**
 * A value of a Thrift struct field as {@link ThriftWriter} writes it: integers are i32, bigints i64, `{ i8 }` a byte;
 * objects keyed by field id are structs, `{ list, items }` lists.
 */
export type ThriftValue =
  | number
  | bigint
  | boolean
  | string
  | Uint8Array
  | { readonly i8: number }
  | ThriftStruct
  | {
      readonly list: 'i32' | 'string' | 'struct'
      readonly items: readonly (number | string | ThriftStruct)[]
    }
/**
 * A Thrift struct: field id → value (`undefined` leaves the field out).
 */
export type ThriftStruct = { readonly [id: number]: ThriftValue | undefined }

const utf8 = new TextEncoder()

/**
 * Serialises structs in Thrift's compact protocol into a growing buffer.
 */
export class ThriftWriter {
  private buf = new Uint8Array(256)
  private at = 0

  /** The bytes written so far. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.at)
  }

  /** Writes one struct (fields in ascending id order) and its stop byte. */
  struct(s: ThriftStruct): void {
    let last = 0
    const ids = Object.keys(s)
      .map(Number)
      .sort((a, b) => a - b)
    for (const id of ids) {
      const v = s[id]
      if (v === undefined) continue
      const type = typeOf(v)
      const delta = id - last
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | type)
      else {
        this.byte(type)
        this.varint(zigzag32(id))
      }
      last = id
      this.value(v)
    }
    this.byte(0)
  }

  private value(v: ThriftValue): void {
    if (typeof v === 'boolean') return // in the field's type
    if (typeof v === 'number') this.varint(zigzag32(v))
    else if (typeof v === 'bigint') this.varint64(v)
    else if (typeof v === 'string') this.binary(utf8.encode(v))
    else if (v instanceof Uint8Array) this.binary(v)
    else if ('i8' in v) this.byte((v as { i8: number }).i8 & 0xff)
    else this.composite(v)
  }

  private composite(v: Exclude<ThriftValue, number | bigint | boolean | string | Uint8Array>): void {
    if ('list' in v && 'items' in v) {
      const l = v as { list: 'i32' | 'string' | 'struct'; items: readonly (number | string | ThriftStruct)[] }
      const elem = l.list === 'i32' ? T.I32 : l.list === 'string' ? T.BINARY : T.STRUCT
      if (l.items.length < 15) this.byte((l.items.length << 4) | elem)
      else {
        this.byte(0xf0 | elem)
        this.varint(l.items.length)
      }
      for (const item of l.items) {
        if (typeof item === 'number') this.varint(zigzag32(item))
        else if (typeof item === 'string') this.binary(utf8.encode(item))
        else this.struct(item)
      }
      return
    }
    this.struct(v as ThriftStruct)
  }

  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.at + n))
    grown.set(this.buf.subarray(0, this.at))
    this.buf = grown
  }

  private byte(b: number): void {
    this.ensure(1)
    this.buf[this.at++] = b
  }

  private varint(n: number): void {
    this.ensure(5)
    let v = n >>> 0
    while (v >= 0x80) {
      this.buf[this.at++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    this.buf[this.at++] = v
  }

  private varint64(n: bigint): void {
    this.ensure(10)
    let v = (n << 1n) ^ (n >> 63n) // zigzag
    v = BigInt.asUintN(64, v)
    while (v >= 0x80n) {
      this.buf[this.at++] = Number(v & 0x7fn) | 0x80
      v >>= 7n
    }
    this.buf[this.at++] = Number(v)
  }

  private binary(b: Uint8Array): void {
    this.varint(b.length)
    this.ensure(b.length)
    this.buf.set(b, this.at)
    this.at += b.length
  }
}

function zigzag32(n: number): number {
  return ((n << 1) ^ (n >> 31)) >>> 0
}

function typeOf(v: ThriftValue): number {
  if (typeof v === 'boolean') return v ? T.TRUE : T.FALSE
  if (typeof v === 'number') return T.I32
  if (typeof v === 'bigint') return T.I64
  if (typeof v === 'string' || v instanceof Uint8Array) return T.BINARY
  if ('i8' in v) return T.BYTE
  if ('list' in v && 'items' in v) return T.LIST
  return T.STRUCT
}
