import { beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt } from '../helpers/build.js'
import { writeProject } from './helpers.js'
import { lakeFootprint, tarnCli, zonesLake } from './lake-cli.js'

interface ExpectationError {
  code: string
  message: string
  context: { failingRows?: number; sample?: Record<string, unknown>[]; columns?: string[]; file?: string }
}

/** A project whose model `named` has two zones without a name (ids 4 and 5) and a duplicated id 1. */
function project(check: string): string {
  return writeProject({
    'tarn_project.yml': 'name: t\n',
    'named.sql':
      "-- tarn: materialize=REPLACE\nSELECT zone_id, CASE WHEN zone_id < 4 THEN zone_name END AS zone_name FROM zones\nUNION ALL SELECT 1, 'Harbor'\n",
    'checks.ts': `import { expect, expectation, input } from 'tarn'\n\nexport const check = expectation(\n  { inputs: { z: input('named') } },\n  async ({ z }) => ${check},\n)\n`,
  })
}

describe('expectations that return failing rows', () => {
  let home: string
  beforeAll(async () => {
    ensureBuilt()
    home = await zonesLake()
  })

  async function failed(check: string): Promise<ExpectationError & { exit: number }> {
    const before = await lakeFootprint(home)
    const r = await tarnCli(home, 'run', '-p', project(check), '--json')
    const after = await lakeFootprint(home)
    expect(after.head).toBe(before.head)
    return { ...(JSON.parse(r.stdout).error as ExpectationError), exit: r.exit }
  }

  it('expect.noNulls fails the run with the count of failing rows and a sample of them', async () => {
    const e = await failed("expect.noNulls(z, 'zone_name')")
    expect(e.exit).toBe(5)
    expect(e.code).toBe('EXPECTATION_FAILED')
    expect(e.message).toContain('expectation check failed at checks.ts:3: 2 failing rows, e.g. ')
    expect(e.message).toContain('{"zone_id":4,"zone_name":null}')
    expect(e.context.failingRows).toBe(2)
    expect(e.context.columns).toEqual(['zone_id', 'zone_name'])
    expect(e.context.sample?.map((r) => r.zone_id).sort()).toEqual([4, 5])
  })

  it('expect.unique reports every row of a duplicated key', async () => {
    const e = await failed("expect.unique(z, 'zone_id')")
    expect(e.context.failingRows).toBe(2)
    expect(e.context.sample?.every((r) => r.zone_id === 1)).toBe(true)
  })

  it('failing rows as plain objects count too', async () => {
    const e = await failed('z.toArray().filter((r) => r.zone_name === null).map((r) => ({ id: r.zone_id }))')
    expect(e.message).toContain('2 failing rows, e.g. {"id":4}, {"id":5}')
  })

  it('no failing rows passes: an empty table from a helper, or an empty array', async () => {
    for (const check of [
      "expect.noNulls(z, 'zone_id')",
      'expect.rows(z, (r) => Number(r.zone_id) > 0)',
      '[]',
    ]) {
      const r = await tarnCli(home, 'run', '-p', project(check), '--json')
      expect(r.exit).toBe(0)
      expect(JSON.parse(r.stdout).status).toBe('succeeded')
    }
  })

  it('a plain false still fails without a row count', async () => {
    const e = await failed('false')
    expect(e.message).toMatch(/expectation check failed at checks\.ts:3 \(run branch/)
    expect(e.context.failingRows).toBeUndefined()
  })
})
