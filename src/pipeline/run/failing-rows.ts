import { readFile } from 'node:fs/promises'
import { tableFromIPC } from 'apache-arrow'

/** Rows of a failed expectation shown in its error (and kept in the job record). */
export const FAILING_SAMPLE_ROWS = 5

/**
 * A sample of the failing rows an expectation returned: the column names and the first rows as JSON-safe objects
 * (64-bit integers as strings when they exceed 2^53, dates as ISO text). Plain data.
 */
export interface FailingRows {
  readonly columns: readonly string[]
  readonly sample: readonly Record<string, unknown>[]
}

function jsonSafe(v: unknown): unknown {
  if (typeof v === 'bigint')
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v.toString()
  if (v instanceof Date) return v.toISOString()
  if (v === undefined) return null
  if (v !== null && typeof v === 'object' && 'toJSON' in v && typeof v.toJSON === 'function')
    return jsonSafe(v.toJSON())
  if (Array.isArray(v)) return v.map(jsonSafe)
  if (v !== null && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]))
  return v
}

/**
 * Reads the failing rows an expectation's worker wrote (an Arrow IPC file) and returns their columns and first
 * {@link FAILING_SAMPLE_ROWS} rows.
 */
export async function failingRowsSample(path: string): Promise<FailingRows | null> {
  const bytes = await readFile(path).catch(() => null)
  if (!bytes) return null
  const table = tableFromIPC(bytes)
  const columns = table.schema.fields.map((f) => f.name)
  const sample: Record<string, unknown>[] = []
  for (let i = 0; i < Math.min(FAILING_SAMPLE_ROWS, table.numRows); i++) {
    const row = table.get(i)
    const out: Record<string, unknown> = {}
    for (const c of columns) out[c] = jsonSafe(row?.[c])
    sample.push(out)
  }
  return { columns, sample }
}
