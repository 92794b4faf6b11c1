import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { TarnError } from '../../util/errors.js'
import type { CliContext } from '../context.js'
import { explainText, planJson } from '../format/explain-text.js'
import type { CliIO } from '../io.js'
import { emit, exportJson, exportText } from '../output.js'

interface QueryCommandOptions {
  readonly ref?: string
  readonly file?: string
  readonly maxRows?: string
  readonly allRows?: boolean
  readonly format?: string
  readonly explain?: boolean
  readonly output?: string
  readonly force?: boolean
  readonly json?: boolean
}

const FORMATS = new Set(['table', 'json', 'csv'])

function parseMaxRows(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined
  if (!/^\d+$/.test(raw)) {
    throw new TarnError('USAGE', `--max-rows must be a non-negative integer, got ${raw}`, { maxRows: raw })
  }
  return Number(raw)
}

function readFailure(file: string, path: string, e: unknown): TarnError {
  const code = (e as NodeJS.ErrnoException).code
  const why =
    code === 'ENOENT'
      ? 'does not exist'
      : code === 'EISDIR'
        ? 'is a directory'
        : code === 'EACCES'
          ? 'is not readable'
          : `cannot be read (${code ?? String(e)})`
  return new TarnError('USAGE', `SQL file ${file} ${why}`, { file: path }, { cause: e })
}

/** The SQL from the argument, `-f FILE`, `-f -` (stdin), or stdin when it is piped and no SQL was given. */
async function sqlOf(sql: string | undefined, o: QueryCommandOptions, io: CliIO): Promise<string> {
  if (sql !== undefined && o.file !== undefined) {
    throw new TarnError('USAGE', 'give the SQL either as an argument or with -f FILE, not both')
  }
  let text: string | undefined = sql
  if (o.file === '-') text = io.readStdin ? await io.readStdin() : ''
  else if (o.file !== undefined) {
    const path = resolve(io.cwd, o.file)
    try {
      text = await readFile(path, 'utf8')
    } catch (e) {
      throw readFailure(o.file, path, e)
    }
  } else if (sql === undefined && io.stdinIsTTY === false && io.readStdin) text = await io.readStdin()
  if (text === undefined || text.trim() === '')
    throw new TarnError('USAGE', 'no SQL given: tarn query "<sql>", -f FILE, or SQL on stdin')
  return text
}

/**
 * Registers `tarn query "<sql>" [-r REF] [-f FILE|-] [--max-rows N] [--all-rows] [--format table|json|csv] [--explain]
 * [-o FILE [--format parquet|csv|jsonl] [--force]] [--json]`: read-only DuckDB SQL over the tables visible at any branch, tag, commit or time, printed as a schema +
 * rows table (10 rows by default), CSV or JSON, streamed without holding the result in memory; `--explain` prints
 * the scan plan (tables, snapshots, files kept of total, bytes to read) without running the query; `--output` writes
 * the whole result to a file through DuckDB's `COPY`.
 */
export function registerQueryCommands(program: Command, ctx: CliContext): void {
  program
    .command('query')
    .description('run read-only SQL over the tables at a ref (branch, tag, commit or time)')
    .argument('[sql]', 'the SQL (or -f FILE, or SQL piped on stdin)')
    .option(
      '-r, --ref <ref>',
      'branch, tag, branch@hash, @hash, branch~N or branch*<time> (default: active branch)',
    )
    .option('-f, --file <file>', 'read the SQL from a file (- for stdin)')
    .option('--max-rows <n>', 'rows to print (default 10 for the table format, all for json/csv)')
    .option('--all-rows', 'print every row')
    .option(
      '--format <format>',
      'table, json or csv (printing; default table); parquet, csv or jsonl with --output (default: from its extension)',
    )
    .option(
      '-o, --output <file>',
      'write the whole result to a Parquet, CSV or JSON-lines file through DuckDB',
    )
    .option('--force', 'with --output: overwrite an existing file')
    .option('--explain', 'print the scan plan without running the query')
    .option('--json', 'print one JSON document')
    .action(async (sqlArg: string | undefined, o: QueryCommandOptions) => {
      const format = o.format ?? 'table'
      if (o.output === undefined && !FORMATS.has(format)) {
        throw new TarnError('USAGE', `--format must be table, json or csv, got ${format}`, { format })
      }
      if (o.output === undefined && o.force) throw new TarnError('USAGE', '--force goes with --output FILE')
      const maxRows = parseMaxRows(o.maxRows)
      const sql = await sqlOf(sqlArg, o, ctx.io)
      const lake = await ctx.lake()
      const ref = o.ref ?? lake.activeBranch()
      // The lake opens its query engine on the first of these calls; `lake.close()` (after the command) closes it.
      if (o.explain) {
        const plan = await lake.explain(sql, { ref })
        emit(ctx.io, o, { plan: planJson(plan) }, () => explainText(plan))
        return
      }
      if (o.output !== undefined) {
        const r = await lake.exportQuery(sql, {
          ref,
          output: o.output,
          cwd: ctx.io.cwd,
          ...(o.format !== undefined ? { format: o.format } : {}),
          ...(o.force ? { force: true } : {}),
        })
        emit(ctx.io, o, exportJson(r), () => exportText(r))
        return
      }
      await lake.trackJob(
        { kind: 'query', target: ref, sql },
        async () => {
          const limit = o.allRows ? undefined : (maxRows ?? (format === 'table' && !o.json ? 10 : undefined))
          const printed = await lake.printQuery(
            sql,
            {
              ref,
              format: o.json ? 'document' : (format as 'table' | 'json' | 'csv'),
              ...(limit !== undefined ? { limit } : {}),
            },
            ctx.io,
          )
          return printed.commit
        },
        (commit) => ({ dataCommit: commit }),
      )
    })
}
