import { describe, expect, it } from 'vitest'
import { parseJsonLossless, stringifyJsonLossless } from '../../src/util/lossless-json.js'

describe('stringifyJsonLossless', () => {
  it('writes bigints beyond 2^53 as exact integer literals, at any depth and at the top', () => {
    const v = {
      id: 9158179788527662767n,
      list: [-9223372036854775808n, 1, 'x'],
      nested: { a: { b: 18446744073709551615n } },
    }
    const text = stringifyJsonLossless(v)
    expect(text).toBe(
      '{"id":9158179788527662767,"list":[-9223372036854775808,1,"x"],"nested":{"a":{"b":18446744073709551615}}}',
    )
    expect(parseJsonLossless(text)).toEqual(v)
    expect(stringifyJsonLossless(123456789012345678901234567890n)).toBe('123456789012345678901234567890')
  })

  it('pretty-prints with an indent exactly as JSON.stringify does, dropping undefined members', () => {
    const v = { a: 1n, b: [], c: {}, d: [1, { e: 'f' }], g: undefined, h: null, i: true, j: 1.5 }
    expect(stringifyJsonLossless(v, 2)).toBe(JSON.stringify({ ...v, a: 1 }, null, 2))
  })

  it('keeps strings and keys that look like its internal bigint marker as strings', () => {
    const mark = '\u0000tarn-bigint:12'
    const v = { [mark]: mark, list: [mark, 18446744073709551616n] }
    const text = stringifyJsonLossless(v)
    expect(parseJsonLossless(text)).toEqual(v)
    expect(text).toContain('"list":["\\u0000tarn-bigint:12",18446744073709551616]')
  })

  it('refuses non-finite numbers with INVALID_ARGUMENT', () => {
    expect(() => stringifyJsonLossless({ x: Number.NaN })).toThrow(/non-finite/)
    expect(() => stringifyJsonLossless([Number.POSITIVE_INFINITY])).toThrow(/non-finite/)
  })
})
