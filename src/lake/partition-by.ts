import type { PartitionFieldInput } from '../iceberg/writer/table-writer.js'
import { TarnError } from '../util/errors.js'

const TRANSFORM = /^(identity|year|month|day|hour|void|bucket\[\d+\]|truncate\[\d+\])$/

/**
 * Parses a `--partitioned-by` list: `day(ts), region, bucket[16](id), truncate[4](name)` (also `bucket(16, id)`).
 * A bare column is an identity partition.
 *
 * @example
 * ```ts
 * parsePartitionBy('day(ts), region') // [{ column: 'ts', transform: 'day' }, { column: 'region', transform: 'identity' }]
 * ```
 */
export function parsePartitionBy(text: string): PartitionFieldInput[] {
  const parts: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of text) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(cur)
      cur = ''
    } else cur += ch
  }
  parts.push(cur)
  return parts
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((p) => {
      const call = /^([a-z]+(?:\[\d+\])?)\s*\(\s*(?:(\d+)\s*,\s*)?([^()]+?)\s*\)$/i.exec(p)
      let transform = 'identity'
      let column = p
      if (call) {
        const [, fn, n, col] = call
        transform = (n ? `${fn}[${n}]` : (fn as string)).toLowerCase()
        column = col as string
      }
      if (!TRANSFORM.test(transform)) {
        throw new TarnError(
          'INVALID_ARGUMENT',
          `unknown partition transform in ${JSON.stringify(p)}: use identity, year, month, day, hour, bucket[N] or truncate[W]`,
          { partitionBy: text },
        )
      }
      if (!/^[^"'`;]+$/.test(column)) {
        throw new TarnError('INVALID_ARGUMENT', `invalid partition column in ${JSON.stringify(p)}`, {
          partitionBy: text,
        })
      }
      return { column: column.replace(/^"(.*)"$/, '$1'), transform }
    })
}
