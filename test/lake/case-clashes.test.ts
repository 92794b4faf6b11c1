import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { makeCommit } from '../../src/catalog/commit.js'
import { entryKey, tableValue } from '../../src/catalog/entries.js'
import { LakeStates } from '../../src/catalog/lake-state.js'
import { Tree } from '../../src/catalog/tree.js'
import type { TableState } from '../../src/catalog/types.js'
import { Lake } from '../../src/index.js'
import { ensureBuilt } from '../helpers/build.js'
import { errorOf } from '../helpers/errors.js'
import { writeProject } from '../run/helpers.js'

/** Commits a table under a key without the catalog's checks, as a lake made before case clashes were refused. */
async function legacyPut(lake: Lake, key: string, state: TableState): Promise<void> {
  const ref = await lake.catalog.getBranch('main')
  const head = await lake.catalog.getCommit(ref.head)
  const states = new LakeStates(new Tree(lake.catalog.backend))
  const { state: next, created } = await states.apply(
    head,
    new Map([[entryKey.table(key), tableValue(state)]]),
  )
  const commit = makeCommit(
    {
      parents: [head.hash],
      ...next,
      author: 'old-tarn',
      message: `put ${key}`,
      timestamp: head.timestamp + 1,
      properties: {},
    },
    head.generation + 1,
  )
  const outcome = await lake.catalog.backend.updateBranch({
    name: 'main',
    expectedHead: head.hash,
    newHead: commit.hash,
    commit,
    objects: created,
    at: head.timestamp + 1,
    operation: 'commit',
  })
  expect(outcome).toBe('ok')
}

async function scalar(lake: Lake, sql: string): Promise<string> {
  const r = await lake.query(sql)
  return Object.values(r.rows()[0] ?? {})
    .map((v) => String(v))
    .join(',')
}

describe('table names that differ only in letter case', () => {
  let dir: string
  let lake: Lake

  beforeAll(() => ensureBuilt())
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tarn-case-'))
    lake = await Lake.init({ home: join(dir, 'lake'), author: 'tester' })
    const ten = Array.from({ length: 10 }, (_, i) => `${i},z${i}`).join('\n')
    const twenty = Array.from({ length: 20 }, (_, i) => `${i},z${i}`).join('\n')
    writeFileSync(join(dir, 'ten.csv'), `id,zone\n${ten}\n`)
    writeFileSync(join(dir, 'twenty.csv'), `id,zone\n${twenty}\n`)
  })
  afterEach(async () => {
    await lake.close()
  })

  it('refuses to create ZONES2 next to zones2, naming the existing table, and changes nothing', async () => {
    await lake.createTable('zones2', { from: join(dir, 'ten.csv') })
    const head = (await lake.getBranch('main')).head
    const e = await errorOf(lake.createTable('ZONES2', { from: join(dir, 'twenty.csv') }))
    expect(e.code).toBe('TABLE_EXISTS')
    expect(e.message).toContain('tarn.zones2')
    expect(e.context).toMatchObject({ table: 'tarn.ZONES2', existing: 'tarn.zones2' })
    expect((await lake.getBranch('main')).head).toBe(head)
  })

  it('refuses a register, a raw catalog commit and a namespace that clash case-insensitively', async () => {
    const made = await lake.createTable('zones2', { from: join(dir, 'ten.csv') })
    const reg = await errorOf(lake.registerTable('Zones2', { metadata: made.state.metadataLocation }))
    expect(reg.code).toBe('TABLE_EXISTS')
    const raw = await errorOf(
      lake.catalog.commit({
        branch: 'main',
        changes: [{ type: 'putTable', key: 'tarn.ZONES2', state: made.state }],
        message: 'sneak in',
      }),
    )
    expect(raw.code).toBe('TABLE_EXISTS')
    const ns = await errorOf(lake.createNamespace('TARN'))
    expect(ns.code).toBe('NAMESPACE_EXISTS')
    expect(ns.message).toContain('tarn')
  })

  it('refuses a merge that would bring ZONES2 next to zones2 as a conflict naming both', async () => {
    await lake.createBranch('other')
    await lake.createTable('zones2', { from: join(dir, 'ten.csv') })
    await lake.createTable('ZONES2', { from: join(dir, 'twenty.csv'), branch: 'other' })
    const e = await errorOf(lake.merge('other', { into: 'main' }))
    expect(e.code).toBe('MERGE_CONFLICT')
    expect(e.context.tables).toEqual(['tarn.ZONES2'])
    expect(JSON.stringify(e.context.conflicts)).toContain('tarn.zones2')
    expect((await lake.listTables()).map((t) => t.table)).toEqual(['tarn.zones2'])
  })

  it('in a lake that already holds both, reads the exact-case table and refuses a query naming both', async () => {
    await lake.createTable('zones2', { from: join(dir, 'ten.csv') })
    const big = await lake.createTable('zones_big', { from: join(dir, 'twenty.csv') })
    await legacyPut(lake, 'tarn.ZONES2', big.state)
    expect(await scalar(lake, 'SELECT count(*) FROM zones2')).toBe('10')
    expect(await scalar(lake, 'SELECT count(*) FROM ZONES2')).toBe('20')
    const e = await errorOf(lake.query('SELECT (SELECT count(*) FROM ZONES2), (SELECT count(*) FROM zones2)'))
    expect(e.code).toBe('AMBIGUOUS_TABLE')
    expect(e.message).toContain('tarn.ZONES2')
    expect(e.message).toContain('tarn.zones2')
  })

  it('refuses a model that names both spellings instead of reading one table twice', async () => {
    await lake.createTable('zones2', { from: join(dir, 'ten.csv') })
    const big = await lake.createTable('zones_big', { from: join(dir, 'twenty.csv') })
    await legacyPut(lake, 'tarn.ZONES2', big.state)
    const project = writeProject({
      'tarn_project.yml': 'name: cases\nnamespace: tarn\n',
      'both.sql':
        '-- tarn: materialize=REPLACE\nSELECT (SELECT count(*) FROM ZONES2) AS big, (SELECT count(*) FROM zones2) AS small\n',
    })
    const e = await errorOf(lake.run({ dir: project }))
    expect(e.code).toBe('AMBIGUOUS_TABLE')
    expect(e.message).toContain('ZONES2')
    expect(e.message).toContain('zones2')
    expect((await lake.listTables()).map((t) => t.table)).not.toContain('tarn.both')
  })
})
