import { Command } from 'commander'
import { beforeAll, describe, expect, it } from 'vitest'
import { registerBranchCommands } from '../../src/cli/commands/branch.js'
import { registerJobCommands } from '../../src/cli/commands/job.js'
import { registerRunCommands } from '../../src/cli/commands/run.js'
import { createContext } from '../../src/cli/context.js'
import { memoryIO } from '../../src/cli/io.js'
import { exitCodeFor, isTarnError } from '../../src/util/errors.js'
import { ensureBuilt } from '../helpers/build.js'
import { uvAvailable } from '../helpers/uv.js'
import { TAXI, taxiData, taxiLake, writeProject } from './helpers.js'

async function tarn(
  home: string,
  ...args: string[]
): Promise<{ stdout: string; stderr: string; exit: number; error?: Error & { code: string } }> {
  const io = memoryIO({ TARN_HOME: home, TARN_USER: 'tester' }, TAXI)
  const ctx = createContext(io)
  const program = new Command('tarn').exitOverride()
  registerRunCommands(program, ctx)
  registerJobCommands(program, ctx)
  registerBranchCommands(program, ctx)
  try {
    await program.parseAsync(args, { from: 'user' })
    return { stdout: io.stdout(), stderr: io.stderr(), exit: 0 }
  } catch (e) {
    const error = e as Error & { code: string }
    return { stdout: io.stdout(), stderr: io.stderr(), exit: isTarnError(e) ? exitCodeFor(e.code) : 1, error }
  } finally {
    await ctx.close()
  }
}

/** The taxi example has a Python model: its runs need uv. */
const withUv = uvAvailable('runs of the taxi example (it has a Python model)')

describe('tarn run, tarn job and tarn rerun', () => {
  let home: string
  beforeAll(async () => {
    ensureBuilt()
    const { lake, home: h } = await taxiLake(taxiData(2000))
    await lake.close()
    home = h
  })

  it('--dry-run still writes nothing: no commit, no table, no job', async () => {
    const r = await tarn(home, 'run', '--dry-run')
    expect(r.error).toBeUndefined()
    const jobs = await tarn(home, 'job', 'ls', '--json')
    expect(JSON.parse(jobs.stdout)).toEqual([])
    const { Lake } = await import('../../src/lake/lake.js')
    const lake = await Lake.open({ home })
    expect((await lake.log('main')).length).toBe(3)
    expect((await lake.listBranches()).map((b) => b.name)).toEqual(['main'])
    await lake.close()
  })

  it.runIf(withUv)(
    'tarn run shows the DAG, then one line per node state change (running, done with rows and time), the Python environment build on stderr, and a summary',
    async () => {
      const r = await tarn(home, 'run', '--param', 'min_fare=3')
      expect(r.error).toBeUndefined()
      expect(r.stdout).toMatch(
        /^job job-[0-9a-f]{12}: project taxi on main \(run branch run\/job-[0-9a-f]{12}\)\n/,
      )
      expect(r.stdout).toContain('tarn.trips [lake table]')
      expect(r.stdout).not.toContain('waiting')
      expect(r.stdout).toContain('16 nodes to run\n')
      expect(r.stdout.match(/model:zone_stats/g)?.length).toBe(2)
      expect(r.stdout).toContain('  running  model:zone_stats\n')
      expect(r.stdout).toMatch(/ {2}done {5}model:zone_stats {2}10 rows in \d/)
      expect(r.stdout).toMatch(/ {2}done {5}expectation:every_zone_has_a_name {2}in \d/)
      expect(r.stdout).toMatch(/run succeeded: job job-[0-9a-f]{12} of project taxi on main in /)
      expect(r.stdout).toContain('  table   tarn.zone_stats: 10 row(s)')
      expect(r.stdout).toContain('  table   tarn.borough_summary: 5 row(s)')
      // the lake's cache is new, so the first Python model builds its environment; the run says so on stderr, before
      // the model is done
      expect(r.stderr).toContain('  [fare_bands] building Python 3 environment: pyarrow>=14\n')
      expect(r.stderr).toContain('  [fare_bands] Python environment ready (1 requirement)\n')
      expect(r.stdout).toMatch(/ {2}done {5}model:fare_bands {2}10 rows in \d/)
    },
  )

  it.runIf(withUv)(
    '--json emits the summary document only; job ls, get and logs read it back; rerun re-executes it',
    async () => {
      const r = await tarn(home, 'run', '--json')
      const doc = JSON.parse(r.stdout) as {
        job: string
        status: string
        summary: { tables: Record<string, number> }
      }
      expect(doc.status).toBe('succeeded')
      expect(doc.summary.tables['tarn.zone_stats']).toBe(10)
      const ls = JSON.parse((await tarn(home, 'job', 'ls', '--json')).stdout) as { id: string }[]
      expect(ls.map((j) => j.id)).toContain(doc.job)
      const get = JSON.parse((await tarn(home, 'job', 'get', doc.job, '--json')).stdout) as {
        nodes: { id: string; status: string; startedAt: number; finishedAt: number }[]
        codeHash: string
      }
      expect(get.nodes.every((n) => n.status === 'done' && n.finishedAt >= n.startedAt)).toBe(true)
      expect(get.codeHash).toMatch(/^[0-9a-f]{64}$/)
      const text = (await tarn(home, 'job', 'get', doc.job)).stdout
      expect(text).toContain(`run succeeded: job ${doc.job}`)
      const logs = await tarn(home, 'job', 'logs', doc.job)
      expect(logs.stdout).toMatch(/\[zones_enriched zones_enriched\.ts:24\] \d+ trips of at least 2\.5/)
      const again = await tarn(home, 'rerun', doc.job, '--json')
      const redo = JSON.parse(again.stdout) as {
        status: string
        summary: { rerunOf: string; tables: Record<string, number> }
      }
      expect(redo.status).toBe('succeeded')
      expect(redo.summary.rerunOf).toBe(doc.job)
      expect(redo.summary.tables).toEqual(doc.summary.tables)
      const missing = await tarn(home, 'job', 'get', 'job-000000000000')
      expect(missing.exit).toBe(3)
      expect(missing.error?.code).toBe('JOB_NOT_FOUND')
    },
  )

  it.runIf(withUv)('a failed expectation exits 5 and names the job and its sealed run branch', async () => {
    const dir = writeProject(
      {
        'checks.ts': [
          "import { expectation, input } from 'tarn'",
          'export const never = expectation(',
          "  { inputs: { z: input('zone_stats') } },",
          '  async () => false,',
          ')',
          '',
        ].join('\n'),
      },
      { taxi: true },
    )
    const r = await tarn(home, 'run', '-p', dir)
    expect(r.error?.code).toBe('EXPECTATION_FAILED')
    expect(r.exit).toBe(5)
    expect(r.error?.message).toMatch(/run job-[0-9a-f]{12} failed: expectation never failed at checks\.ts:2/)
    expect(r.error?.message).toContain('is sealed; main is untouched')
    expect(r.stdout).toMatch(/ {2}failed {3}expectation:never {2}expectation never failed/)
    const runBranch = String((r.error as unknown as { context: { runBranch: string } }).context.runBranch)
    const kept = await tarn(home, 'branch', 'rm', runBranch)
    expect(kept.error?.code).toBe('BRANCH_PROTECTED')
    expect(kept.exit).toBe(4)
    const gone = await tarn(home, 'branch', 'rm', runBranch, '--force', '--json')
    expect(JSON.parse(gone.stdout).deleted.name).toBe(runBranch)
  })

  it.runIf(withUv)(
    '--json puts the build of a new Python environment on stderr as progress events; stdout holds the summary only',
    async () => {
      const dir = writeProject({
        'tarn_project.yml': 'name: t\nnamespace: tarn\n',
        // a pin no other test asks for: a new environment (uv installs it from its own cache after the first time)
        'names.py': [
          'import tarn',
          '',
          '',
          '@tarn.model(materialize="REPLACE")',
          '@tarn.python(pip={"pyarrow": ">=13"})',
          'def zone_names(zones=tarn.Model("zones", columns=["zone_name"])):',
          '    return zones',
          '',
        ].join('\n'),
      })
      const r = await tarn(home, 'run', '-p', dir, '--json')
      expect(r.error).toBeUndefined()
      expect(JSON.parse(r.stdout).summary.tables).toEqual({ 'tarn.zone_names': 10 })
      const events = r.stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { event: string; line?: string })
      expect(events.filter((e) => e.event === 'progress').map((e) => e.line)).toEqual([
        '[zone_names] building Python 3 environment: pyarrow>=13',
        '[zone_names] Python environment ready (1 requirement)',
      ])
      // found in the cache the second time: nothing to report
      const again = await tarn(home, 'run', '-p', dir, '--json')
      expect(again.stderr).not.toContain('"event":"progress"')
    },
  )

  it('--strict fails a real run on a planning warning with its code, and leaves main untouched', async () => {
    const dir = writeProject({
      'tarn_project.yml':
        'name: t\nnamespace: tarn\nparameters:\n  unused:\n    type: number\n    default: 1\n',
      'm.sql': '-- tarn: materialize=REPLACE\nSELECT * FROM zones\n',
    })
    const { Lake } = await import('../../src/lake/lake.js')
    const lake = await Lake.open({ home })
    const before = (await lake.getBranch('main')).head
    const r = await tarn(home, 'run', '--strict', '-p', dir)
    expect(r.error?.code).toBe('UNUSED_PARAMETER')
    expect(r.error?.message).toContain('(--strict)')
    expect((await lake.getBranch('main')).head).toBe(before)
    const ok = await tarn(home, 'run', '-p', dir)
    expect(ok.error).toBeUndefined()
    expect(ok.stderr).toContain('warning: tarn_project.yml:4: parameter unused is read by no model')
    await lake.close()
  })
})
