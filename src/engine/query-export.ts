import { link, rename, rm, stat } from 'node:fs/promises'
import { openDuckDB, type SandboxOptions } from '../duckdb/open-duckdb.js'
import { sqlString } from '../duckdb/sql-quote.js'
import { TarnError } from '../util/errors.js'
import { duckdbQueryError } from './duckdb-error.js'
import { copyOptions, type ExportFormat, type ExportTarget } from './export-target.js'
import { hiddenNamesOf, type PreparedQuery } from './prepared-query.js'
import type { QueryPlan } from './query-plan.js'
import { type ViewCatalogs, viewsOf } from './view-catalogs.js'

/**
 * Options of {@link QueryEngine.export}.
 */
export interface ExportOptions {
  /** The ref to read (default `main`). */
  readonly ref?: string
  /** The file to write; relative paths resolve against `cwd`. */
  readonly output: string
  /** `parquet`, `csv` or `jsonl` (default: from the output's extension). */
  readonly format?: string
  /** Overwrite an existing file. */
  readonly force?: boolean
  /** Directory relative outputs resolve against (default: the process's). */
  readonly cwd?: string
}

/**
 * What an export wrote: the plan it ran with, the absolute output path, its format, rows and bytes. Plain data.
 */
export interface ExportResult {
  readonly plan: QueryPlan
  readonly output: string
  readonly format: ExportFormat
  readonly rows: number
  readonly bytes: number
}

/** The SQL of one statement without trailing semicolons or a trailing line comment, to nest inside `COPY (...)`. */
function queryBody(sql: string): string {
  let body = sql
  for (;;) {
    const trimmed = body.replace(/[\s;]+$/, '')
    const lastLine = trimmed.slice(trimmed.lastIndexOf('\n') + 1)
    const next = lastLine.trimStart().startsWith('--')
      ? trimmed.slice(0, trimmed.lastIndexOf('\n') + 1)
      : trimmed
    if (next === body) return body
    body = next
  }
}

/** Moves a finished export into place: atomically refusing an existing file, or replacing it when forced. */
async function placeOutput(temporary: string, output: string, force: boolean): Promise<void> {
  if (force) {
    await rename(temporary, output)
    return
  }
  try {
    await link(temporary, output)
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code
    if (errno === 'EEXIST') {
      throw new TarnError('FILE_EXISTS', `${output} already exists; use --force to overwrite it`, { output })
    }
    await rename(temporary, output)
  }
}

/**
 * Writes the whole result of a prepared query (its files already fetched) to `target` through DuckDB's own `COPY`,
 * in a sandbox of its own whose only writable path is the target's temporary sibling, renamed into place once the
 * whole result is written (a failed export leaves nothing behind and an overwritten file intact).
 */
export async function writeExport(
  sql: string,
  prepared: PreparedQuery,
  target: ExportTarget,
  deps: { readonly sandbox: SandboxOptions; readonly views: ViewCatalogs },
): Promise<ExportResult> {
  const sandbox = await openDuckDB({ ...deps.sandbox, writablePaths: [target.temporary] })
  const writer = await sandbox.connect()
  try {
    await deps.views.create(writer, 'tarn_v0', prepared.scans.flatMap(viewsOf))
    await writer.run('USE tarn_v0')
    const hidden = await hiddenNamesOf(prepared.scans)
    let rows: number
    try {
      const r = await writer.runAndReadAll(
        `COPY (\n${queryBody(sql)}\n) TO ${sqlString(target.temporary)} ${copyOptions(target.format)}`,
      )
      rows = Number(r.getRows()[0]?.[0] ?? 0)
    } catch (e) {
      throw duckdbQueryError(e, sql, hidden)
    }
    await placeOutput(target.temporary, target.output, target.force)
    const bytes = (await stat(target.output)).size
    return { plan: prepared.plan, output: target.output, format: target.format, rows, bytes }
  } finally {
    writer.closeSync()
    sandbox.closeSync()
    await rm(target.temporary, { force: true }).catch(() => undefined)
  }
}
