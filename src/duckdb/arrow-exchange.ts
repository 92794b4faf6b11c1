import { open, readFile } from 'node:fs/promises'
import type { DuckDBConnection } from '@duckdb/node-api'
import { RecordBatchFileWriter, Table, tableFromIPC } from 'apache-arrow'
import { arrowSchemaOf, recordBatchOf } from './arrow-convert.js'
import { arrowTableToDuckDB } from './arrow-to-duckdb.js'
import { NonContiguousList, queryToArrowBatches } from './duckdb-to-arrow.js'
import { sqlString } from './sql-quote.js'

/**
 * Runs a DuckDB query and writes its result as an Arrow IPC file (the columnar form TS functions receive); returns
 * the number of rows. Columns are converted vector by vector ({@link queryToArrowBatches}); a list vector out of row
 * order (which DuckDB does not hand back for query results) falls back to the value-by-value conversion.
 */
export async function queryToArrowFile(conn: DuckDBConnection, sql: string, path: string): Promise<number> {
  let table: Table
  try {
    const { schema, batches } = await queryToArrowBatches(conn, sql)
    table = new Table(schema, batches)
  } catch (e) {
    if (!(e instanceof NonContiguousList)) throw e
    const result = await conn.run(sql)
    const types = result.columnTypes()
    const schema = arrowSchemaOf(result.deduplicatedColumnNames(), types)
    const batch = recordBatchOf(schema, types, await result.fetchAllChunks())
    table = new Table(schema, batch.numRows > 0 ? [batch] : [])
  }
  await writeArrowFile(table, path)
  return table.numRows
}

/**
 * Writes a table as an Arrow IPC file: the writer's pieces (messages, and the columns' own buffers as views) go to
 * the file with vectored writes, never joined into one buffer first (a copy of the whole table, and as much memory
 * again, that `tableToIPC` makes).
 */
async function writeArrowFile(table: Table, path: string): Promise<void> {
  const writer = new RecordBatchFileWriter()
  writer.writeAll(table)
  const pieces: Uint8Array[] = []
  for await (const piece of writer) pieces.push(piece)
  const file = await open(path, 'w')
  try {
    let queue = pieces
    while (queue.length > 0) {
      // at most 512 pieces a call (below any IOV_MAX); a short write goes on where it stopped
      const group = queue.slice(0, 512)
      let { bytesWritten } = await file.writev(group)
      let done = 0
      while (done < group.length && bytesWritten >= (group[done] as Uint8Array).byteLength) {
        bytesWritten -= (group[done] as Uint8Array).byteLength
        done += 1
      }
      const rest = queue.slice(done)
      if (bytesWritten > 0) rest[0] = (rest[0] as Uint8Array).subarray(bytesWritten)
      queue = rest
    }
  } finally {
    await file.close()
  }
}

/**
 * Loads an Arrow IPC file into a new DuckDB table (`name`), keeping every Arrow type that has an exact DuckDB
 * counterpart (see {@link arrowTableToDuckDB}); other columns hold their text.
 */
export async function arrowFileToTable(
  conn: DuckDBConnection,
  path: string,
  name: string,
): Promise<{ columns: string[]; rows: number }> {
  return arrowTableToDuckDB(conn, tableFromIPC(await readFile(path)), name)
}

/**
 * Writes a DuckDB query's rows to a Parquet file (the form model results take in the scratch area). With `plain`,
 * pages are uncompressed and without dictionaries: a file read once by another reader (a Python model's input,
 * which pyarrow then reads in about half the time).
 */
export async function queryToParquet(
  conn: DuckDBConnection,
  sql: string,
  path: string,
  options: { readonly plain?: boolean } = {},
): Promise<number> {
  const plain = options.plain ? ', COMPRESSION uncompressed, DICTIONARY_SIZE_LIMIT 1' : ''
  // COPY answers with the number of rows it wrote: no second pass over the file to count them.
  const r = await conn.runAndReadAll(`COPY (${sql}) TO ${sqlString(path)} (FORMAT parquet${plain})`)
  return Number(r.getRows()[0]?.[0] ?? 0)
}
