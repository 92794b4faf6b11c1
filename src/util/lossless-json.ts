import { TarnError } from './errors.js'

/**
 * A JSON value whose integers beyond ±(2^53 − 1) are kept exactly as `bigint`.
 */
export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue | undefined }

/**
 * A JSON object of {@link JsonValue}s.
 */
export type JsonObject = { readonly [key: string]: JsonValue | undefined }

/**
 * Parses JSON text without losing precision: an integer literal that does not fit a safe JS number becomes a
 * `bigint`; every other number is a JS number.
 */
export function parseJsonLossless(text: string): JsonValue {
  let i = 0
  const fail = (msg: string): never => {
    throw new TarnError('INVALID_ARGUMENT', `Invalid JSON at offset ${i}: ${msg}`, { offset: i })
  }
  const ws = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i)
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++
      else break
    }
  }
  const value = (): JsonValue => {
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      const out: Record<string, JsonValue> = {}
      ws()
      if (text[i] === '}') {
        i++
        return out
      }
      for (;;) {
        ws()
        if (text[i] !== '"') fail('expected a string key')
        const k = str()
        ws()
        if (text[i] !== ':') fail('expected ":"')
        i++
        out[k] = value()
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === '}') {
          i++
          return out
        }
        fail('expected "," or "}"')
      }
    }
    if (c === '[') {
      i++
      const out: JsonValue[] = []
      ws()
      if (text[i] === ']') {
        i++
        return out
      }
      for (;;) {
        out.push(value())
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === ']') {
          i++
          return out
        }
        fail('expected "," or "]"')
      }
    }
    if (c === '"') return str()
    if (text.startsWith('true', i)) {
      i += 4
      return true
    }
    if (text.startsWith('false', i)) {
      i += 5
      return false
    }
    if (text.startsWith('null', i)) {
      i += 4
      return null
    }
    return num()
  }
  const num = (): number | bigint => {
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
    if (!m) return fail('unexpected character')
    i += m[0].length
    if (m[1] === undefined && m[2] === undefined) {
      const n = Number(m[0])
      return Number.isSafeInteger(n) ? n : BigInt(m[0])
    }
    return Number(m[0])
  }
  const str = (): string => {
    i++
    let out = ''
    let start = i
    for (;;) {
      if (i >= text.length) fail('unterminated string')
      const ch = text.charCodeAt(i)
      if (ch === 0x22) {
        out += text.slice(start, i)
        i++
        return out
      }
      if (ch === 0x5c) {
        out += text.slice(start, i)
        const e = text[i + 1]
        i += 2
        if (e === 'u') {
          out += String.fromCharCode(Number.parseInt(text.slice(i, i + 4), 16))
          i += 4
        } else {
          const map: Record<string, string> = {
            '"': '"',
            '\\': '\\',
            '/': '/',
            b: '\b',
            f: '\f',
            n: '\n',
            r: '\r',
            t: '\t',
          }
          const r = e === undefined ? undefined : map[e]
          if (r === undefined) fail('bad escape')
          out += r
        }
        start = i
        continue
      }
      i++
    }
  }
  const v = value()
  ws()
  if (i !== text.length) fail('trailing characters')
  return v
}

/**
 * Serialises a {@link JsonValue} to JSON text, writing `bigint`s as exact integer literals. `undefined` members are
 * dropped. With `indent` the output is pretty-printed.
 */
export function stringifyJsonLossless(value: JsonValue, indent = 0): string {
  return stringifyNative(value, indent) ?? stringifyWalking(value, indent)
}

/** Marks a `bigint` in {@link stringifyNative}'s first pass; JSON.stringify writes its NUL as `\u0000`. */
const BIGINT_MARK = '\u0000tarn-bigint:'
const BIGINT_TOKEN = /"\\u0000tarn-bigint:(-?\d+)"/g

/**
 * JSON.stringify (native, several times faster than walking the value in JavaScript) with each `bigint` written as
 * a marked string, then unmarked; undefined when a key or string of the value starts with the mark itself (the walk
 * handles those).
 */
function stringifyNative(value: JsonValue, indent: number): string | undefined {
  let clash = false
  const text = JSON.stringify(
    value,
    (key: string, v: unknown) => {
      if (key.startsWith(BIGINT_MARK)) clash = true
      if (typeof v === 'bigint') return `${BIGINT_MARK}${v.toString()}`
      if (typeof v === 'string' && v.startsWith(BIGINT_MARK)) clash = true
      if (typeof v === 'number' && !Number.isFinite(v)) {
        throw new TarnError('INVALID_ARGUMENT', 'Cannot serialise a non-finite number to JSON')
      }
      return v
    },
    indent > 0 ? indent : undefined,
  )
  if (clash) return undefined
  return text.includes('tarn-bigint:') ? text.replace(BIGINT_TOKEN, '$1') : text
}

function stringifyWalking(value: JsonValue, indent: number): string {
  const pad = (depth: number): string => (indent > 0 ? `\n${' '.repeat(indent * depth)}` : '')
  const sep = indent > 0 ? ': ' : ':'
  const go = (v: JsonValue, depth: number): string => {
    if (v === null) return 'null'
    if (typeof v === 'bigint') return v.toString()
    if (typeof v === 'number') {
      if (!Number.isFinite(v))
        throw new TarnError('INVALID_ARGUMENT', 'Cannot serialise a non-finite number to JSON')
      return JSON.stringify(v)
    }
    if (typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v)
    if (Array.isArray(v)) {
      const arr = v as readonly JsonValue[]
      if (arr.length === 0) return '[]'
      return `[${arr.map((x) => pad(depth + 1) + go(x, depth + 1)).join(',')}${pad(depth)}]`
    }
    const obj = v as JsonObject
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined)
    if (keys.length === 0) return '{}'
    const body = keys.map(
      (k) => `${pad(depth + 1)}${JSON.stringify(k)}${sep}${go(obj[k] as JsonValue, depth + 1)}`,
    )
    return `{${body.join(',')}${pad(depth)}}`
  }
  return go(value, 0)
}

/**
 * Reads a JSON integer (number or bigint) as a `bigint`, or returns undefined for null/absent.
 */
export function jsonToBigInt(v: JsonValue | undefined): bigint | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'bigint') return v
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v)
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v)
  throw new TarnError('INVALID_ARGUMENT', `Expected an integer, got ${String(v)}`)
}
