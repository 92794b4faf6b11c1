import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Lake } from '../../src/lake/lake.js'

/** The example project of the repository. */
export const TAXI = join(import.meta.dirname, '..', '..', 'examples', 'taxi')

/** Generates the taxi data (small) once per directory and returns its folder. */
export function taxiData(trips = 2000): string {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-run-data-'))
  const gen = spawnSync(process.execPath, [join(TAXI, 'generate.mjs'), dir, '--trips', String(trips)], {
    encoding: 'utf8',
  })
  if (gen.status !== 0) throw new Error(gen.stderr)
  return dir
}

/** A fresh lake with the taxi tables `trips` (partitioned by day) and `zones` on main. */
export async function taxiLake(data: string): Promise<{ lake: Lake; home: string }> {
  const home = join(mkdtempSync(join(tmpdir(), 'tarn-run-')), 'lake')
  const lake = await Lake.init({ home, author: 'tester' })
  await lake.createTable('trips', { from: join(data, 'trips.parquet'), partitionedBy: 'day(pickup_ts)' })
  await lake.createTable('zones', { from: join(data, 'zones.csv') })
  return { lake, home }
}

/** Writes a project (path → text) into a fresh directory; `taxi: true` starts from a copy of the example. */
export function writeProject(
  files: Readonly<Record<string, string>>,
  options: { taxi?: boolean } = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-project-'))
  if (options.taxi) cpSync(TAXI, dir, { recursive: true, filter: (p) => !p.includes(`${TAXI}/data`) })
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}

/** Rows of a query on a ref, sorted by their JSON, for row-for-row comparisons. */
export async function sortedRows(lake: Lake, table: string, ref: string): Promise<string[]> {
  const { loaded } = await lake.loadTable(table, { ref })
  const { readTable } = await import('../../src/iceberg/index.js')
  const rows = await readTable(loaded)
  return rows.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).sort()
}
