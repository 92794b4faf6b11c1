import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { evolveSchema, updatePartitionSpec } from '../../src/iceberg/index.js'
import { fixedClock, Lake, seededRandom } from '../../src/index.js'
import type { TableChange } from '../../src/lake/ref-diff.js'
import { codeOf } from '../helpers/errors.js'

let dir: string
let lake: Lake
let n = 0

/** A JSON-lines file with one row per marker. */
function file(...markers: string[]): string {
  const path = join(dir, `f${n++}.jsonl`)
  writeFileSync(path, markers.map((m) => `${JSON.stringify({ marker: m })}\n`).join(''))
  return path
}

function summary(t: TableChange): Record<string, unknown> {
  return {
    table: t.table,
    change: t.change,
    files: [t.dataFiles.added, t.dataFiles.removed],
    records: [t.records.added, t.records.removed],
  }
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tarn-diff-'))
  lake = await Lake.init({
    home: join(dir, 'lake'),
    env: {},
    author: 'test',
    clock: fixedClock(Date.parse('2026-03-01T00:00:00Z'), 1000),
    random: seededRandom(11),
  })
  await lake.createTable('orders', { from: file('o-base') })
  await lake.createTable('customers', { from: file('c-base') })
})

afterEach(async () => {
  await lake.close()
  rmSync(dir, { recursive: true, force: true })
})

/**
 * The scenario: `b` appends to orders while main appends to orders too; `b` is merged into main (the appends
 * are combined); then main appends to customers.
 */
async function mergedScenario(): Promise<void> {
  await lake.createBranch('b', { from: 'main' })
  await lake.importTable('orders', { from: file('o-b1', 'o-b2'), branch: 'b' })
  await lake.importTable('orders', { from: file('o-main'), branch: 'main' })
  expect((await lake.merge('b', { into: 'main' })).kind).toBe('merge')
  await lake.importTable('customers', { from: file('c-main'), branch: 'main' })
}

describe('diff between refs', () => {
  it('is three-dot by default: after b was merged into main and main moved on, b has nothing main lacks', async () => {
    await mergedScenario()
    const d = await lake.diff('b', 'main')
    expect(d.mode).toBe('three-dot')
    // the merge base of b and main is b's head itself: b made no change since
    expect(d.before).toBe((await lake.getBranch('b')).head)
    expect(d.tables).toEqual({ added: [], removed: [], changed: [] })
    expect(d.tableChanges).toEqual([])
  })

  it('lists, three-dot the other way, what main changed since the merge base: its orders append and customers', async () => {
    await mergedScenario()
    const d = await lake.diff('main', 'b')
    expect(d.tableChanges.map(summary)).toEqual([
      { table: 'tarn.customers', change: 'changed', files: [1, 0], records: [1, 0] },
      { table: 'tarn.orders', change: 'changed', files: [1, 0], records: [1, 0] },
    ])
  })

  it('compares the two states with twoWay, listing both tables as the plain comparison does', async () => {
    await mergedScenario()
    const d = await lake.diff('b', 'main', { twoWay: true })
    expect(d.mode).toBe('two-way')
    expect(d.before).toBe((await lake.getBranch('main')).head)
    // what b has that main lacks: main's orders append and customers append are missing on b
    expect(d.tableChanges.map(summary)).toEqual([
      { table: 'tarn.customers', change: 'changed', files: [0, 1], records: [0, 1] },
      { table: 'tarn.orders', change: 'changed', files: [0, 1], records: [0, 1] },
    ])
  })

  it('reads up to N added and removed rows per table with rows', async () => {
    await lake.createBranch('dev', { from: 'main' })
    await lake.importTable('orders', { from: file('o-new1', 'o-new2', 'o-new3'), branch: 'dev' })
    await lake.importTable('customers', { from: file('c-fresh'), branch: 'dev', replace: true })
    const d = await lake.diff('dev', 'main', { rows: 2 })
    const orders = d.tableChanges.find((t) => t.table === 'tarn.orders')
    const customers = d.tableChanges.find((t) => t.table === 'tarn.customers')
    expect(orders?.records).toEqual({ added: 3, removed: 0 })
    expect(orders?.rows?.added).toHaveLength(2)
    expect(orders?.rows?.added.every((r) => String(r.marker).startsWith('o-new'))).toBe(true)
    expect(orders?.rows?.removed).toEqual([])
    expect(customers?.rows).toEqual({ added: [{ marker: 'c-fresh' }], removed: [{ marker: 'c-base' }] })
    // without rows, no data file is read and no rows are reported
    expect((await lake.diff('dev', 'main')).tableChanges.every((t) => t.rows === undefined)).toBe(true)
  })

  it('shows schema changes by field id and a partition spec change of a table', async () => {
    await lake.createBranch('dev', { from: 'main' })
    const deps = { clock: lake.clock, random: lake.random }
    let { loaded } = await lake.loadTable('orders', { ref: 'dev' })
    const evolved = await evolveSchema(
      loaded,
      [
        { op: 'rename', name: 'marker', newName: 'label' },
        { op: 'add', name: 'qty', type: 'long' },
      ],
      deps,
    )
    await lake.catalog.commit({
      branch: 'dev',
      changes: [{ type: 'putTable', key: 'orders', state: evolved.state }],
      message: 'evolve',
    })
    ;({ loaded } = await lake.loadTable('orders', { ref: 'dev' }))
    const spec = await updatePartitionSpec(loaded, [{ column: 'label', transform: 'identity' }], deps)
    await lake.catalog.commit({
      branch: 'dev',
      changes: [{ type: 'putTable', key: 'orders', state: spec.state }],
      message: 'partition',
    })
    const [orders] = (await lake.diff('dev', 'main')).tableChanges
    expect(orders?.schema.renamed).toEqual([{ id: 1, from: 'marker', to: 'label' }])
    expect(orders?.schema.added).toEqual([{ id: 2, name: 'qty', type: 'long' }])
    expect(orders?.schema.dropped).toEqual([])
    expect(orders?.partitionSpec).toEqual({ changed: true, from: [], to: ['identity(label)'] })
    expect(orders?.dataFiles).toEqual({ added: 0, removed: 0 })
  })
})

describe('history', () => {
  it('lists newest first, follows first parents only on request, and attaches each commit its diff with patch', async () => {
    await mergedScenario()
    const all = (await lake.log('main')).map((c) => c.message)
    // the merge commit first; of the two imports into orders at the same depth, main's (made later) first
    expect(all.slice(0, 4)).toEqual([
      'Import 1 file(s) into tarn.customers',
      'Merge b into main',
      'Import 1 file(s) into tarn.orders',
      'Import 1 file(s) into tarn.orders',
    ])
    const log = await lake.log('main')
    expect(log[2]?.timestamp).toBeGreaterThan(log[3]?.timestamp ?? Number.POSITIVE_INFINITY)
    const firstParent = await lake.log('main', { firstParent: true })
    const bHead = (await lake.getBranch('b')).head
    expect(firstParent.map((c) => c.hash)).not.toContain(bHead)
    expect(firstParent).toHaveLength(all.length - 1)
    const patched = await lake.log('main', { limit: 2, patch: true })
    expect(patched.map((c) => c.diff.tableChanges.map(summary))).toEqual([
      [{ table: 'tarn.customers', change: 'changed', files: [1, 0], records: [1, 0] }],
      // the merge commit against its first parent (main before the merge) brings b's two rows
      [{ table: 'tarn.orders', change: 'changed', files: [1, 0], records: [2, 0] }],
    ])
  })

  it("records the caller's message on every write", async () => {
    await lake.createNamespace('sales', { message: 'ns for sales' })
    await lake.importTable('orders', { from: file('x'), message: 'more orders' })
    await lake.createTable('sales.t', { from: file('y'), message: 'sales table' })
    await lake.dropTable('sales.t', { message: 'not needed' })
    await lake.dropNamespace('sales', { message: 'bye sales' })
    const r = await lake.revert('main', { message: 'sales back' })
    expect(r.commit.message).toBe('sales back')
    expect((await lake.log('main', { limit: 6 })).map((c) => c.message)).toEqual([
      'sales back',
      'bye sales',
      'not needed',
      'sales table',
      'more orders',
      'ns for sales',
    ])
  })
})

describe('revert dry run', () => {
  it('says which files an append-aware revert would remove and writes nothing', async () => {
    const bad = await lake.importTable('orders', { from: file('bad1', 'bad2') })
    await lake.importTable('orders', { from: file('later') })
    await lake.importTable('customers', { from: file('c2') })
    const head = (await lake.getBranch('main')).head
    const plan = await lake.revert(bad.commit.hash, { dryRun: true })
    expect(plan.steps).toEqual([
      {
        kind: 'table',
        name: 'tarn.orders',
        action: 'remove-appended-files',
        removedFiles: 1,
        removedRecords: 2,
      },
    ])
    expect(plan.tables).toEqual(['tarn.orders'])
    expect((await lake.getBranch('main')).head).toBe(head)
    const lastCustomers = (await lake.log('main', { limit: 1 }))[0]?.hash as string
    const restore = await lake.revert(lastCustomers, { dryRun: true })
    expect(restore.steps).toEqual([{ kind: 'table', name: 'tarn.customers', action: 'restore' }])
    // a dry run refuses what the revert would refuse
    await lake.importTable('orders', { from: file('fresh'), replace: true })
    expect(await codeOf(lake.revert(bad.commit.hash, { dryRun: true }))).toBe('REVERT_CONFLICT')
  })
})

describe('the active branch', () => {
  it('cannot be deleted unless forced, and then falls back to main', async () => {
    await lake.checkout('dev', { create: true })
    expect(await codeOf(lake.deleteBranch('dev'))).toBe('BRANCH_ACTIVE')
    expect((await lake.getBranch('dev')).name).toBe('dev')
    const r = await lake.deleteBranch('dev', { force: true })
    expect(r.activeReset).toBe(true)
    expect(lake.activeBranch()).toBe('main')
  })

  it('falls back to main when another process deleted it', async () => {
    await lake.checkout('dev', { create: true })
    await lake.catalog.deleteBranch('dev')
    expect(await lake.ensureActiveBranch()).toBe('dev')
    expect(lake.activeBranch()).toBe('main')
    expect(await lake.ensureActiveBranch()).toBeUndefined()
  })
})
