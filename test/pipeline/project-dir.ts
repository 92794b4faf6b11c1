import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { PlanLakeState } from '../../src/pipeline/index.js'

/** Writes a project's files (path → text) into a fresh temporary directory and returns it. */
export function writeProject(files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-pipeline-'))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}

/** The example project of the repository. */
export const TAXI = join(import.meta.dirname, '..', '..', 'examples', 'taxi')

/** The lake the taxi example reads: `trips` (partitioned by day) and `zones`. */
export const TAXI_LAKE: PlanLakeState = {
  tables: {
    'tarn.trips': {
      columns: [
        'trip_id',
        'pickup_ts',
        'dropoff_ts',
        'pickup_zone',
        'dropoff_zone',
        'passengers',
        'distance_km',
        'fare',
        'tip',
        'payment_type',
      ],
      partitionColumns: ['pickup_ts'],
    },
    'tarn.zones': { columns: ['zone_id', 'zone_name', 'borough'], partitionColumns: [] },
  },
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(
  p: Promise<unknown>,
): Promise<Error & { code: string; context: Record<string, unknown> }> {
  try {
    await p
  } catch (e) {
    return e as Error & { code: string; context: Record<string, unknown> }
  }
  throw new Error('expected a rejection')
}

/** The error a function throws (fails the test when it returns). */
export function thrown(fn: () => unknown): Error & { code: string; context: Record<string, unknown> } {
  try {
    fn()
  } catch (e) {
    return e as Error & { code: string; context: Record<string, unknown> }
  }
  throw new Error('expected a throw')
}

export const PROJECT_YML = `name: test
parameters:
  min_fare:
    type: number
    default: 0
`
