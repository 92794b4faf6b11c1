import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Lake } from '../../src/index.js'
import { codeOf } from '../helpers/errors.js'
import { writeProject } from '../run/helpers.js'

describe('a pipeline run on a protected branch', () => {
  it('lands through its merge while direct commits stay refused', async () => {
    const home = join(mkdtempSync(join(tmpdir(), 'tarn-protected-run-')), 'lake')
    const lake = await Lake.init({ home, author: 'tester' })
    try {
      await lake.protectBranch('main')
      const dir = writeProject({
        'tarn_project.yml': 'name: p\nnamespace: tarn\n',
        'numbers.sql': '-- tarn: materialize=REPLACE\nSELECT range AS n FROM range(5)\n',
      })
      const { job } = await lake.run({ dir, branch: 'main' })
      expect(job.status).toBe('succeeded')
      const head = await lake.getBranch('main')
      expect(head.commit.parents).toHaveLength(2)
      expect((await lake.query('SELECT count(*) AS c FROM numbers', { ref: 'main' })).rows()).toEqual([
        { c: 5n },
      ])
      expect(await codeOf(lake.dropTable('numbers', { branch: 'main' }))).toBe('BRANCH_PROTECTED')
    } finally {
      await lake.close()
    }
  })
})
