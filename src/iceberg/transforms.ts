import { TarnError } from '../util/errors.js'
import { bigIntToMinimalBytes, type IcebergValue } from './iceberg-value.js'
import { decimalParams, type IcebergType } from './schema.js'

/**
 * A parsed partition transform.
 */
export interface Transform {
  readonly kind: 'identity' | 'year' | 'month' | 'day' | 'hour' | 'bucket' | 'truncate' | 'void'
  readonly param?: number
}

/**
 * Parses a transform string of table metadata (`identity`, `year`, `month`, `day`, `hour`, `bucket[N]`,
 * `truncate[W]`, `void`).
 */
export function parseTransform(s: string): Transform {
  const m = /^(bucket|truncate)\[(\d+)\]$/.exec(s)
  if (m) return { kind: m[1] as 'bucket' | 'truncate', param: Number(m[2]) }
  if (['identity', 'year', 'month', 'day', 'hour', 'void'].includes(s))
    return { kind: s as Transform['kind'] }
  throw new TarnError('INVALID_ARGUMENT', `Unsupported partition transform ${JSON.stringify(s)}`)
}

const TIME_TYPES = ['date', 'timestamp', 'timestamptz', 'timestamp_ns', 'timestamptz_ns']

/**
 * Whether a transform accepts a source column type, per the Iceberg spec: identity and void any primitive; bucket
 * int, long, decimal, date, time, timestamp(tz), string, uuid, fixed, binary; truncate int, long, decimal, string,
 * binary; year, month and day date and timestamp(tz); hour timestamp(tz).
 */
export function transformAccepts(t: Transform, source: IcebergType): boolean {
  if (typeof source !== 'string') return false
  const decimal = decimalParams(source) !== undefined
  const fixed = /^fixed\[\d+\]$/.test(source)
  switch (t.kind) {
    case 'identity':
    case 'void':
      return true
    case 'bucket':
      return (
        decimal ||
        fixed ||
        ['int', 'long', 'date', 'time', 'string', 'uuid', 'binary', ...TIME_TYPES].includes(source)
      )
    case 'truncate':
      return decimal || ['int', 'long', 'string', 'binary'].includes(source)
    case 'year':
    case 'month':
    case 'day':
      return TIME_TYPES.includes(source)
    case 'hour':
      return TIME_TYPES.includes(source) && source !== 'date'
  }
}

/**
 * The type of a transform's result for a source type.
 */
export function transformResultType(t: Transform, source: IcebergType): IcebergType {
  switch (t.kind) {
    case 'identity':
    case 'truncate':
    case 'void':
      return source
    case 'day':
      return 'date'
    default:
      return 'int'
  }
}

/**
 * Murmur3 x86 32-bit hash (seed 0), as Iceberg's bucket transform uses it; a signed 32-bit result.
 */
export function murmur3x86_32(data: Uint8Array): number {
  const c1 = 0xcc9e2d51
  const c2 = 0x1b873593
  let h = 0
  const n = data.length
  const blocks = n - (n % 4)
  const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r))
  for (let i = 0; i < blocks; i += 4) {
    let k =
      (data[i] ?? 0) | ((data[i + 1] ?? 0) << 8) | ((data[i + 2] ?? 0) << 16) | ((data[i + 3] ?? 0) << 24)
    k = Math.imul(k, c1)
    k = rotl(k, 15)
    k = Math.imul(k, c2)
    h ^= k
    h = rotl(h, 13)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  let k = 0
  const rem = n & 3
  if (rem === 3) k ^= (data[blocks + 2] ?? 0) << 16
  if (rem >= 2) k ^= (data[blocks + 1] ?? 0) << 8
  if (rem >= 1) {
    k ^= data[blocks] ?? 0
    k = Math.imul(k, c1)
    k = rotl(k, 15)
    k = Math.imul(k, c2)
    h ^= k
  }
  h ^= n
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h | 0
}

/**
 * Iceberg's 32-bit hash of a value (the input of `bucket[N]`): ints, longs, dates, times and timestamps hash their
 * 8-byte little-endian long form, strings their UTF-8 bytes, decimals their minimal big-endian unscaled bytes, uuids
 * their 16 big-endian bytes, binary and fixed their bytes.
 */
export function icebergHash(type: IcebergType, v: IcebergValue): number {
  if (v === null) throw new TarnError('INVALID_ARGUMENT', 'Cannot hash null')
  if (decimalParams(type)) return murmur3x86_32(bigIntToMinimalBytes(BigInt(v as bigint)))
  switch (type) {
    case 'int':
    case 'long':
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
    case 'timestamp_ns':
    case 'timestamptz_ns': {
      const b = new Uint8Array(8)
      new DataView(b.buffer).setBigInt64(0, BigInt(v as number | bigint), true)
      return murmur3x86_32(b)
    }
    case 'string':
      return murmur3x86_32(new TextEncoder().encode(String(v)))
    default:
      if (v instanceof Uint8Array) return murmur3x86_32(v)
      throw new TarnError('INVALID_ARGUMENT', `Cannot bucket values of type ${JSON.stringify(type)}`)
  }
}

const DAY_US = 86_400_000_000n
const HOUR_US = 3_600_000_000n

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q
}

function daysOf(type: IcebergType, v: IcebergValue): number {
  if (type === 'date') return Number(v)
  const micros = BigInt(v as bigint)
  const unit = type === 'timestamp_ns' || type === 'timestamptz_ns' ? DAY_US * 1000n : DAY_US
  return Number(floorDiv(micros, unit))
}

/**
 * Applies a partition transform to a source value (null stays null).
 */
export function applyTransform(t: Transform, type: IcebergType, v: IcebergValue): IcebergValue {
  if (v === null || t.kind === 'void') return null
  switch (t.kind) {
    case 'identity':
      return v
    case 'bucket':
      return (icebergHash(type, v) & 0x7fffffff) % (t.param ?? 1)
    case 'truncate': {
      const w = t.param ?? 1
      if (typeof v === 'number') return v - (((v % w) + w) % w)
      if (typeof v === 'bigint') {
        const W = BigInt(w)
        return v - (((v % W) + W) % W)
      }
      if (typeof v === 'string') return Array.from(v).slice(0, w).join('')
      if (v instanceof Uint8Array) return v.slice(0, w)
      throw new TarnError('INVALID_ARGUMENT', `Cannot truncate ${String(v)}`)
    }
    case 'day':
      return daysOf(type, v)
    case 'hour': {
      const micros = BigInt(v as bigint)
      const unit = type === 'timestamp_ns' || type === 'timestamptz_ns' ? HOUR_US * 1000n : HOUR_US
      return Number(floorDiv(micros, unit))
    }
    case 'year':
    case 'month': {
      const d = new Date(daysOf(type, v) * 86_400_000)
      const years = d.getUTCFullYear() - 1970
      return t.kind === 'year' ? years : years * 12 + d.getUTCMonth()
    }
  }
  return null
}

/**
 * True when the transform preserves order (so range predicates on the source project onto partition values).
 */
export function isOrderPreserving(t: Transform): boolean {
  return t.kind !== 'bucket' && t.kind !== 'void'
}
