import { TarnError } from '../util/errors.js'
import { decimalParams, type IcebergType } from './schema.js'

/**
 * A single Iceberg value in its canonical in-memory form: `int`/`date` number (date = days since epoch),
 * `long`/`time`/`timestamp`/`timestamptz` bigint (micros), `float`/`double` number, `decimal` bigint (unscaled),
 * `string` string, `uuid`/`fixed`/`binary` Uint8Array, `boolean` boolean, or null.
 */
export type IcebergValue = null | boolean | number | bigint | string | Uint8Array

const DAY_MS = 86_400_000

/**
 * Converts a user literal (JS number, bigint, string such as `'2024-01-31'`, Date, boolean) to the canonical
 * {@link IcebergValue} of an Iceberg primitive type.
 */
export function toIcebergValue(type: IcebergType, v: unknown): IcebergValue {
  if (v === null || v === undefined) return null
  const bad = (): never => {
    throw new TarnError(
      'INVALID_ARGUMENT',
      `Cannot use ${String(v)} as a value of type ${JSON.stringify(type)}`,
    )
  }
  if (typeof type !== 'string') return bad()
  const dec = decimalParams(type)
  if (dec) {
    const s = typeof v === 'number' ? v.toFixed(dec.scale) : String(v)
    const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(s.trim())
    if (!m) return bad()
    const frac = (m[3] ?? '').padEnd(dec.scale, '0').slice(0, dec.scale)
    const unscaled = BigInt(`${m[2] || '0'}${frac}`)
    return m[1] === '-' ? -unscaled : unscaled
  }
  switch (type) {
    case 'boolean':
      return typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : bad()
    case 'int':
      return Number(v)
    case 'long':
      return typeof v === 'bigint' ? v : BigInt(String(v))
    case 'float':
    case 'double':
      return Number(v)
    case 'string':
      return String(v)
    case 'date': {
      if (typeof v === 'number') return v
      const ms = v instanceof Date ? v.getTime() : Date.parse(`${String(v).slice(0, 10)}T00:00:00Z`)
      if (Number.isNaN(ms)) return bad()
      return Math.floor(ms / DAY_MS)
    }
    case 'time': {
      if (typeof v === 'bigint') return v
      const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(String(v))
      if (!m) return bad()
      const secs = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])
      return BigInt(secs) * 1_000_000n + BigInt((m[4] ?? '').padEnd(6, '0'))
    }
    case 'timestamp':
    case 'timestamptz':
    case 'timestamp_ns':
    case 'timestamptz_ns': {
      if (typeof v === 'bigint') return v
      if (v instanceof Date) return BigInt(v.getTime()) * 1000n
      return parseTimestampMicros(String(v)) ?? bad()
    }
    case 'uuid': {
      if (v instanceof Uint8Array) return v
      const hex = String(v).replace(/-/g, '')
      if (!/^[0-9a-fA-F]{32}$/.test(hex)) return bad()
      return Uint8Array.from(Buffer.from(hex, 'hex'))
    }
    case 'binary':
      return v instanceof Uint8Array ? v : bad()
    default:
      if (type.startsWith('fixed[')) return v instanceof Uint8Array ? v : bad()
      return bad()
  }
}

/**
 * Parses `YYYY-MM-DD[ T]HH:MM:SS[.ffffff][Z|±HH[:MM]]` to microseconds since the epoch (UTC when no zone).
 */
export function parseTimestampMicros(s: string): bigint | undefined {
  const m =
    /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(
      s.trim(),
    )
  if (!m) return undefined
  const days = Date.parse(`${m[1]}T00:00:00Z`) / DAY_MS
  if (Number.isNaN(days)) return undefined
  const secs = Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0)
  let micros =
    BigInt(days) * 86_400_000_000n +
    BigInt(secs) * 1_000_000n +
    BigInt((m[5] ?? '').padEnd(9, '0').slice(0, 6))
  const tz = m[6]
  if (tz && tz !== 'Z') {
    const sign = tz.startsWith('-') ? -1n : 1n
    const digits = tz.slice(1).replace(':', '')
    const offMin = BigInt(Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'))
    micros -= sign * offMin * 60_000_000n
  }
  return micros
}

/**
 * Orders two non-null values of the same type (bytes lexicographically unsigned, strings by code point).
 */
export function compareIcebergValues(a: IcebergValue, b: IcebergValue): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const n = Math.min(a.length, b.length)
    for (let i = 0; i < n; i++) {
      const d = (a[i] ?? 0) - (b[i] ?? 0)
      if (d !== 0) return d < 0 ? -1 : 1
    }
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
  }
  if (typeof a === 'string' && typeof b === 'string') {
    const ca = Array.from(a)
    const cb = Array.from(b)
    const n = Math.min(ca.length, cb.length)
    for (let i = 0; i < n; i++) {
      const x = ca[i]?.codePointAt(0) ?? 0
      const y = cb[i]?.codePointAt(0) ?? 0
      if (x !== y) return x < y ? -1 : 1
    }
    return ca.length === cb.length ? 0 : ca.length < cb.length ? -1 : 1
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    return a < b ? -1 : a > b ? 1 : 0
  }
  throw new TarnError('INVALID_ARGUMENT', `Cannot compare ${String(a)} with ${String(b)}`)
}

/**
 * Minimal big-endian two's-complement bytes of an integer (used for decimals).
 */
export function bigIntToMinimalBytes(v: bigint): Uint8Array {
  const bytes: number[] = []
  let x = v
  for (;;) {
    const b = Number(BigInt.asUintN(8, x))
    bytes.unshift(b)
    x >>= 8n
    if ((x === 0n && (b & 0x80) === 0) || (x === -1n && (b & 0x80) !== 0)) break
  }
  return Uint8Array.from(bytes)
}

/**
 * Big-endian two's-complement bytes to an integer.
 */
export function bytesToBigInt(b: Uint8Array): bigint {
  if (b.length === 0) return 0n
  let x = 0n
  for (const byte of b) x = (x << 8n) | BigInt(byte)
  return BigInt.asIntN(b.length * 8, x)
}
