import type { PartitionFieldDef } from './project.js'

const TRANSFORM = /^(identity|year|month|day|hour|bucket\[[1-9]\d*\]|truncate\[[1-9]\d*\])$/
const COLUMN = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Parses one `partitionedBy` entry: `column`, `day(ts)`, `bucket[16](id)` or `bucket(16, id)`. Returns the problem
 * as a string when the entry is not an Iceberg transform this release writes (identity, year, month, day, hour,
 * bucket[N]).
 */
export function parsePartitionField(text: string): PartitionFieldDef | string {
  const t = text.trim()
  const call = /^([A-Za-z]+)(?:\[(\d+)\])?\s*\(\s*(?:(\d+)\s*,\s*)?([^()]*?)\s*\)$/.exec(t)
  let transform = 'identity'
  let column = t
  if (call) {
    const [, fn, n1, n2, col] = call
    const n = n1 ?? n2
    transform = `${(fn as string).toLowerCase()}${n ? `[${n}]` : ''}`
    column = col as string
  }
  column = column.replace(/^"(.*)"$/, '$1')
  if (!TRANSFORM.test(transform))
    return `unknown partition transform in ${JSON.stringify(t)}: use identity, year, month, day, hour, bucket[N] or truncate[W]`
  if (!COLUMN.test(column)) return `invalid partition column in ${JSON.stringify(t)}`
  return Object.freeze({ column, transform, text: t })
}

/**
 * Splits a comma-separated partition list (`day(ts), bucket(16, id)`) at top-level commas.
 */
export function splitPartitionList(text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of text) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(cur.trim())
      cur = ''
    } else cur += ch
  }
  parts.push(cur.trim())
  return parts.filter((p) => p.length > 0)
}
