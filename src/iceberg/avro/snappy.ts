import { TarnError } from '../../util/errors.js'

/**
 * Decompresses a raw Snappy block (as used by Avro's `snappy` codec, without the trailing CRC).
 */
export function snappyDecompress(input: Uint8Array): Uint8Array {
  let pos = 0
  let len = 0
  let shift = 0
  for (;;) {
    const b = input[pos++]
    if (b === undefined) throw new TarnError('INVALID_ARGUMENT', 'Truncated snappy data')
    len += (b & 0x7f) * 2 ** shift
    if ((b & 0x80) === 0) break
    shift += 7
  }
  const out = new Uint8Array(len)
  let o = 0
  const byte = (): number => {
    const b = input[pos++]
    if (b === undefined) throw new TarnError('INVALID_ARGUMENT', 'Truncated snappy data')
    return b
  }
  while (pos < input.length) {
    const tag = byte()
    const kind = tag & 3
    if (kind === 0) {
      let n = tag >>> 2
      if (n >= 60) {
        const extra = n - 59
        n = 0
        for (let i = 0; i < extra; i++) n += byte() * 2 ** (8 * i)
      }
      n += 1
      out.set(input.subarray(pos, pos + n), o)
      pos += n
      o += n
      continue
    }
    let length: number
    let offset: number
    if (kind === 1) {
      length = ((tag >>> 2) & 7) + 4
      offset = ((tag >>> 5) << 8) | byte()
    } else if (kind === 2) {
      length = (tag >>> 2) + 1
      offset = byte() | (byte() << 8)
    } else {
      length = (tag >>> 2) + 1
      offset = (byte() | (byte() << 8) | (byte() << 16) | (byte() << 24)) >>> 0
    }
    for (let i = 0; i < length; i++, o++) out[o] = out[o - offset] ?? 0
  }
  return out
}
