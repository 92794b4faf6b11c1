import { deflateRawSync } from 'node:zlib'
import type { JsonValue } from '../../util/lossless-json.js'
import { stringifyJsonLossless } from '../../util/lossless-json.js'
import { AvroBinaryWriter, collectNamedTypes, encodeAvroValue } from './avro-binary.js'
import type { AvroSchema, AvroValue } from './avro-schema.js'

/**
 * What {@link writeAvroContainer} needs.
 */
export interface AvroWriteOptions {
  /** The schema, written verbatim (attributes such as `field-id` included) into the header. */
  readonly schema: AvroSchema
  readonly records: readonly AvroValue[]
  /** Extra header keys (UTF-8 values). */
  readonly metadata?: Readonly<Record<string, string>>
  /** 16 bytes; take them from the injected `Random`. */
  readonly syncMarker: Uint8Array
  readonly codec?: 'null' | 'deflate'
  /** Records per block (default 1000). */
  readonly blockSize?: number
}

/**
 * Writes an Avro object container file. The header schema is the raw schema JSON, so Iceberg's `field-id`,
 * `element-id` and map `logicalType` attributes survive; longs may be `bigint` (full 64-bit range).
 */
export function writeAvroContainer(opts: AvroWriteOptions): Uint8Array {
  const codec = opts.codec ?? 'deflate'
  const out = new AvroBinaryWriter()
  out.writeRaw(new Uint8Array([0x4f, 0x62, 0x6a, 0x01]))
  const enc = new TextEncoder()
  const meta: [string, string][] = [
    ['avro.schema', stringifyJsonLossless(opts.schema as JsonValue)],
    ['avro.codec', codec],
    ...Object.entries(opts.metadata ?? {}),
  ]
  out.writeLong(meta.length)
  for (const [k, v] of meta) {
    out.writeString(k)
    out.writeBytes(enc.encode(v))
  }
  out.writeLong(0)
  out.writeRaw(opts.syncMarker)
  const names = collectNamedTypes(opts.schema)
  const blockSize = opts.blockSize ?? 1000
  for (let start = 0; start < opts.records.length; start += blockSize) {
    const chunk = opts.records.slice(start, start + blockSize)
    const body = new AvroBinaryWriter()
    for (const rec of chunk) encodeAvroValue(opts.schema, rec, body, names)
    const raw = body.toBytes()
    const data = codec === 'deflate' ? new Uint8Array(deflateRawSync(raw)) : raw
    out.writeLong(chunk.length)
    out.writeLong(data.length)
    out.writeRaw(data)
    out.writeRaw(opts.syncMarker)
  }
  return out.toBytes()
}
