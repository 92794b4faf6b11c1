import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Int32, type Schema, Table, vectorFromArray } from 'apache-arrow'
import { describe, expect, it } from 'vitest'
import { arrowTableToDuckDB } from '../../src/duckdb/arrow-to-duckdb.js'
import { queryToArrowBatches } from '../../src/duckdb/duckdb-to-arrow.js'
import { parquetWritable, writeParquetFile } from '../../src/runtime/arrow-to-parquet.js'
import { withSession } from '../../src/runtime/duckdb-session.js'
import { tableFromRows } from '../../src/runtime/rows-to-table.js'

const FLAT = `SELECT
    (i % 100 - 50)::TINYINT AS tiny, (i % 30000 - 15000)::SMALLINT AS small, i::INTEGER AS int, i::BIGINT * 3000000000 AS big,
    (i % 200)::UTINYINT AS utiny, (i % 60000)::USMALLINT AS usmall, i::UINTEGER AS uint, i::UBIGINT * 3000000000 AS ubig,
    i / 7 AS dbl, (i / 3)::FLOAT AS flt, i % 2 = 0 AS even,
    CASE WHEN i % 3 = 0 THEN NULL ELSE 'name number ' || i END AS name,
    CASE WHEN i % 5 = 0 THEN NULL ELSE i END AS maybe_int,
    CASE WHEN i = 5000 THEN NULL ELSE i::DOUBLE END AS late_null,
    CASE WHEN i % 7 = 0 THEN NULL ELSE i % 4 = 1 END AS maybe_bool,
    '\\xAA\\xBB'::BLOB AS bytes,
    DATE '2026-01-31' + i::INTEGER AS day,
    TIME '10:20:30.5' + i * INTERVAL 1 SECOND AS t,
    TIMESTAMP '2026-01-31 10:20:30.654321' + i * INTERVAL 1 MINUTE AS local_at,
    TIMESTAMPTZ '2026-01-31 10:20:30.123456+00' + i * INTERVAL 1 HOUR AS at,
    (i % 100 * 7 - 300)::DECIMAL(4,1) AS small_dec,
    (-i)::DECIMAL(9,2) AS neg_dec,
    CASE WHEN i % 4 = 0 THEN NULL ELSE (i * 1001.125)::DECIMAL(18,3) END AS amount,
    (i * 123456789012345678901 - 5)::DECIMAL(38,2) AS big_dec
  FROM range(0, ROWS) AS r(i)`

type Conn = Parameters<Parameters<typeof withSession>[1]>[0]

async function describeQuery(conn: Conn, sql: string): Promise<string[]> {
  const r = await conn.runAndReadAll(`DESCRIBE ${sql}`)
  return r.getRowObjectsJS().map((row) => `${row.column_name} ${row.column_type}`)
}

async function differences(conn: Conn, a: string, b: string): Promise<number> {
  const r = await conn.runAndReadAll(
    `SELECT count(*)::INTEGER AS n FROM ((${a} EXCEPT ALL ${b}) UNION ALL (${b} EXCEPT ALL ${a}))`,
  )
  return Number(r.getRowObjectsJS()[0]?.n)
}

describe('Arrow tables written as Parquet in JavaScript', () => {
  it('round-trips flat columns of every supported type, with nulls, across several row groups and batches', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-a2p-'))
    const file = join(dir, 'out.parquet')
    await withSession([], async (conn) => {
      await conn.run(`CREATE TABLE src AS ${FLAT.replace('ROWS', '300000')}`)
      // a query's result is one batch: three of uneven sizes, so row groups and batches do not line up
      const parts = []
      for (const [from, to] of [
        [0, 70_000],
        [70_000, 200_000],
        [200_000, 300_000],
      ])
        parts.push(
          await queryToArrowBatches(conn, `SELECT * FROM src WHERE rowid >= ${from} AND rowid < ${to}`),
        )
      const table = new Table(
        parts[0]?.schema as Schema,
        parts.flatMap((p) => p.batches),
      )
      expect(table.batches.length).toBe(3)
      expect(parquetWritable(table.schema)).toBe(true)
      expect(writeParquetFile(table, file)).toBe(300000)
      const back = `SELECT * FROM read_parquet('${file}')`
      expect(await describeQuery(conn, back)).toEqual(await describeQuery(conn, 'SELECT * FROM src'))
      expect(await differences(conn, 'SELECT * FROM src', back)).toBe(0)
      const groups = await conn.runAndReadAll(
        `SELECT count(DISTINCT row_group_id)::INTEGER AS n FROM parquet_metadata('${file}')`,
      )
      expect(groups.getRowObjectsJS()[0]?.n).toBe(3)
    })
  })

  it('gives DuckDB the same column types and values as loading the table through the appender (plain-object results, a sliced table)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-a2p-'))
    const rows = Array.from({ length: 50 }, (_v, i) => ({
      n: i,
      big: i * 2 ** 40,
      half: i / 2,
      label: i % 2 ? null : `label ${i}`,
      ok: i % 3 === 0,
      at: new Date(Date.UTC(2026, 0, 1, 0, i)),
    }))
    const values = Array.from({ length: 30 }, (_v, i) => (i % 3 === 0 ? null : i))
    const sliced = new Table({ n: vectorFromArray(values, new Int32()) }).slice(5, 25)
    await withSession([], async (conn) => {
      for (const [name, table] of [
        ['objs', tableFromRows(rows)],
        ['sliced', sliced],
      ] as const) {
        const file = join(dir, `${name}.parquet`)
        writeParquetFile(table, file)
        await arrowTableToDuckDB(conn, table, name)
        const back = `SELECT * FROM read_parquet('${file}')`
        expect(await describeQuery(conn, back)).toEqual(await describeQuery(conn, `SELECT * FROM ${name}`))
        expect(await differences(conn, `SELECT * FROM ${name}`, back)).toBe(0)
      }
      const r = await conn.runAndReadAll(`SELECT n FROM read_parquet('${join(dir, 'sliced.parquet')}')`)
      expect(r.getRowObjectsJS().map((row) => row.n)).toEqual(values.slice(5, 25))
    })
  })

  it('declines nested columns, duplicate names and tables without columns (those travel as Arrow IPC)', () => {
    const lists = tableFromRows([{ l: [1, 2] }, { l: [3] }])
    expect(parquetWritable(lists.schema)).toBe(false)
    expect(parquetWritable(new Table({}).schema)).toBe(false)
    const dup = tableFromRows([{ a: 1, A: 2 }])
    expect(parquetWritable(dup.schema)).toBe(false)
  })
})
