import { beforeAll, describe, expect, it } from 'vitest'
import { Lake } from '../../src/lake/lake.js'
import { fixedClock } from '../../src/util/clock.js'
import { ensureBuilt } from '../helpers/build.js'
import { writeProject } from './helpers.js'
import { tarnCli, zonesLake } from './lake-cli.js'

const DAY = 86_400_000

describe('cleaning up sealed run branches, and the reserved run/ prefix', () => {
  let home: string
  let failed: string[]
  beforeAll(async () => {
    ensureBuilt()
    home = await zonesLake()
    const dir = writeProject({
      'tarn_project.yml': 'name: t\n',
      'boom.sql': '-- tarn: materialize=REPLACE\nSELECT CAST(zone_name AS INTEGER) AS n FROM zones\n',
    })
    failed = []
    for (let i = 0; i < 2; i++) {
      const r = await tarnCli(home, 'run', '-p', dir, '--json')
      expect(r.exit).toBe(5)
      failed.push(String(JSON.parse(r.stdout).error.context.runBranch))
    }
  })

  it('branch rm --sealed --dry-run lists the failed runs’ branches and deletes nothing; --older-than keeps young ones', async () => {
    const dry = await tarnCli(home, 'branch', 'rm', '--sealed', '--dry-run', '--json')
    expect(dry.exit).toBe(0)
    const doc = JSON.parse(dry.stdout) as { dryRun: boolean; deleted: { name: string; sealed: boolean }[] }
    expect(doc.dryRun).toBe(true)
    expect(doc.deleted.map((b) => b.name).sort()).toEqual([...failed].sort())
    const young = JSON.parse(
      (await tarnCli(home, 'branch', 'rm', '--sealed', '--older-than', '7d', '--json')).stdout,
    )
    expect(young.deleted).toEqual([])
    expect(young.kept).toBe(2)
    const text = await tarnCli(home, 'branch', 'rm', '--sealed', '--dry-run')
    expect(text.stdout).toContain('Would delete 2 sealed branches')
    const ls = JSON.parse((await tarnCli(home, 'branch', 'ls', '--json')).stdout) as {
      branches: { name: string }[]
    }
    expect(ls.branches.map((b) => b.name).sort()).toEqual(['main', ...failed].sort())
  })

  it('the SDK deletes sealed branches older than the window, by the lake clock, and never main', async () => {
    const lake = await Lake.open({ home, clock: fixedClock(Date.now() + 8 * DAY) })
    try {
      const r = await lake.deleteSealedBranches({ olderThanMs: 7 * DAY })
      expect(r.deleted.map((b) => b.name).sort()).toEqual([...failed].sort())
      expect((await lake.listBranches()).map((b) => b.name)).toEqual(['main'])
      expect((await lake.deleteSealedBranches()).deleted).toEqual([])
    } finally {
      await lake.close()
    }
  })

  it('users cannot create, rename to or check out -b a branch under run/ (RESERVED_BRANCH_NAME, exit 2)', async () => {
    for (const args of [
      ['branch', 'create', 'run/mine'],
      ['checkout', '-b', 'run/job-000000000000'],
      ['branch', 'rename', 'main', 'run/main'],
    ]) {
      const r = await tarnCli(home, ...args, '--json')
      expect(r.exit).toBe(2)
      expect(JSON.parse(r.stdout).error.code).toBe('RESERVED_BRANCH_NAME')
      expect(r.stderr).toContain('reserved for pipeline runs')
    }
    const ok = await tarnCli(home, 'branch', 'create', 'runs/mine', '--json')
    expect(ok.exit).toBe(0)
    const ls = JSON.parse((await tarnCli(home, 'branch', 'ls', '--json')).stdout) as {
      branches: { name: string }[]
    }
    expect(ls.branches.map((b) => b.name).sort()).toEqual(['main', 'runs/mine'])
  })
})
