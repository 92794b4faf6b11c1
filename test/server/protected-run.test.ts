import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ApiKeyStore, Lake, RemoteLake, serve } from '../../src/index.js'
import { codeOf, errorOf } from '../helpers/errors.js'
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

  it('over HTTP needs merge on the protected target: write:* is refused naming merge:main, merge:main lands it', async () => {
    const home = join(mkdtempSync(join(tmpdir(), 'tarn-protected-run-http-')), 'lake')
    const lake = await Lake.init({ home, author: 'tester' })
    const keys = new ApiKeyStore(lake.catalog.backend, lake)
    const writer = await keys.create('writer', { rules: ['write:*'] })
    const lander = await keys.create('lander', { rules: ['merge:main'] })
    const server = await serve({ lake, keys, host: '127.0.0.1', port: 0 })
    try {
      await lake.protectBranch('main')
      const dir = writeProject({
        'tarn_project.yml': 'name: p\nnamespace: tarn\n',
        'numbers.sql': '-- tarn: materialize=REPLACE\nSELECT range AS n FROM range(5)\n',
      })
      const head = (await lake.getBranch('main')).head
      const refused = await errorOf(
        RemoteLake.connect({ url: server.url, apiKey: writer.token }).run({ dir, branch: 'main' }),
      )
      expect(refused.code).toBe('FORBIDDEN')
      expect(refused.context.rule).toBe('merge:main')
      expect((await lake.getBranch('main')).head).toBe(head)
      expect(await lake.listJobs()).toEqual([])
      const { job } = await RemoteLake.connect({ url: server.url, apiKey: lander.token }).run({
        dir,
        branch: 'main',
      })
      expect(job.status).toBe('succeeded')
      const landed = await lake.getBranch('main')
      expect(landed.commit.parents).toHaveLength(2)
      expect(landed.commit.author).toBe('lander')
    } finally {
      await server.close()
      await lake.close()
    }
  })
})
