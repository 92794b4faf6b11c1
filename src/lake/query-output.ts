import type { DuckDBDataChunk, DuckDBType, DuckDBValue } from '@duckdb/node-api'
import type { QueryStream } from './lake-types.js'
import { table } from './text-table.js'
import { csvField, typeText, valueJson, valueText } from './value-text.js'

/** Rows per printed block of an unbounded text table (column widths are fitted block by block). */
const TABLE_BLOCK_ROWS = 1000

/**
 * Where printed query text goes: the CLI's stdout, or the body of the server's text result.
 *
 * @example
 * ```ts
 * const sink: TextSink = { out: (s) => process.stdout.write(s) }
 * ```
 */
export interface TextSink {
  out(text: string): void
}

/**
 * How `tarn query` prints a result: an aligned `table`, `csv`, a bare JSON array of rows (`json`) or the `--json`
 * `document` (ref, commit, columns, rows, row count, truncated).
 *
 * @example
 * ```ts
 * const f: PrintFormat = 'document'
 * ```
 */
export type PrintFormat = 'table' | 'csv' | 'json' | 'document'

/**
 * The print formats, for validation.
 */
export const PRINT_FORMATS: readonly PrintFormat[] = ['table', 'csv', 'json', 'document']

/**
 * How many rows a printer wrote, and whether the query had more it did not read.
 */
export interface Printed {
  readonly rows: number
  readonly more: boolean
}

/**
 * Reads a stream's rows chunk by chunk and hands each row's values to `row`, stopping (and closing the query) as
 * soon as one row beyond `limit` has been seen: a preview never reads the rest of a large result.
 */
async function eachRow(
  stream: QueryStream,
  limit: number | undefined,
  row: (values: readonly DuckDBValue[]) => void,
  chunkDone?: () => void,
): Promise<Printed> {
  let rows = 0
  const width = stream.columnTypes.length
  for await (const chunk of stream.chunks()) {
    const columns = columnValues(chunk, width)
    for (let i = 0; i < chunk.rowCount; i++) {
      if (limit !== undefined && rows >= limit) {
        chunkDone?.()
        return { rows, more: true }
      }
      row(columns.map((c) => c[i] ?? null))
      rows++
    }
    chunkDone?.()
  }
  return { rows, more: false }
}

function columnValues(chunk: DuckDBDataChunk, width: number): DuckDBValue[][] {
  const out: DuckDBValue[][] = []
  for (let c = 0; c < width; c++) out.push(chunk.getColumnValues(c))
  return out
}

function textRow(values: readonly DuckDBValue[], types: readonly DuckDBType[]): string[] {
  return values.map((v, c) =>
    valueText(v, types[c] as DuckDBType)
      .replace(/\r/g, '\\r')
      .replace(/\n/g, '\\n'),
  )
}

/**
 * Prints a result as an aligned text table, the way DuckDB's shell spells values (lists `[1, 2]`, structs
 * `{'a': 1}`, maps `{k=v}`): names, types, up to `limit` rows, then the row count. With a limit it stops reading at
 * the first row it would not show.
 */
export async function printTable(
  io: TextSink,
  stream: QueryStream,
  limit: number | undefined,
): Promise<Printed> {
  const types = stream.columnTypes
  const names = [...stream.columnNames]
  const header = [names, types.map(typeText), names.map((n) => '-'.repeat(Math.max(3, n.length)))]
  let block: string[][] = []
  let printedHeader = false
  const flush = (): void => {
    if (block.length === 0 && printedHeader) return
    io.out(`${table(printedHeader ? block : [...header, ...block])}\n`)
    printedHeader = true
    block = []
  }
  const printed = await eachRow(stream, limit, (values) => {
    block.push(textRow(values, types))
    if (block.length >= TABLE_BLOCK_ROWS) flush()
  })
  flush()
  const noun = printed.rows === 1 ? 'row' : 'rows'
  io.out(
    printed.more
      ? `(more than ${printed.rows} rows, ${printed.rows} shown; use --max-rows N or --all-rows)\n`
      : `(${printed.rows} ${noun})\n`,
  )
  return printed
}

/**
 * Prints a result as CSV: a header of names, then one line per row with each value in DuckDB's text form (nested
 * values as DuckDB casts them to VARCHAR), RFC 4180 quoting and NULL as an empty field.
 */
export async function printCsv(
  io: TextSink,
  stream: QueryStream,
  limit: number | undefined,
): Promise<Printed> {
  const types = stream.columnTypes
  io.out(`${stream.columnNames.map(csvField).join(',')}\n`)
  let lines: string[] = []
  return eachRow(
    stream,
    limit,
    (values) => {
      lines.push(
        values.map((v, c) => csvField(v === null ? null : valueText(v, types[c] as DuckDBType))).join(','),
      )
    },
    () => {
      if (lines.length > 0) io.out(`${lines.join('\n')}\n`)
      lines = []
    },
  )
}

/**
 * Builds a result as JSON row objects (nested values as JSON arrays and objects, see `valueJson`) and only then
 * writes it, so stdout never holds half a document: `document` adds the ref, commit, columns, row count and whether
 * rows were left unread (`--json`); otherwise it is a bare array of rows (`--format json`).
 */
export async function printJson(
  io: TextSink,
  stream: QueryStream,
  limit: number | undefined,
  document: boolean,
): Promise<Printed> {
  const types = stream.columnTypes
  const keys = stream.columnNames.map((n) => JSON.stringify(n))
  const rows: string[] = []
  const printed = await eachRow(stream, limit, (values) => {
    rows.push(`{${values.map((v, c) => `${keys[c]}:${valueJson(v, types[c] as DuckDBType)}`).join(',')}}`)
  })
  const body = rows.length > 0 ? `\n${rows.join(',\n')}\n` : ''
  if (document) {
    const columns = stream.columnNames.map((name, c) => ({ name, type: typeText(types[c] as DuckDBType) }))
    io.out(
      `{"ref":${JSON.stringify(stream.plan.ref)},"commit":${JSON.stringify(stream.plan.commit)},"columns":${JSON.stringify(columns)},"rows":[${body}],"rowCount":${printed.rows},"truncated":${printed.more}}\n`,
    )
  } else io.out(`[${body}]\n`)
  return printed
}

/**
 * Prints a result in one of the {@link PrintFormat}s, reading at most `limit` rows (and one more to tell whether
 * there were more).
 */
export function printResult(
  io: TextSink,
  stream: QueryStream,
  format: PrintFormat,
  limit: number | undefined,
): Promise<Printed> {
  switch (format) {
    case 'document':
      return printJson(io, stream, limit, true)
    case 'json':
      return printJson(io, stream, limit, false)
    case 'csv':
      return printCsv(io, stream, limit)
    default:
      return printTable(io, stream, limit)
  }
}
