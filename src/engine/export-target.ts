import { lstat, stat } from 'node:fs/promises'
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path'
import { TarnError } from '../util/errors.js'

/**
 * File formats a query result can be exported to: Parquet, CSV (with a header) or JSON lines.
 */
export type ExportFormat = 'parquet' | 'csv' | 'jsonl'

const BY_EXTENSION: Readonly<Record<string, ExportFormat>> = {
  '.parquet': 'parquet',
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
}

/**
 * Where and how an export writes: the absolute output path, its format, and the temporary sibling DuckDB writes
 * first (renamed into place only when the whole result was written). Plain data.
 */
export interface ExportTarget {
  readonly output: string
  readonly format: ExportFormat
  readonly temporary: string
  readonly force: boolean
}

let sequence = 0

/**
 * The format of an export: the one asked for, else the output's extension (`.parquet`, `.csv`, `.jsonl`, `.ndjson`).
 */
export function exportFormat(output: string, format?: string): ExportFormat {
  if (format !== undefined) {
    const f =
      format.toLowerCase() === 'json' || format.toLowerCase() === 'ndjson' ? 'jsonl' : format.toLowerCase()
    if (f === 'parquet' || f === 'csv' || f === 'jsonl') return f
    throw new TarnError('USAGE', `export format must be parquet, csv or jsonl, got ${format}`, { format })
  }
  const byExt = BY_EXTENSION[extname(output).toLowerCase()]
  if (!byExt) {
    throw new TarnError(
      'USAGE',
      `cannot tell the format of ${basename(output)} from its extension: use .parquet, .csv or .jsonl, or --format`,
      { output },
    )
  }
  return byExt
}

function inside(dir: string, path: string): boolean {
  const r = relative(dir, path)
  return r === '' || (!r.startsWith('..') && !isAbsolute(r))
}

/**
 * Checks an export's output path and plans its temporary sibling: the directory must exist, the path must not be
 * a directory, nor lie inside a directory tarn owns (`forbidden`: the warehouse, the cache), nor exist unless
 * `force` (then `FILE_EXISTS`).
 */
export async function exportTarget(
  output: string,
  options: { cwd?: string; format?: string; force?: boolean; forbidden?: readonly string[] } = {},
): Promise<ExportTarget> {
  if (output.trim() === '') throw new TarnError('USAGE', 'the output path is empty')
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(output)) {
    throw new TarnError('USAGE', `exports write local files; ${output} is a URI`, { output })
  }
  if (output.includes('\0')) throw new TarnError('USAGE', 'the output path holds a NUL character')
  const path = resolve(options.cwd ?? process.cwd(), output)
  const format = exportFormat(path, options.format)
  for (const dir of options.forbidden ?? []) {
    if (inside(resolve(dir), path)) {
      throw new TarnError('USAGE', `refusing to write ${output} inside the lake's own directory ${dir}`, {
        output: path,
      })
    }
  }
  const parent = dirname(path)
  const dirStat = await stat(parent).catch(() => undefined)
  if (!dirStat?.isDirectory()) {
    throw new TarnError('USAGE', `the directory of ${output} does not exist`, {
      output: path,
      directory: parent,
    })
  }
  const existing = await lstat(path).catch(() => undefined)
  if (existing?.isDirectory()) throw new TarnError('USAGE', `${output} is a directory`, { output: path })
  if (existing && !options.force) {
    throw new TarnError('FILE_EXISTS', `${output} already exists; use --force to overwrite it`, {
      output: path,
    })
  }
  const temporary = join(parent, `.${basename(path)}.${process.pid}-${++sequence}.tarn-export`)
  return { output: path, format, temporary, force: options.force === true }
}

/**
 * The DuckDB `COPY` options of a format.
 */
export function copyOptions(format: ExportFormat): string {
  switch (format) {
    case 'parquet':
      return '(FORMAT parquet)'
    case 'csv':
      return '(FORMAT csv, HEADER true)'
    default:
      return '(FORMAT json)'
  }
}
