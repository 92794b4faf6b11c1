import { sqlString } from '../duckdb/sql-quote.js'
import type { ParameterValue } from './project.js'

/**
 * A `$name` parameter reference found in SQL text.
 */
export interface ParamRef {
  readonly name: string
  /** Character offset of the `$`. */
  readonly offset: number
  /** 1-based line, counted from the start of the text (plus `firstLine - 1`). */
  readonly line: number
}

const NAME_START = /[A-Za-z_]/
const NAME_PART = /[A-Za-z0-9_]/

/**
 * Finds the `$name` parameters of SQL text, skipping string literals, quoted identifiers, comments and
 * dollar-quoted strings.
 */
export function findParams(sql: string, firstLine = 1): ParamRef[] {
  const refs: ParamRef[] = []
  let line = firstLine
  let i = 0
  const n = sql.length
  const skipTo = (end: number): void => {
    for (let k = i; k < end && k < n; k++) if (sql[k] === '\n') line++
    i = end
  }
  while (i < n) {
    const c = sql[i] as string
    if (c === '\n') {
      line++
      i++
    } else if (c === "'" || c === '"') {
      let k = i + 1
      while (k < n) {
        if (sql[k] === c) {
          if (sql[k + 1] === c) k += 2
          else break
        } else k++
      }
      skipTo(k + 1)
    } else if (c === '-' && sql[i + 1] === '-') {
      const k = sql.indexOf('\n', i)
      skipTo(k < 0 ? n : k)
    } else if (c === '/' && sql[i + 1] === '*') {
      const k = sql.indexOf('*/', i + 2)
      skipTo(k < 0 ? n : k + 2)
    } else if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length)
        skipTo(close < 0 ? n : close + tag[0].length)
        continue
      }
      if (NAME_START.test(sql[i + 1] ?? '')) {
        let k = i + 1
        while (k < n && NAME_PART.test(sql[k] as string)) k++
        refs.push({ name: sql.slice(i + 1, k), offset: i, line })
        i = k
      } else i++
    } else i++
  }
  return refs
}

/**
 * The SQL literal of a parameter value: strings quoted, dates as `DATE '...'`, booleans as `TRUE`/`FALSE`.
 */
export function paramSqlLiteral(value: ParameterValue, type?: string): string {
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE'
  if (typeof value === 'number') return String(value)
  const quoted = sqlString(value)
  return type === 'date' ? `DATE ${quoted}` : quoted
}

/**
 * Replaces every `$name` parameter of SQL text by the SQL literal of its value. Names without a value are left
 * as they are (validation reports them first).
 */
export function substituteParams(
  sql: string,
  values: Readonly<Record<string, ParameterValue>>,
  types: Readonly<Record<string, string>> = {},
): string {
  let out = ''
  let last = 0
  for (const ref of findParams(sql)) {
    const v = values[ref.name]
    if (v === undefined) continue
    out += sql.slice(last, ref.offset) + paramSqlLiteral(v, types[ref.name])
    last = ref.offset + 1 + ref.name.length
  }
  return out + sql.slice(last)
}
