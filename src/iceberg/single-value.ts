import { TarnError } from '../util/errors.js'
import { bigIntToMinimalBytes, bytesToBigInt, type IcebergValue } from './iceberg-value.js'
import { decimalParams, type IcebergType } from './schema.js'

/**
 * Encodes a value with Iceberg's binary single-value serialization (used for column bounds and partition summary
 * bounds): little-endian ints/longs/floats, UTF-8 strings, big-endian unscaled two's-complement decimals, raw bytes.
 */
export function encodeSingleValue(type: IcebergType, v: IcebergValue): Uint8Array {
  if (typeof type !== 'string' || v === null) {
    throw new TarnError('INVALID_ARGUMENT', `Cannot serialise ${String(v)} as ${JSON.stringify(type)}`)
  }
  if (decimalParams(type)) return bigIntToMinimalBytes(BigInt(v as bigint))
  const buf = new Uint8Array(8)
  const view = new DataView(buf.buffer)
  switch (type) {
    case 'boolean':
      return new Uint8Array([v ? 1 : 0])
    case 'int':
    case 'date':
      view.setInt32(0, Number(v), true)
      return buf.slice(0, 4)
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
    case 'timestamp_ns':
    case 'timestamptz_ns':
      view.setBigInt64(0, BigInt(v as bigint | number), true)
      return buf
    case 'float':
      view.setFloat32(0, Number(v), true)
      return buf.slice(0, 4)
    case 'double':
      view.setFloat64(0, Number(v), true)
      return buf
    case 'string':
      return new TextEncoder().encode(String(v))
    default:
      if (v instanceof Uint8Array) return v
      throw new TarnError('INVALID_ARGUMENT', `Cannot serialise ${String(v)} as ${type}`)
  }
}

/**
 * Decodes Iceberg's binary single-value serialization into an {@link IcebergValue}.
 */
export function decodeSingleValue(type: IcebergType, b: Uint8Array): IcebergValue {
  if (typeof type !== 'string')
    throw new TarnError('INVALID_ARGUMENT', 'Nested types have no single-value form')
  if (decimalParams(type)) return bytesToBigInt(b)
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  switch (type) {
    case 'boolean':
      return b[0] !== 0
    case 'int':
    case 'date':
      return b.length >= 8 ? Number(view.getBigInt64(0, true)) : view.getInt32(0, true)
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
    case 'timestamp_ns':
    case 'timestamptz_ns':
      return b.length === 4 ? BigInt(view.getInt32(0, true)) : view.getBigInt64(0, true)
    case 'float':
      return b.length === 8 ? view.getFloat64(0, true) : view.getFloat32(0, true)
    case 'double':
      return b.length === 4 ? view.getFloat32(0, true) : view.getFloat64(0, true)
    case 'string':
      return new TextDecoder().decode(b)
    default:
      return b.slice()
  }
}
