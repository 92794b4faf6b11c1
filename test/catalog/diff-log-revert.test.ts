import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { Catalog, SqliteBackend, type TableState } from '../../src/catalog/index.js'
import { fixedClock } from '../../src/util/clock.js'

const state = (n: number): TableState => ({
  metadataLocation: `file:///w/t/v${n}.metadata.json`,
  snapshotId: String(n),
  schemaId: 0,
  tableUuid: 'u',
})

let catalog: Catalog

async function put(branch: string, table: string, n: number, message = `${table}=${n}`): Promise<string> {
  const c = await catalog.commit({
    branch,
    changes: [{ type: 'putTable', key: table, state: state(n) }],
    message,
  })
  return c.hash
}

beforeEach(async () => {
  const backend = SqliteBackend.open(join(mkdtempSync(join(tmpdir(), 'tarn-cat-dl-')), 'catalog.db'))
  catalog = new Catalog(backend, { clock: fixedClock(1_000_000, 1000) })
  await catalog.init()
})

describe('catalog diff modes', () => {
  it('three-dot measures from the merge base, so changes the other side made alone never show', async () => {
    await put('main', 'shared', 1)
    await catalog.createBranch('b', { from: 'main' })
    await put('b', 'mine', 1)
    await put('main', 'theirs', 1)
    const base = await catalog.mergeBase('b', 'main')
    const threeDot = await catalog.diff('b', 'main', { mode: 'three-dot' })
    expect(threeDot.before).toBe(base?.hash)
    expect(threeDot.tables.added.map((t) => t.table)).toEqual(['tarn.mine'])
    expect(threeDot.tables.removed).toEqual([])
    const twoWay = await catalog.diff('b', 'main')
    expect(twoWay.mode).toBe('two-way')
    expect(twoWay.tables.added.map((t) => t.table)).toEqual(['tarn.mine'])
    expect(twoWay.tables.removed.map((t) => t.table)).toEqual(['tarn.theirs'])
  })

  it('describes one commit against its first parent, and the first commit against the empty lake', async () => {
    const h = await put('main', 'x', 1)
    const d = await catalog.diffCommit(await catalog.getCommit(h))
    expect(d.tables.added.map((t) => t.table)).toEqual(['tarn.x'])
    const root = (await catalog.log('main')).at(-1)
    const first = await catalog.diffCommit(root as NonNullable<typeof root>)
    expect(first.namespaces.added.map((n) => n.namespace)).toEqual(['tarn'])
    expect(first.before).toBeNull()
  })
})

describe('catalog log', () => {
  it('orders parallel commits of the same depth newest first and follows first parents on request', async () => {
    await catalog.createBranch('b', { from: 'main' })
    await put('b', 'early', 1, 'early on b')
    await put('main', 'late', 1, 'late on main')
    await catalog.merge('b', { into: 'main', message: 'merge b' })
    expect((await catalog.log('main')).map((c) => c.message)).toEqual([
      'merge b',
      'late on main',
      'early on b',
      'Initialize lake',
    ])
    expect((await catalog.log('main', { firstParent: true })).map((c) => c.message)).toEqual([
      'merge b',
      'late on main',
      'Initialize lake',
    ])
    expect((await catalog.log('main', { firstParent: true, limit: 1 })).map((c) => c.message)).toEqual([
      'merge b',
    ])
  })
})

describe('catalog revert plans', () => {
  it('lists restore and drop steps, writes nothing, and refuses what the revert would refuse', async () => {
    await put('main', 'a', 1)
    const both = await catalog.commit({
      branch: 'main',
      changes: [
        { type: 'putTable', key: 'a', state: state(2) },
        { type: 'putTable', key: 'b', state: state(1) },
      ],
      message: 'both',
    })
    const head = (await catalog.getBranch('main')).head
    const plan = await catalog.planRevert(both.hash, { on: 'main' })
    expect(plan.steps).toEqual([
      { kind: 'table', name: 'tarn.a', action: 'restore' },
      { kind: 'table', name: 'tarn.b', action: 'drop' },
    ])
    expect(plan.tables).toEqual(['tarn.a', 'tarn.b'])
    expect((await catalog.getBranch('main')).head).toBe(head)
    await put('main', 'a', 3)
    await expect(catalog.planRevert(both.hash, { on: 'main' })).rejects.toMatchObject({
      code: 'REVERT_CONFLICT',
    })
    const partial = await catalog.planRevert(both.hash, { on: 'main', table: 'b' })
    expect(partial.steps).toEqual([{ kind: 'table', name: 'tarn.b', action: 'drop' }])
    expect(partial.warning).toContain('changed 2 tables')
  })
})
