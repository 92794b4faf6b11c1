import { open } from 'node:fs/promises'
import { TarnError } from '../util/errors.js'

const DELIMITERS = [',', ';', '\t', '|'] as const
const SAMPLE_BYTES = 1 << 20

/**
 * Refuses a CSV file that DuckDB could read only as one text column although its header holds several fields: that
 * happens when rows disagree on the number of fields, and importing it would silently turn every row into one string.
 * Fails with `INVALID_FILE` naming the file, the delimiter and the first line whose field count differs.
 */
export async function checkCsvShape(
  file: { readonly source: string; readonly localPath: string },
  columns: readonly string[],
): Promise<void> {
  const only = columns.length === 1 ? columns[0] : undefined
  if (only === undefined || /\.(gz|zst)$/i.test(file.localPath)) return
  const delimiter = DELIMITERS.find((d) => only.includes(d))
  if (delimiter === undefined) return
  const lines = (await head(file.localPath)).split(/\r?\n/)
  const header = lines[0] ?? ''
  // A quoted header names one column that happens to contain the delimiter: a legitimate one-column file.
  if (header.trimStart().startsWith('"')) return
  const expected = fieldCount(header, delimiter)
  if (expected < 2) return
  const at = lines.findIndex((l, i) => i > 0 && l !== '' && fieldCount(l, delimiter) !== expected)
  const where =
    at > 0 ? `line ${at + 1} has ${fieldCount(lines[at] ?? '', delimiter)}` : 'its rows do not all match it'
  throw new TarnError(
    'INVALID_FILE',
    `cannot read ${file.source} as CSV: the header has ${expected} fields separated by ${JSON.stringify(delimiter)} but ${where}; fix the file (nothing was imported)`,
    { file: file.source, ...(at > 0 ? { line: at + 1 } : {}) },
  )
}

async function head(path: string): Promise<string> {
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(SAMPLE_BYTES)
    const { bytesRead } = await handle.read(buffer, 0, SAMPLE_BYTES, 0)
    return buffer.subarray(0, bytesRead).toString('utf8')
  } finally {
    await handle.close()
  }
}

/** Fields of one CSV line, counting delimiters outside double quotes. */
function fieldCount(line: string, delimiter: string): number {
  let count = 1
  let quoted = false
  for (const ch of line) {
    if (ch === '"') quoted = !quoted
    else if (ch === delimiter && !quoted) count++
  }
  return count
}
