import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDuckDB } from '../../src/duckdb/open-duckdb.js'
import { deserializeSql, serializeSql } from '../../src/duckdb/serialize-sql.js'
import { quoteIdent, sqlString } from '../../src/duckdb/sql-quote.js'
import { isTarnError } from '../../src/util/errors.js'
import type { JsonValue } from '../../src/util/lossless-json.js'

let db: DuckDBInstance
let conn: DuckDBConnection

beforeAll(async () => {
  db = await openDuckDB()
  conn = await db.connect()
})

afterAll(() => {
  conn.closeSync()
  db.closeSync()
})

/** Every value of a syntax tree, depth first. */
function values(v: JsonValue | undefined): JsonValue[] {
  if (v === undefined) return []
  if (Array.isArray(v)) return v.flatMap((x: JsonValue) => values(x))
  if (v !== null && typeof v === 'object') return Object.values(v).flatMap(values)
  return [v]
}

describe("tarn's SQL parser (DuckDB's json_serialize_sql, read losslessly)", () => {
  it('keeps BIGINT literals beyond 2^53 exact, and writes them back unchanged', async () => {
    const sql = 'SELECT * FROM t WHERE id = 9007199254740993'
    const doc = await serializeSql(conn, sql)
    expect(doc.error).toBe(false)
    expect(values(doc)).toContain(9007199254740993n)
    const text = await deserializeSql(conn, doc)
    expect(text).toContain(9007199254740993n)
    const again = await serializeSql(conn, text)
    expect(values(again)).toContain(9007199254740993n)
  })

  it('reports a syntax error as a document with its position instead of throwing', async () => {
    const doc = await serializeSql(conn, 'SELECT FROM WHERE')
    expect(doc.error).toBe(true)
    expect(doc.error_type).toBe('parser')
    expect(String(doc.error_message)).toMatch(/syntax error/)
  })
})

describe('SQL quoting', () => {
  it('quotes identifiers and string literals so DuckDB reads them back verbatim', async () => {
    const name = 'odd "name" \'here\''
    const text = 'it\'s a "test"\n-- not a comment'
    const r = await conn.runAndReadAll(`SELECT ${sqlString(text)} AS ${quoteIdent(name)}`)
    expect(r.columnNames()).toEqual([name])
    expect(r.getRowsJS()).toEqual([[text]])
  })

  it('refuses a NUL character in a string literal', () => {
    let error: unknown
    try {
      sqlString('a\0b')
    } catch (e) {
      error = e
    }
    expect(isTarnError(error) && error.code).toBe('INVALID_ARGUMENT')
  })
})
