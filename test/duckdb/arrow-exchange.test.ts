import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Int32, Table, tableFromIPC, vectorFromArray } from 'apache-arrow'
import { describe, expect, it } from 'vitest'
import { arrowFileToTable, queryToArrowFile, queryToParquet } from '../../src/duckdb/arrow-exchange.js'
import { arrowTableToDuckDB } from '../../src/duckdb/arrow-to-duckdb.js'
import { withSession } from '../../src/runtime/duckdb-session.js'

const TYPED = `SELECT
    (i * 1001.125)::DECIMAL(18,3) AS amount,
    (i % 100 * 7 - 300)::DECIMAL(4,1) AS small_dec,
    (i * 123456789012345678901)::DECIMAL(38,2) AS big_dec,
    (-i)::DECIMAL(9,2) AS neg_dec,
    TIMESTAMPTZ '2026-01-31 10:20:30.123456+00' + i * INTERVAL 1 HOUR AS at,
    TIMESTAMP '2026-01-31 10:20:30.654321' + i * INTERVAL 1 MINUTE AS local_at,
    DATE '2026-01-31' + i::INTEGER AS day,
    TIME '10:20:30.5' AS t,
    [i::INTEGER, NULL, i::INTEGER * 2] AS ints,
    {'a': i::INTEGER, 'b': 'x' || i, 'c': [1.5, 2.5]} AS rec,
    [{'k': 'first key longer than twelve', 'v': [i::BIGINT]}, {'k': 'b', 'v': []}] AS nested,
    i::BIGINT * 3000000000 AS big,
    i::SMALLINT AS small,
    i % 2 = 0 AS even,
    CASE WHEN i % 3 = 0 THEN NULL ELSE 'name number ' || i END AS name,
    CASE WHEN i % 4 = 0 THEN NULL ELSE [i::INTEGER] END AS maybe_list,
    '\\xAA\\xBB'::BLOB AS bytes,
    INTERVAL 2 DAY AS span
  FROM range(0, 5000) AS r(i)`

async function describeTable(
  conn: Parameters<Parameters<typeof withSession>[1]>[0],
  name: string,
): Promise<string[]> {
  const r = await conn.runAndReadAll(`DESCRIBE ${name}`)
  return r.getRowObjectsJS().map((row) => `${row.column_name} ${row.column_type}`)
}

describe('Arrow exchange between DuckDB and TS functions', () => {
  it('gives back the same column types and values when a table goes to Arrow and back (decimals, timestamps with time zone, lists, structs, nested lists of structs, nulls)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-ax-'))
    await withSession([], async (conn) => {
      await conn.run(`CREATE TABLE src AS ${TYPED}`)
      expect(await queryToArrowFile(conn, 'SELECT * FROM src', join(dir, 'in.arrow'))).toBe(5000)
      const loaded = await arrowFileToTable(conn, join(dir, 'in.arrow'), 'back')
      expect(loaded.rows).toBe(5000)
      const before = await describeTable(conn, 'src')
      const after = await describeTable(conn, 'back')
      // Intervals have no Arrow form here: they travel as text, everything else keeps its type.
      expect(after.slice(0, -1)).toEqual(before.slice(0, -1))
      expect(after.at(-1)).toBe('span VARCHAR')
      const diff = await conn.runAndReadAll(
        `SELECT count(*)::INTEGER AS n FROM (
           (SELECT * EXCLUDE (span) FROM src EXCEPT ALL SELECT * EXCLUDE (span) FROM back)
           UNION ALL
           (SELECT * EXCLUDE (span) FROM back EXCEPT ALL SELECT * EXCLUDE (span) FROM src))`,
      )
      expect(diff.getRowObjectsJS()[0]?.n).toBe(0)
      const nulls = await conn.runAndReadAll(
        'SELECT count(*) FILTER (WHERE name IS NULL)::INTEGER AS names, count(*) FILTER (WHERE maybe_list IS NULL)::INTEGER AS lists FROM back',
      )
      expect(nulls.getRowObjectsJS()[0]).toEqual({ names: 1667, lists: 1250 })
      const span = await conn.runAndReadAll('SELECT DISTINCT span FROM back')
      expect(span.getRowObjectsJS()).toEqual([{ span: '2 days' }])
    })
  })

  it('keeps the exact Arrow types TS code sees: 128-bit decimals, microsecond timestamps in UTC, nested lists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-ax-'))
    await withSession([], async (conn) => {
      await queryToArrowFile(
        conn,
        `SELECT 12.345::DECIMAL(18,3) AS amount, TIMESTAMPTZ '2026-01-31 10:00:00+00' AS at, [1, 2]::INTEGER[] AS ints, NULL::VARCHAR AS s`,
        join(dir, 'in.arrow'),
      )
      const t = tableFromIPC(readFileSync(join(dir, 'in.arrow')))
      expect(t.schema.fields.map((f) => String(f.type))).toEqual([
        'Decimal[18e+3]',
        'Timestamp<MICROSECOND, UTC>',
        'List<Int32>',
        'Utf8',
      ])
      expect(t.getChild('ints')?.get(0)?.toArray()).toEqual(new Int32Array([1, 2]))
      expect(t.getChild('at')?.get(0)).toBe(Date.UTC(2026, 0, 31, 10))
      expect(t.getChild('s')?.get(0)).toBeNull()
    })
  })

  it('gives a TS function each column of a 300,000-row input as one array, with its nulls in the right rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-ax-'))
    await withSession([], async (conn) => {
      const sql = `SELECT i::INTEGER AS i, CASE WHEN i % 100000 = 99999 THEN NULL ELSE i / 2 END AS half,
          CASE WHEN i % 7 = 0 THEN NULL ELSE 'n' || i END AS name
        FROM range(300000) AS r(i)`
      expect(await queryToArrowFile(conn, sql, join(dir, 'in.arrow'))).toBe(300_000)
      const t = tableFromIPC(readFileSync(join(dir, 'in.arrow')))
      // one record batch: a column's toArray() is that batch's array, not a copy joining many
      expect(t.batches).toHaveLength(1)
      const half = t.getChild('half')
      expect(half?.toArray().buffer).toBe(half?.data[0]?.values.buffer)
      expect(half?.nullCount).toBe(3)
      expect([half?.get(99998), half?.get(99999), half?.get(100000)]).toEqual([49999, null, 50000])
      expect(t.getChild('i')?.get(299999)).toBe(299999)
      const name = t.getChild('name')
      expect(name?.nullCount).toBe(42858)
      expect([name?.get(0), name?.get(1), name?.get(299998), name?.get(299999)]).toEqual([
        null,
        'n1',
        'n299998',
        null,
      ])
    })
  })

  it('writes plain Parquet on request (uncompressed, no dictionaries) with the same rows, for readers outside DuckDB', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-ax-'))
    await withSession([], async (conn) => {
      const sql = "SELECT i, 'zone ' || (i % 3) AS zone FROM range(1000) AS r(i)"
      const plain = join(dir, 'plain.parquet')
      const packed = join(dir, 'packed.parquet')
      expect(await queryToParquet(conn, sql, plain, { plain: true })).toBe(1000)
      expect(await queryToParquet(conn, sql, packed)).toBe(1000)
      const meta = async (file: string) =>
        (
          await conn.runAndReadAll(
            `SELECT DISTINCT compression, encodings FROM parquet_metadata('${file}') ORDER BY ALL`,
          )
        ).getRowObjectsJS()
      expect(await meta(plain)).toEqual([{ compression: 'UNCOMPRESSED', encodings: 'PLAIN' }])
      expect(
        (await meta(packed)).some((m) => m.compression !== 'UNCOMPRESSED' || m.encodings !== 'PLAIN'),
      ).toBe(true)
      const diff = await conn.runAndReadAll(
        `SELECT count(*)::INTEGER AS n FROM (SELECT * FROM '${plain}' EXCEPT ALL (${sql}))`,
      )
      expect(diff.getRowObjectsJS()[0]?.n).toBe(0)
    })
  })

  it('loads Arrow columns sliced at offsets that are not byte-aligned, with their nulls in the right rows', async () => {
    await withSession([], async (conn) => {
      const values = Array.from({ length: 30 }, (_v, i) => (i % 3 === 0 ? null : i))
      const full = new Table({ n: vectorFromArray(values, new Int32()) })
      const sliced = full.slice(5, 25)
      await arrowTableToDuckDB(conn, sliced, 'sliced')
      const r = await conn.runAndReadAll('SELECT n FROM sliced')
      expect(r.getRowObjectsJS().map((row) => row.n)).toEqual(values.slice(5, 25))
    })
  })
})
