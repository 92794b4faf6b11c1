import { type DuckDBConnection, DuckDBInstance, type DuckDBType } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { csvField, floatText, typeText, valueJson, valueText } from '../../src/engine/index.js'

let db: DuckDBInstance
let conn: DuckDBConnection

beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:')
  conn = await db.connect()
  await conn.run("SET TimeZone = 'UTC'")
})
afterAll(() => {
  conn?.closeSync()
  db?.closeSync()
})

/** One scalar of every DuckDB type (and awkward values of some), as SQL. */
const SCALARS = [
  '(-128)::TINYINT',
  '32767::SMALLINT',
  '(-7)::INTEGER',
  '9223372036854775807::BIGINT',
  '255::UTINYINT',
  '65535::USMALLINT',
  '4294967295::UINTEGER',
  '18446744073709551615::UBIGINT',
  '170141183460469231731687303715884105727::HUGEINT',
  '(-170141183460469231731687303715884105727)::HUGEINT',
  '340282366920938463463374607431768211455::UHUGEINT',
  '12.50::DECIMAL(10,2)',
  '(-0.05)::DECIMAL(4,2)',
  '1234567890123456789.123456789::DECIMAL(38,9)',
  '0.1::FLOAT',
  '3.4028235e38::FLOAT',
  '123456789012345.6::FLOAT',
  '1.0::DOUBLE',
  '1e20::DOUBLE',
  '1e15::DOUBLE',
  '1e-5::DOUBLE',
  '0.0001::DOUBLE',
  '(-0.0)::DOUBLE',
  "'inf'::DOUBLE",
  "'-inf'::FLOAT",
  "'nan'::DOUBLE",
  '5e-324::DOUBLE',
  "'plain'::VARCHAR",
  "'a,b'::VARCHAR",
  "'it''s'::VARCHAR",
  "'back\\slash'::VARCHAR",
  "''::VARCHAR",
  "' padded '::VARCHAR",
  "'NULL'::VARCHAR",
  "'{x}=[y]:(z)\"'::VARCHAR",
  "'héllo wörld'::VARCHAR",
  "'\\x00A\\xFF'::BLOB",
  "'abc'::BLOB",
  'true',
  'false',
  "DATE '2024-01-02'",
  "DATE '-0044-03-15'",
  "'infinity'::DATE",
  "'-infinity'::DATE",
  "TIME '12:34:56.789'",
  "TIMESTAMP '2024-01-02 03:04:05.123456'",
  "'infinity'::TIMESTAMP",
  "TIMESTAMPTZ '2024-01-02 03:04:05.5+02'",
  "'2024-01-02 03:04:05.123'::TIMESTAMP_MS",
  "'2024-01-02 03:04:05.123456789'::TIMESTAMP_NS",
  "'2024-01-02 03:04:05'::TIMESTAMP_S",
  "'12:00:00+05'::TIMETZ",
  "INTERVAL '14 months 2 days 00:00:01.5'",
  "INTERVAL '-3 hours'",
  "'12345678-1234-5678-1234-567812345678'::UUID",
  "'b'::ENUM('a', 'b', 'c,d')",
  "'c,d'::ENUM('a', 'b', 'c,d')",
  "'101'::BIT",
  '123456789012345678901234567890::VARINT',
  'union_value(n := 2)::UNION(n INTEGER, s VARCHAR)',
  "'x,y'::UNION(n INTEGER, s VARCHAR)",
]

/** Every scalar alone and nested two levels deep, in lists, fixed arrays, structs and maps. */
const EXPRESSIONS = [
  ...SCALARS,
  ...SCALARS.map((e) => `[${e}, NULL]`),
  ...SCALARS.map((e) => `[[${e}], []]`),
  ...SCALARS.map((e) => `{'k': [${e}], 'n': NULL, 'it''s': {'x': ${e}}}`),
  ...SCALARS.map((e) => `MAP {${e}: [${e}]}`),
  ...SCALARS.map((e) => `[MAP {'k': ${e}}]`),
  ...SCALARS.map((e) => `[array_value(${e}, ${e})]`),
  '[]::INTEGER[]',
  '[NULL]::INTEGER[]',
  '[[1, 2], [3, 4]]::INTEGER[2][2]',
  "{'a': [1, 2]::INTEGER[2], 'b': MAP {'k': [NULL]::INTEGER[]}}",
  "[{'a': 1, 'b': 's'}, NULL]",
  "MAP {'k': {'x': 1}}",
  '[MAP {}::MAP(VARCHAR, INTEGER)]',
  "[union_value(s := 'a,b')::UNION(n INTEGER, s VARCHAR)]",
]

async function one(expression: string): Promise<{ v: unknown; type: DuckDBType; text: string }> {
  const r = await conn.runAndReadAll(`SELECT ${expression} AS v, CAST(${expression} AS VARCHAR) AS t`)
  const row = r.getRows()[0] ?? []
  return { v: row[0], type: r.columnTypes()[0] as DuckDBType, text: String(row[1]) }
}

describe('DuckDB values as text', () => {
  it('spells every type, alone and nested two levels deep, exactly as DuckDB casts it to VARCHAR', async () => {
    const mismatches: string[] = []
    for (const e of EXPRESSIONS) {
      const { v, type, text } = await one(e)
      const mine = valueText(v as never, type)
      if (mine !== text) mismatches.push(`${e}: DuckDB ${JSON.stringify(text)}, tarn ${JSON.stringify(mine)}`)
    }
    expect(mismatches).toEqual([])
  })

  it('names types as DuckDB does, with nested types spelled out', async () => {
    const { type } = await one("[{'a': 1, 'b': MAP {'k': [1.5::DECIMAL(4,2)]}}]")
    expect(typeText(type)).toBe('STRUCT(a INTEGER, b MAP(VARCHAR, DECIMAL(4,2)[]))[]')
    expect(typeText((await one('[1, 2]::INTEGER[2]')).type)).toBe('INTEGER[2]')
  })

  it('prints floats with the shortest digits of their own width', () => {
    expect(floatText(Math.fround(0.1), true)).toBe('0.1')
    expect(floatText(0.1, false)).toBe('0.1')
    expect(floatText(1e20, false)).toBe('1e+20')
    expect(floatText(1.5e-7, false)).toBe('1.5e-07')
    expect(floatText(100, false)).toBe('100.0')
  })
})

describe('DuckDB values as JSON', () => {
  it('writes valid JSON for every type alone and nested two levels deep', async () => {
    for (const e of EXPRESSIONS) {
      const { v, type } = await one(e)
      const json = valueJson(v as never, type)
      expect(() => JSON.parse(json), `${e} -> ${json}`).not.toThrow()
    }
  })

  it('writes lists as arrays, structs and maps as objects, numbers exactly and other scalars as their text', async () => {
    const cases: [string, string][] = [
      ['[[1, 2], [3]]', '[[1,2],[3]]'],
      ['[1, 2]::INTEGER[2]', '[1,2]'],
      ["{'a': 1, 'b': [{'c': 'x'}]}", '{"a":1,"b":[{"c":"x"}]}'],
      ["MAP {'k': [1, 2]}", '{"k":[1,2]}'],
      ["MAP {1: {'x': true}}", '{"1":{"x":true}}'],
      ['170141183460469231731687303715884105727::HUGEINT', '170141183460469231731687303715884105727'],
      ['340282366920938463463374607431768211455::UHUGEINT', '340282366920938463463374607431768211455'],
      ['[12.50::DECIMAL(10,2)]', '[12.50]'],
      ['[0.1::FLOAT]', '[0.1]'],
      ["['inf'::DOUBLE]", '["inf"]'],
      ["[TIMESTAMP '2024-01-02 03:04:05.5']", '["2024-01-02 03:04:05.5"]'],
      ["[INTERVAL '1 day']", '["1 day"]'],
      ["['\\x01'::BLOB]", '["\\\\x01"]'],
      ["'x'::UNION(n INTEGER, s VARCHAR)", '{"s":"x"}'],
      ["['a'::ENUM('a', 'b')]", '["a"]'],
      ["['12345678-1234-5678-1234-567812345678'::UUID]", '["12345678-1234-5678-1234-567812345678"]'],
    ]
    for (const [e, expected] of cases) {
      const { v, type } = await one(e)
      expect(valueJson(v as never, type), e).toBe(expected)
    }
  })
})

describe('CSV fields', () => {
  it('quotes fields with quotes, commas, line breaks or surrounding spaces, and leaves NULL empty', () => {
    expect(csvField("{'a': 1, 'b': x}")).toBe("\"{'a': 1, 'b': x}\"")
    expect(csvField('say "hi"')).toBe('"say ""hi"""')
    expect(csvField(' x')).toBe('" x"')
    expect(csvField('plain')).toBe('plain')
    expect(csvField(null)).toBe('')
  })
})
