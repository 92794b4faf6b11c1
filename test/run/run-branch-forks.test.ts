import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Lake } from '../../src/index.js'
import { ensureBuilt } from '../helpers/build.js'
import { writeProject } from './helpers.js'

const PROJECT = {
  'tarn_project.yml': 'name: forks\nnamespace: tarn\n',
  'first.sql': '-- tarn: materialize=REPLACE\nSELECT 1 AS x\n',
  'second.sql': '-- tarn: materialize=REPLACE\nSELECT x + 1 AS y FROM first\n',
}

async function freshLake(): Promise<Lake> {
  return Lake.init({ home: join(mkdtempSync(join(tmpdir(), 'tarn-forks-')), 'lake'), author: 'tester' })
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    return (e as { code: string }).code
  }
  return 'OK'
}

describe('forks of part of a run are sealed copies', () => {
  beforeAll(() => ensureBuilt())

  it('a branch forked from a running run after its first model is sealed; one forked at its last commit is not, once the run landed', async () => {
    const lake = await freshLake()
    const dir = writeProject(PROJECT)
    let runBranch = ''
    let written = 0
    const seen: Record<string, boolean> = {}
    const { job } = await lake.run({
      dir,
      branch: 'main',
      observer: {
        planned: (_plan, j) => {
          runBranch = j.runBranch
        },
        node: async (n) => {
          if (n.kind !== 'materialize' || n.status !== 'done') return
          written++
          if (written === 1) {
            seen.peek = (await lake.createBranch('peek', { from: runBranch })).sealed === true
            await lake.createTag('mid', { from: runBranch })
          } else {
            seen.peekLast = (await lake.createBranch('peek-last', { from: runBranch })).sealed === true
            await lake.createTag('last', { from: runBranch })
          }
          seen.clean = (await lake.createBranch(`clean-${written}`, { from: 'main' })).sealed === true
        },
      },
    })
    expect(job.status).toBe('succeeded')
    expect(seen).toEqual({ peek: true, peekLast: true, clean: false })
    expect(await codeOf(lake.dropTable('tarn.first', { branch: 'peek' }))).toBe('BRANCH_SEALED')
    expect(await codeOf(lake.merge('peek', { into: 'main' }))).toBe('BRANCH_SEALED')
    // after landing: the last commit of the run shows all of it, the first only half
    expect((await lake.createBranch('from-last', { from: 'last' })).sealed).toBe(false)
    expect((await lake.createBranch('from-mid', { from: 'mid' })).sealed).toBe(true)
    expect((await lake.createBranch('from-main', { from: 'main' })).sealed).toBe(false)
    await lake.close()
  })

  it('a branch forked at a commit of a failed run is sealed, and merging that commit is refused', async () => {
    const lake = await freshLake()
    const dir = writeProject(PROJECT)
    let runBranch = ''
    const failed = lake.run({
      dir,
      branch: 'main',
      observer: {
        planned: (_plan, j) => {
          runBranch = j.runBranch
        },
        node: async (n) => {
          if (n.kind === 'materialize' && n.status === 'done') {
            await lake.createTag('partial', { from: runBranch })
            throw new Error('stopped after the first model')
          }
        },
      },
    })
    expect(await codeOf(failed)).not.toBe('OK')
    expect((await lake.getBranch(runBranch)).sealed).toBe(true)
    expect((await lake.createBranch('debug', { from: 'partial' })).sealed).toBe(true)
    expect(await codeOf(lake.merge('partial', { into: 'main' }))).toBe('RUN_INCOMPLETE')
    await lake.close()
  })
})
