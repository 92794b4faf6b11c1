import { link, rename, rm, stat } from 'node:fs/promises'
import { exportTarget } from '../engine/export-target.js'
import type { ExportOptions, ExportResult, QueryPlan } from '../engine/index.js'
import { TarnError } from '../util/errors.js'
import type { HttpTransport } from './http-transport.js'

/** Moves a downloaded export into place: refusing an existing file atomically, or replacing it when forced. */
async function placeDownload(temporary: string, output: string, force: boolean): Promise<void> {
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
    throw e
  }
}

/**
 * Has the server write a query's result as a Parquet, CSV or JSON-lines file and downloads it to the local
 * `options.output` (through a temporary file, so a failed download leaves nothing behind).
 */
export async function downloadExport(
  http: HttpTransport,
  sql: string,
  ref: string,
  options: ExportOptions,
): Promise<ExportResult> {
  const target = await exportTarget(options.output, {
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.format !== undefined ? { format: options.format } : {}),
    ...(options.force !== undefined ? { force: options.force } : {}),
    forbidden: [],
  })
  const body = { sql, ref, format: target.format }
  let res: Response
  try {
    res = await http.download('POST', '/export', { body }, target.temporary)
    await placeDownload(target.temporary, target.output, target.force)
  } finally {
    await rm(target.temporary, { force: true })
  }
  const meta = JSON.parse(decodeURIComponent(res.headers.get('x-tarn-export') ?? '%7B%7D')) as {
    plan: QueryPlan
    rows: number
  }
  const bytes = (await stat(target.output)).size
  return { plan: meta.plan, output: target.output, format: target.format, rows: meta.rows, bytes }
}
