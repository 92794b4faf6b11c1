import { readFile, writeFile } from 'node:fs/promises'
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBDateValue,
  DuckDBTimestampValue,
} from '@duckdb/node-api'
import { type DataType, type Field, Table, Type, tableFromIPC, tableToIPC } from 'apache-arrow'
import { arrowSchemaOf, recordBatchOf } from '../engine/arrow-convert.js'
import { quoteIdent, sqlString } from '../iceberg/index.js'

/**
 * Runs a DuckDB query and writes its result as an Arrow IPC file (the columnar form TS functions receive); returns
 * the number of rows.
 *
 * @example
 * ```ts
 * await queryToArrowFile(conn, 'SELECT * FROM trips', '/scratch/trips.arrow')
 * ```
 */
export async function queryToArrowFile(conn: DuckDBConnection, sql: string, path: string): Promise<number> {
  const result = await conn.run(sql)
  const types = result.columnTypes()
  const schema = arrowSchemaOf(result.deduplicatedColumnNames(), types)
  const chunks = await result.fetchAllChunks()
  const batch = recordBatchOf(schema, types, chunks)
  const table = new Table(schema, batch.numRows > 0 ? [batch] : [])
  await writeFile(path, tableToIPC(table, 'file'))
  return table.numRows
}

function duckType(t: DataType): string {
  switch (t.typeId) {
    case Type.Int:
      return (t as unknown as { bitWidth: number; isSigned: boolean }).bitWidth === 64 ||
        ((t as unknown as { bitWidth: number }).bitWidth === 32 &&
          !(t as unknown as { isSigned: boolean }).isSigned)
        ? 'BIGINT'
        : 'INTEGER'
    case Type.Float:
    case Type.Decimal:
      return 'DOUBLE'
    case Type.Bool:
      return 'BOOLEAN'
    case Type.Timestamp:
      return (t as unknown as { timezone?: string | null }).timezone ? 'TIMESTAMPTZ' : 'TIMESTAMP'
    case Type.Date:
      return 'DATE'
    case Type.Utf8:
    case Type.LargeUtf8:
      return 'VARCHAR'
    case Type.Dictionary:
      return duckType((t as unknown as { dictionary: DataType }).dictionary)
    default:
      return 'VARCHAR'
  }
}

const UNIT_TO_MICROS = [1_000_000n, 1_000n, 1n, 0n] // SECOND, MILLISECOND, MICROSECOND, NANOSECOND

function micros(v: unknown, t: DataType): bigint {
  if (v instanceof Date) return BigInt(v.getTime()) * 1000n
  if (typeof v === 'bigint') {
    const unit = (t as unknown as { unit?: number }).unit ?? 1
    return unit === 3 ? v / 1000n : v * (UNIT_TO_MICROS[unit] ?? 1000n)
  }
  return BigInt(Math.round(Number(v) * 1000))
}

function appendValue(app: DuckDBAppender, v: unknown, sqlType: string, t: DataType): void {
  if (v === null || v === undefined) {
    app.appendNull()
    return
  }
  switch (sqlType) {
    case 'BIGINT':
      app.appendBigInt(typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v))))
      return
    case 'INTEGER':
      app.appendInteger(Number(v))
      return
    case 'DOUBLE':
      app.appendDouble(Number(v))
      return
    case 'BOOLEAN':
      app.appendBoolean(Boolean(v))
      return
    case 'TIMESTAMP':
    case 'TIMESTAMPTZ':
      app.appendTimestamp(new DuckDBTimestampValue(micros(v, t)))
      return
    case 'DATE': {
      const ms = v instanceof Date ? v.getTime() : Number(v)
      app.appendDate(new DuckDBDateValue(Math.floor(ms / 86_400_000)))
      return
    }
    default:
      app.appendVarchar(typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v))
      return
  }
}

/**
 * Loads an Arrow IPC file into a new DuckDB table (`name`), mapping Arrow types to DuckDB ones (integers, floats,
 * booleans, strings, dates and timestamps keep their type; decimals become DOUBLE; anything else its text).
 *
 * @example
 * ```ts
 * const { columns, rows } = await arrowFileToTable(conn, '/scratch/zones.out.arrow', 'zones_out')
 * ```
 */
export async function arrowFileToTable(
  conn: DuckDBConnection,
  path: string,
  name: string,
): Promise<{ columns: string[]; rows: number }> {
  const table = tableFromIPC(await readFile(path))
  const fields: Field[] = table.schema.fields
  if (fields.length === 0) throw new Error('the function returned a table without columns')
  const sqlTypes = fields.map((f) => duckType(f.type))
  await conn.run(
    `CREATE OR REPLACE TABLE ${quoteIdent(name)} (${fields.map((f, i) => `${quoteIdent(f.name)} ${sqlTypes[i]}`).join(', ')})`,
  )
  const app = await conn.createAppender(name)
  const cols = fields.map((_f, i) => table.getChildAt(i))
  for (let r = 0; r < table.numRows; r++) {
    for (let c = 0; c < fields.length; c++) {
      appendValue(app, cols[c]?.get(r), sqlTypes[c] as string, (fields[c] as Field).type)
    }
    app.endRow()
  }
  app.flushSync()
  app.closeSync()
  return { columns: fields.map((f) => f.name), rows: table.numRows }
}

/**
 * Writes a DuckDB query's rows to a Parquet file (the form model results take in the scratch area).
 *
 * @example
 * ```ts
 * const rows = await queryToParquet(conn, 'SELECT * FROM zone_stats', '/scratch/zone_stats.parquet')
 * ```
 */
export async function queryToParquet(conn: DuckDBConnection, sql: string, path: string): Promise<number> {
  await conn.run(`COPY (${sql}) TO ${sqlString(path)} (FORMAT parquet)`)
  const r = await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet(${sqlString(path)})`)
  return Number(r.getRowObjectsJS()[0]?.n ?? 0)
}
