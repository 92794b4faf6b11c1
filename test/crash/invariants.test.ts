import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Lake } from '../../src/lake/lake.js'
import { type Acks, checkInvariants, refsOf } from './simulation.js'

describe('crash simulation invariants', () => {
  it('fire on a head moved without cause, a lost acknowledged commit, a visible failed run and a missing data file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-crash-inv-'))
    try {
      const home = join(dir, 'lake')
      writeFileSync(join(dir, 'a.csv'), 'id,v\n1,10\n2,20\n')
      const lake = await Lake.init({ home, env: {}, author: 'tester' })
      await lake.createTable('t', { from: join(dir, 'a.csv') })
      await lake.createBranch('dev', { from: 'main' })
      const before = await refsOf(lake)
      const lost = await lake.createNamespace('lost', { branch: 'dev' })
      await lake.createNamespace('visible', { branch: 'main' })
      await lake.deleteBranch('dev')
      await lake.close()
      const reopened = await Lake.open({ home, env: {}, author: 'tester' })
      await reopened.createBranch('dev', { from: `@${before.get('dev')?.head}` })
      await reopened.close()
      const data = readdirSync(join(home, 'warehouse'), { recursive: true, withFileTypes: true }).find((e) =>
        e.name.endsWith('.parquet'),
      )
      if (data) rmSync(join(data.parentPath, data.name))
      const acks: Acks = {
        commits: [{ branch: 'dev', hash: lost.hash }],
        run: { target: 'main', status: 'failed' },
      }
      const { violations } = await checkInvariants(home, { moves: ['dev'] }, before, acks, undefined)
      const text = violations.join('\n')
      expect(text).toMatch(/ref main moved/)
      expect(text).toMatch(/acknowledged commit .* is not in the history of dev/)
      expect(text).toMatch(/failed run moved main/)
      expect(text).toMatch(/data file .*\.parquet .* is missing/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
