import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import {
  batchCells,
  closeLakeEngine,
  explainText,
  lakeQueryEngine,
  planJson,
  type QueryStream,
  rowCsv,
  rowJson,
  rowText,
  typeName,
} from '../../engine/index.js'
import { TarnError } from '../../util/errors.js'
import type { CliContext } from '../context.js'
import type { CliIO } from '../io.js'
import { emit, table } from '../output.js'

interface QueryCommandOptions {
  readonly ref?: string
  readonly file?: string
  readonly maxRows?: string
  readonly allRows?: boolean
  readonly format?: string
  readonly explain?: boolean
  readonly json?: boolean
}

const FORMATS = new Set(['table', 'json', 'csv'])
/** Rows per Arrow batch when the CLI streams a result. */
const CLI_BATCH_ROWS = 4096
/** Rows per printed block of an unbounded text table (column widths are fitted block by block). */
const TABLE_BLOCK_ROWS = 1000

function parseMaxRows(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined
  if (!/^\d+$/.test(raw)) {
    throw new TarnError('USAGE', `--max-rows must be a non-negative integer, got ${raw}`, { maxRows: raw })
  }
  return Number(raw)
}

async function sqlOf(sql: string | undefined, o: QueryCommandOptions, io: CliIO): Promise<string> {
  if (sql !== undefined && o.file !== undefined) {
    throw new TarnError('USAGE', 'give the SQL either as an argument or with -f FILE, not both')
  }
  if (o.file !== undefined) {
    const path = resolve(io.cwd, o.file)
    try {
      return await readFile(path, 'utf8')
    } catch (e) {
      throw new TarnError('USAGE', `cannot read SQL file ${o.file}`, { file: path }, { cause: e })
    }
  }
  if (sql === undefined || sql.trim() === '')
    throw new TarnError('USAGE', 'no SQL given: tarn query "<sql>" or -f FILE')
  return sql
}

/** Prints the stream as an aligned text table: names, types, up to `limit` rows, then a row count. */
async function printTable(io: CliIO, stream: QueryStream, limit: number | undefined): Promise<void> {
  const fields = stream.schema.fields
  const header = [fields.map((f) => f.name), fields.map((f) => typeName(f.type))]
  let block: string[][] = []
  let total = 0
  let shown = 0
  let printedHeader = false
  const flush = (): void => {
    if (block.length === 0 && printedHeader) return
    const rows = printedHeader
      ? block
      : [...header, header[0]?.map((n) => '-'.repeat(Math.max(3, n.length))) ?? [], ...block]
    io.out(`${table(rows)}\n`)
    printedHeader = true
    block = []
  }
  for await (const batch of stream) {
    for (const row of batchCells(batch)) {
      total++
      if (limit !== undefined && shown >= limit) continue
      block.push(rowText(row))
      shown++
      if (block.length >= TABLE_BLOCK_ROWS) flush()
    }
  }
  flush()
  const noun = total === 1 ? 'row' : 'rows'
  io.out(
    shown < total
      ? `(${total} ${noun}, ${shown} shown; use --max-rows N or --all-rows)\n`
      : `(${total} ${noun})\n`,
  )
}

async function printCsv(io: CliIO, stream: QueryStream, limit: number | undefined): Promise<void> {
  io.out(`${rowCsv(stream.schema.fields.map((f) => f.name))}\n`)
  let n = 0
  for await (const batch of stream) {
    const lines: string[] = []
    for (const row of batchCells(batch)) {
      if (limit !== undefined && n >= limit) break
      lines.push(rowCsv(row))
      n++
    }
    if (lines.length > 0) io.out(`${lines.join('\n')}\n`)
    if (limit !== undefined && n >= limit) break
  }
}

/** `--format json`: a JSON array of row objects; `--json`: a document with columns, rows and the row count. */
async function printJson(
  io: CliIO,
  stream: QueryStream,
  limit: number | undefined,
  document: boolean,
): Promise<void> {
  const names = stream.schema.fields.map((f) => f.name)
  if (document) {
    const columns = stream.schema.fields.map((f) => ({ name: f.name, type: typeName(f.type) }))
    io.out(
      `{"ref":${JSON.stringify(stream.plan.ref)},"commit":${JSON.stringify(stream.plan.commit)},"columns":${JSON.stringify(columns)},"rows":[`,
    )
  } else io.out('[')
  let n = 0
  let total = 0
  for await (const batch of stream) {
    const parts: string[] = []
    for (const row of batchCells(batch)) {
      total++
      if (limit !== undefined && n >= limit) continue
      parts.push(`${n === 0 ? '' : ','}\n${rowJson(names, row)}`)
      n++
    }
    if (parts.length > 0) io.out(parts.join(''))
    if (!document && limit !== undefined && n >= limit) break
  }
  if (document) io.out(`\n],"rowCount":${total},"truncated":${n < total}}\n`)
  else io.out(`${n > 0 ? '\n' : ''}]\n`)
}

/**
 * Registers `tarn query "<sql>" [-r REF] [-f FILE] [--max-rows N] [--all-rows] [--format table|json|csv] [--explain]
 * [--json]`: read-only DuckDB SQL over the tables visible at any branch, tag, commit or time, printed as a schema +
 * rows table (10 rows by default), CSV or JSON, streamed without holding the result in memory; `--explain` prints
 * the scan plan (tables, snapshots, files kept of total, bytes to read) without running the query.
 *
 * @example
 * ```ts
 * registerQueryCommands(program, ctx)
 * // tarn query "SELECT count(*) FROM orders" -r v1
 * ```
 */
export function registerQueryCommands(program: Command, ctx: CliContext): void {
  program
    .command('query')
    .description('run read-only SQL over the tables at a ref (branch, tag, commit or time)')
    .argument('[sql]', 'the SQL (or use -f FILE)')
    .option(
      '-r, --ref <ref>',
      'branch, tag, branch@hash, @hash, branch~N or branch*<time> (default: active branch)',
    )
    .option('-f, --file <file>', 'read the SQL from a file')
    .option('--max-rows <n>', 'rows to print (default 10 for the table format, all for json/csv)')
    .option('--all-rows', 'print every row')
    .option('--format <format>', 'table, json or csv', 'table')
    .option('--explain', 'print the scan plan without running the query')
    .option('--json', 'print one JSON document')
    .action(async (sqlArg: string | undefined, o: QueryCommandOptions) => {
      const format = o.format ?? 'table'
      if (!FORMATS.has(format)) {
        throw new TarnError('USAGE', `--format must be table, json or csv, got ${format}`, { format })
      }
      const maxRows = parseMaxRows(o.maxRows)
      const sql = await sqlOf(sqlArg, o, ctx.io)
      const lake = await ctx.lake()
      const ref = o.ref ?? lake.activeBranch()
      try {
        const engine = await lakeQueryEngine(lake, ctx.io.env)
        if (o.explain) {
          const plan = await engine.explain(sql, { ref })
          emit(ctx.io, o, { plan: planJson(plan) }, () => explainText(plan))
          return
        }
        await lake.trackJob(
          { kind: 'query', target: ref, sql },
          async () => {
            const stream = await engine.stream(sql, { ref, batchRows: CLI_BATCH_ROWS })
            try {
              const limit = o.allRows
                ? undefined
                : (maxRows ?? (format === 'table' && !o.json ? 10 : undefined))
              if (o.json) await printJson(ctx.io, stream, limit, true)
              else if (format === 'json') await printJson(ctx.io, stream, limit, false)
              else if (format === 'csv') await printCsv(ctx.io, stream, limit)
              else await printTable(ctx.io, stream, limit)
              return stream.plan.commit
            } finally {
              await stream.close()
            }
          },
          (commit) => ({ dataCommit: commit }),
        )
      } finally {
        await closeLakeEngine(lake)
      }
    })
}
