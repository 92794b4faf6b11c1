import { inflateRawSync } from 'node:zlib'
import { TarnError } from '../../util/errors.js'
import { parseJsonLossless } from '../../util/lossless-json.js'
import { AvroBinaryReader, collectNamedTypes, decodeAvroValue } from './avro-binary.js'
import type { AvroRecord, AvroSchema } from './avro-schema.js'
import { snappyDecompress } from './snappy.js'

/**
 * The decoded content of an Avro object container file.
 */
export interface AvroFile {
  /** The writer schema from the header, as raw JSON (with every attribute, e.g. `field-id`). */
  readonly schema: AvroSchema
  /** Header metadata other than `avro.schema`, decoded as UTF-8 text. */
  readonly metadata: Readonly<Record<string, string>>
  /** Every record, decoded with the writer schema. */
  readonly records: readonly AvroRecord[]
}

const MAGIC = [0x4f, 0x62, 0x6a, 0x01]

/**
 * Reads an Avro object container file (codecs `null`, `deflate`, `snappy`). Longs decode as `bigint`.
 */
export function readAvroContainer(bytes: Uint8Array): AvroFile {
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== MAGIC[i]) throw new TarnError('INVALID_ARGUMENT', 'Not an Avro object container file')
  }
  const r = new AvroBinaryReader(bytes)
  r.pos = 4
  const meta: Record<string, string> = {}
  const dec = new TextDecoder()
  for (;;) {
    let n = r.readInt()
    if (n === 0) break
    if (n < 0) {
      n = -n
      r.readLong()
    }
    for (let i = 0; i < n; i++) {
      const k = r.readString()
      meta[k] = dec.decode(r.readBytes())
    }
  }
  const sync = r.readFixed(16).slice()
  const schemaText = meta['avro.schema']
  if (schemaText === undefined) throw new TarnError('INVALID_ARGUMENT', 'Avro file without a schema')
  const schema = parseJsonLossless(schemaText) as AvroSchema
  const codec = meta['avro.codec'] ?? 'null'
  const names = collectNamedTypes(schema)
  const records: AvroRecord[] = []
  while (!r.done) {
    const count = Number(r.readLong())
    const size = Number(r.readLong())
    const raw = r.readFixed(size)
    let block: Uint8Array
    if (codec === 'null') block = raw
    else if (codec === 'deflate') block = new Uint8Array(inflateRawSync(raw))
    else if (codec === 'snappy') block = snappyDecompress(raw.subarray(0, raw.length - 4))
    else throw new TarnError('INVALID_ARGUMENT', `Unsupported Avro codec ${codec}`)
    const br = new AvroBinaryReader(block)
    for (let i = 0; i < count; i++) records.push(decodeAvroValue(schema, br, names) as AvroRecord)
    const marker = r.readFixed(16)
    if (!marker.every((b, i) => b === sync[i]))
      throw new TarnError('INVALID_ARGUMENT', 'Avro sync marker mismatch')
  }
  const { 'avro.schema': _s, ...metadata } = meta
  return { schema, metadata, records }
}
