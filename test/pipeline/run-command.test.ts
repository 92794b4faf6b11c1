import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerRunCommands } from '../../src/cli/commands/run.js'
import { createContext } from '../../src/cli/context.js'
import { memoryIO } from '../../src/cli/io.js'
import { Lake } from '../../src/lake/lake.js'
import { PROJECT_YML, rejection, TAXI, writeProject } from './project-dir.js'

async function run(
  home: string,
  ...args: string[]
): Promise<{
  stdout: string
  stderr: string
  error?: Error & { code: string; context: Record<string, unknown> }
}> {
  const io = memoryIO({ TARN_HOME: home, TARN_USER: 'tester' }, TAXI)
  const ctx = createContext(io)
  const program = new Command('tarn').exitOverride()
  registerRunCommands(program, ctx)
  try {
    await program.parseAsync(args, { from: 'user' })
    return { stdout: io.stdout(), stderr: io.stderr() }
  } catch (e) {
    return {
      stdout: io.stdout(),
      stderr: io.stderr(),
      error: e as Error & { code: string; context: Record<string, unknown> },
    }
  } finally {
    await ctx.close()
  }
}

describe('tarn run --dry-run', () => {
  let home: string
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-run-'))
    home = join(dir, 'lake')
    const gen = spawnSync(
      process.execPath,
      [join(TAXI, 'generate.mjs'), join(dir, 'data'), '--trips', '300'],
      {
        encoding: 'utf8',
      },
    )
    expect(gen.status, gen.stderr).toBe(0)
    const lake = await Lake.init({ home, author: 'tester' })
    await lake.createTable('trips', {
      from: join(dir, 'data', 'trips.parquet'),
      partitionedBy: 'day(pickup_ts)',
    })
    await lake.createTable('zones', { from: join(dir, 'data', 'zones.csv') })
    await lake.close()
  })
  afterAll(() => undefined)

  it('prints the ASCII DAG, the merged scans and the levels of the example, read against the lake', async () => {
    const r = await run(home, 'run', '--dry-run', '--param', 'min_fare=4')
    expect(r.error).toBeUndefined()
    expect(r.stdout).toContain('plan of project taxi on main (dry run: nothing is materialised)')
    expect(r.stdout).toContain(
      'DAG\ntarn.trips [lake table]\n+-> trips_clean [sql model, REPLACE -> tarn.trips_clean',
    )
    expect(r.stdout).toContain('\\-> zones_enriched [ts model, REPLACE -> tarn.zones_enriched')
    expect(r.stdout).toContain('scan tarn.trips at main')
    // pruned from the lake's schema: trips_clean never names payment_type
    expect(r.stdout).toContain(
      '  columns  trip_id, pickup_ts, dropoff_ts, pickup_zone, dropoff_zone, passengers, distance_km, fare, tip\n',
    )
    expect(r.stdout).toContain('-> zones_enriched: pickup_zone, fare where fare >= 4')
    expect(r.stdout).toContain('level 0  scan tarn.trips | scan tarn.zones')
    expect(r.stdout).toContain('params: min_fare=4, run_date=2026-01-31')
  })

  it('materialises nothing: no commit, no table', async () => {
    const before = await Lake.open({ home })
    const head = (await before.log('main'))[0]?.hash
    await before.close()
    expect((await run(home, 'run', '--dry-run')).error).toBeUndefined()
    const after = await Lake.open({ home })
    try {
      expect((await after.log('main'))[0]?.hash).toBe(head)
      expect((await after.listTables()).map((t) => t.table).sort()).toEqual(['tarn.trips', 'tarn.zones'])
    } finally {
      await after.close()
    }
  })

  it('prints one JSON document with --json and narrows with --select', async () => {
    const r = await run(
      home,
      'run',
      '--dry-run',
      '-p',
      TAXI,
      '-r',
      'main',
      '--select',
      '+zone_stats',
      '--json',
    )
    expect(r.error).toBeUndefined()
    const doc = JSON.parse(r.stdout)
    expect(doc.dryRun).toBe(true)
    expect(doc.plan.ref).toBe('main')
    expect(doc.plan.selection).toEqual(['+zone_stats'])
    expect(doc.plan.nodes.map((n: { name: string }) => n.name).sort()).toEqual([
      'every_zone_has_a_name',
      'fares_are_positive',
      'trips_clean',
      'zone_stats',
    ])
    expect(doc.plan.levels[1]).toEqual(['model:trips_clean'])
    expect(doc.warnings).toEqual([])
  })

  it('validates against the lake: a table missing at the ref names the file and line', async () => {
    const dir = writeProject({ 'tarn_project.yml': PROJECT_YML, 'm.sql': 'SELECT *\nFROM weather' })
    const r = await run(home, 'run', '--dry-run', '-p', dir)
    expect(r.error?.code).toBe('TABLE_NOT_FOUND')
    expect(r.error?.message).toBe('m.sql:2: model m reads table tarn.weather, which does not exist at main')
  })

  it('warns about unused parameters and fails on them with --strict', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'm.sql': '-- tarn: materialize=REPLACE\nSELECT * FROM zones',
    })
    const r = await run(home, 'run', '--dry-run', '-p', dir)
    expect(r.error).toBeUndefined()
    expect(r.stderr).toContain('warning: tarn_project.yml:3: parameter min_fare is read by no model')
    const strict = await run(home, 'run', '--dry-run', '--strict', '-p', dir)
    expect(strict.error?.code).toBe('UNUSED_PARAMETER')
  })

  it('refuses a malformed --param before planning', async () => {
    const bad = await run(home, 'run', '--dry-run', '--param', 'nonsense')
    expect(bad.error?.code).toBe('USAGE')
    expect((await rejection(Promise.reject(bad.error))).message).toContain('--param expects name=value')
  })
})
