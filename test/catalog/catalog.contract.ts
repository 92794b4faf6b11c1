import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { makeCommit } from '../../src/catalog/commit.js'
import { Catalog, type CatalogBackend, type TableMerger, type TableState } from '../../src/catalog/index.js'
import type { MergeGuard } from '../../src/catalog/merge-guard.js'
import type { Commit } from '../../src/catalog/types.js'
import { runMergeGuard } from '../../src/pipeline/run/run-merge-guard.js'
import { fixedClock } from '../../src/util/clock.js'
import { TarnError } from '../../src/util/errors.js'
import { codeOf, errorOf } from '../helpers/errors.js'

/** A table state that differs by `n`. */
export function tableState(n: number, uuid = 'u-1'): TableState {
  return {
    metadataLocation: `file:///w/t/metadata/v${n}.metadata.json`,
    snapshotId: String(1000 + n),
    schemaId: 0,
    tableUuid: uuid,
  }
}

/** The behaviour every catalog backend must show, run once per backend. */
export function describeCatalogContract(
  name: string,
  makeBackend: () => Promise<CatalogBackend | undefined>,
): void {
  describe(`catalog on ${name}`, () => {
    let catalog: Catalog
    let backend: CatalogBackend
    const start = Date.parse('2026-01-01T00:00:00Z')

    beforeEach(async (ctx) => {
      const b = await makeBackend()
      if (!b) {
        ctx.skip()
        return
      }
      backend = b
      catalog = new Catalog(backend, { clock: fixedClock(start, 1000), author: 'tester' })
      await catalog.init()
    })
    afterEach(async () => {
      await catalog?.close()
    })

    const put = (branch: string, table: string, n: number, message = `write ${table} v${n}`) =>
      catalog.commit({ branch, changes: [{ type: 'putTable', key: table, state: tableState(n) }], message })

    it('initialises a lake with branch main holding namespace tarn, idempotently', async () => {
      const main = await catalog.getBranch('main')
      expect(main.kind).toBe('branch')
      const again = await catalog.init()
      expect(again.head).toBe(main.head)
      const state = await catalog.state('main')
      expect(Object.keys(state.namespaces)).toEqual(['tarn'])
      expect(state.tables).toEqual({})
    })

    it('creates, lists, renames and deletes branches without copying anything', async () => {
      const main = await catalog.getBranch('main')
      const dev = await catalog.createBranch('alice.dev', { from: 'main' })
      expect(dev.head).toBe(main.head)
      expect((await catalog.listBranches()).map((b) => b.name)).toEqual(['alice.dev', 'main'])
      await catalog.renameBranch('alice.dev', 'alice.feature')
      expect((await catalog.listBranches()).map((b) => b.name)).toEqual(['alice.feature', 'main'])
      await catalog.deleteBranch('alice.feature')
      expect((await catalog.listBranches()).map((b) => b.name)).toEqual(['main'])
    })

    it('refuses duplicate, malformed and unknown branch names with stable codes', async () => {
      await catalog.createBranch('dev', { from: 'main' })
      expect(await codeOf(catalog.createBranch('dev', { from: 'main' }))).toBe('BRANCH_EXISTS')
      for (const bad of ['-x', 'a..b', 'a b', 'a\u0001b', 'x'.repeat(201), 'a@b', 'a~1', 'dir/', '']) {
        expect(await codeOf(catalog.createBranch(bad, { from: 'main' }))).toBe('INVALID_NAME')
      }
      expect(await codeOf(catalog.getBranch('nope'))).toBe('BRANCH_NOT_FOUND')
      expect(await codeOf(catalog.deleteBranch('nope'))).toBe('BRANCH_NOT_FOUND')
      expect(await codeOf(catalog.deleteBranch('main'))).toBe('BRANCH_PROTECTED')
      expect(await codeOf(catalog.createBranch('x', { from: 'nope' }))).toBe('REF_NOT_FOUND')
    })

    it('keeps tags fixed and refuses to write to them', async () => {
      await catalog.createTag('v1', { from: 'main' })
      expect(await codeOf(catalog.createTag('v1', { from: 'main' }))).toBe('TAG_EXISTS')
      expect(await codeOf(catalog.createBranch('v1', { from: 'main' }))).toBe('TAG_EXISTS')
      const before = (await catalog.resolve('v1')).commit.hash
      await put('main', 'orders', 1)
      expect((await catalog.resolve('v1')).commit.hash).toBe(before)
      expect(await codeOf(put('v1', 'orders', 2))).toBe('NOT_A_BRANCH')
      await catalog.deleteTag('v1')
      expect(await codeOf(catalog.deleteTag('v1'))).toBe('TAG_NOT_FOUND')
    })

    it('makes a write on one branch invisible on others until merged', async () => {
      await catalog.createBranch('dev', { from: 'main' })
      await put('dev', 'orders', 1)
      expect(await catalog.getTable('dev', 'orders')).toEqual(tableState(1))
      expect(await catalog.getTable('main', 'orders')).toBeUndefined()
    })

    it('gives content-addressed, immutable commits with parents, author, message and properties', async () => {
      const c = await catalog.commit({
        branch: 'main',
        changes: [{ type: 'putTable', key: 'tarn.orders', state: tableState(1) }],
        message: 'load orders',
        author: 'alice',
        properties: { 'tarn.job_id': 'j1' },
      })
      expect(c.hash).toMatch(/^[0-9a-f]{64}$/)
      expect(c.parents).toHaveLength(1)
      expect(c.author).toBe('alice')
      expect(c.properties).toEqual({ 'tarn.job_id': 'j1' })
      const again = await catalog.getCommit(c.hash)
      expect(again).toEqual(c)
    })

    it('resolves name, name@hash, @hash, name~N and name*timestamp refs', async () => {
      const c1 = await put('main', 'orders', 1)
      const c2 = await put('main', 'orders', 2)
      const c3 = await put('main', 'orders', 3)
      expect((await catalog.resolve('main')).commit.hash).toBe(c3.hash)
      expect((await catalog.resolve('main')).branch).toBe('main')
      expect((await catalog.resolve(`main@${c1.hash.slice(0, 10)}`)).commit.hash).toBe(c1.hash)
      expect((await catalog.resolve(`@${c2.hash}`)).commit.hash).toBe(c2.hash)
      expect((await catalog.resolve('main~2')).commit.hash).toBe(c1.hash)
      expect((await catalog.resolve('main~1')).branch).toBeUndefined()
      const at = new Date(c2.timestamp).toISOString()
      expect((await catalog.resolve(`main*${at}`)).commit.hash).toBe(c2.hash)
      const justBefore = new Date(c2.timestamp - 1).toISOString()
      expect((await catalog.resolve(`main*${justBefore}`)).commit.hash).toBe(c1.hash)
    })

    it('rejects malformed and unknown refs with a clear code', async () => {
      await put('main', 'orders', 1)
      expect(await codeOf(catalog.resolve('main~x'))).toBe('INVALID_REF')
      expect(await codeOf(catalog.resolve('main*yesterday'))).toBe('INVALID_REF')
      expect(await codeOf(catalog.resolve('@xyz'))).toBe('INVALID_REF')
      expect(await codeOf(catalog.resolve('nope'))).toBe('REF_NOT_FOUND')
      expect(await codeOf(catalog.resolve('@ffffffffff'))).toBe('COMMIT_NOT_FOUND')
      expect(await codeOf(catalog.resolve('main~50'))).toBe('REF_NOT_FOUND')
      expect(await codeOf(catalog.resolve('main*1999-01-01T00:00:00Z'))).toBe('REF_NOT_FOUND')
      await catalog.createBranch('dev', { from: 'main' })
      const onDev = await put('dev', 'x', 1)
      expect(await codeOf(catalog.resolve(`main@${onDev.hash}`))).toBe('REF_NOT_FOUND')
    })

    it('commits with compare-and-swap: a stale head that conflicts fails, a stale head that does not is rebased', async () => {
      const base = await catalog.getBranch('main')
      await put('main', 'orders', 1)
      const e = await errorOf(
        catalog.commit({
          branch: 'main',
          changes: [{ type: 'putTable', key: 'orders', state: tableState(9) }],
          message: 'stale',
          expectedHead: base.head,
        }),
      )
      expect(e.code).toBe('BRANCH_HEAD_CHANGED')
      expect(e.context.keys).toEqual(['tarn.orders'])
      const rebased = await catalog.commit({
        branch: 'main',
        changes: [{ type: 'putTable', key: 'customers', state: tableState(1) }],
        message: 'other table',
        expectedHead: base.head,
      })
      expect(rebased.parents[0]).not.toBe(base.head)
      const state = await catalog.state('main')
      expect(Object.keys(state.tables).sort()).toEqual(['tarn.customers', 'tarn.orders'])
      expect(
        await codeOf(
          catalog.commit({
            branch: 'main',
            changes: [{ type: 'putTable', key: 'z', state: tableState(1) }],
            message: 'strict',
            expectedHead: base.head,
            strict: true,
          }),
        ),
      ).toBe('BRANCH_HEAD_CHANGED')
    })

    it('creates and drops namespaces and refuses to drop one that holds tables', async () => {
      await catalog.commit({
        branch: 'main',
        changes: [{ type: 'createNamespace', name: 'sales' }],
        message: 'ns',
      })
      expect(
        await codeOf(
          catalog.commit({
            branch: 'main',
            changes: [{ type: 'createNamespace', name: 'sales' }],
            message: 'ns',
          }),
        ),
      ).toBe('NAMESPACE_EXISTS')
      await put('main', 'sales.orders', 1)
      const e = await errorOf(
        catalog.commit({
          branch: 'main',
          changes: [{ type: 'dropNamespace', name: 'sales' }],
          message: 'rm',
        }),
      )
      expect(e.code).toBe('NAMESPACE_NOT_EMPTY')
      expect(e.context.tables).toEqual(['sales.orders'])
      expect(await codeOf(put('main', 'nowhere.t', 1))).toBe('NAMESPACE_NOT_FOUND')
      await catalog.commit({
        branch: 'main',
        changes: [{ type: 'dropTable', key: 'sales.orders' }],
        message: 'rm t',
      })
      await catalog.commit({
        branch: 'main',
        changes: [{ type: 'dropNamespace', name: 'sales' }],
        message: 'rm ns',
      })
      expect(Object.keys((await catalog.state('main')).namespaces)).toEqual(['tarn'])
      expect(
        await codeOf(
          catalog.commit({
            branch: 'main',
            changes: [{ type: 'createNamespace', name: '1bad' }],
            message: 'x',
          }),
        ),
      ).toBe('INVALID_NAME')
    })

    it('lists history newest first and filters it by message, author, property and limit', async () => {
      await put('main', 'a', 1, 'load a')
      await catalog.commit({
        branch: 'main',
        changes: [{ type: 'putTable', key: 'b', state: tableState(1) }],
        message: 'load b',
        author: 'bob',
        properties: { 'tarn.job_id': 'job-7' },
      })
      await put('main', 'c', 1, 'load c')
      const all = await catalog.log('main')
      expect(all.map((c) => c.message)).toEqual(['load c', 'load b', 'load a', 'Initialize lake'])
      expect((await catalog.log('main', { limit: 2 })).map((c) => c.message)).toEqual(['load c', 'load b'])
      expect((await catalog.log('main', { message: 'LOAD A' })).map((c) => c.message)).toEqual(['load a'])
      expect((await catalog.log('main', { author: 'bob' })).map((c) => c.message)).toEqual(['load b'])
      expect((await catalog.log('main', { property: { key: 'tarn.job_id', value: 'job-7' } })).length).toBe(1)
      expect((await catalog.log('main', { property: { key: 'tarn.job_id', value: 'other' } })).length).toBe(0)
    })

    it('diffs two refs into added, removed and changed tables and namespaces with both states', async () => {
      await put('main', 'keep', 1)
      await put('main', 'gone', 1)
      await catalog.createBranch('dev', { from: 'main' })
      await put('dev', 'keep', 2)
      await put('dev', 'fresh', 1)
      await catalog.commit({
        branch: 'dev',
        changes: [
          { type: 'dropTable', key: 'gone' },
          { type: 'createNamespace', name: 'sales' },
        ],
        message: 'x',
      })
      const d = await catalog.diff('dev', 'main')
      expect(d.tables.added.map((t) => t.table)).toEqual(['tarn.fresh'])
      expect(d.tables.removed.map((t) => t.table)).toEqual(['tarn.gone'])
      expect(d.tables.changed).toEqual([{ table: 'tarn.keep', from: tableState(1), to: tableState(2) }])
      expect(d.namespaces.added.map((n) => n.namespace)).toEqual(['sales'])
      expect(d.to.hash).toBe((await catalog.getBranch('dev')).head)
    })

    it('fast-forwards a merge when the target has not moved', async () => {
      await catalog.createBranch('dev', { from: 'main' })
      const c = await put('dev', 'orders', 1)
      const r = await catalog.merge('dev', { into: 'main' })
      expect(r.kind).toBe('fast-forward')
      expect((await catalog.getBranch('main')).head).toBe(c.hash)
      expect(r.changes.tables).toEqual(['tarn.orders'])
      const again = await catalog.merge('dev', { into: 'main' })
      expect(again.kind).toBe('up-to-date')
    })

    it('merges branches that changed different tables into a commit with two parents', async () => {
      await catalog.createBranch('a', { from: 'main' })
      await catalog.createBranch('b', { from: 'main' })
      await put('a', 'orders', 1)
      await put('b', 'customers', 1)
      await catalog.merge('a', { into: 'main' })
      const r = await catalog.merge('b', { into: 'main' })
      expect(r.kind).toBe('merge')
      expect(r.commit?.parents).toHaveLength(2)
      expect(r.commit?.parents[1]).toBe((await catalog.getBranch('b')).head)
      const state = await catalog.state('main')
      expect(Object.keys(state.tables).sort()).toEqual(['tarn.customers', 'tarn.orders'])
    })

    it('fails a merge of branches that changed the same table with MERGE_CONFLICT naming it, leaving the target unchanged', async () => {
      await catalog.createBranch('a', { from: 'main' })
      await catalog.createBranch('b', { from: 'main' })
      await put('a', 'orders', 1)
      await put('a', 'other', 1)
      await put('b', 'orders', 2)
      await catalog.merge('a', { into: 'main' })
      const before = (await catalog.getBranch('main')).head
      const e = await errorOf(catalog.merge('b', { into: 'main' }))
      expect(e.code).toBe('MERGE_CONFLICT')
      expect(e.context.tables).toEqual(['tarn.orders'])
      expect(e.message).toContain('tarn.orders')
      expect((await catalog.getBranch('main')).head).toBe(before)
      const dry = await catalog.merge('b', { into: 'main', dryRun: true })
      expect(dry.kind).toBe('conflict')
      expect(dry.conflicts.map((c) => c.name)).toEqual(['tarn.orders'])
      expect((await catalog.getBranch('main')).head).toBe(before)
    })

    it('shows what a merge would do on a dry run and changes nothing', async () => {
      await catalog.createBranch('a', { from: 'main' })
      await put('a', 'orders', 1)
      await put('main', 'customers', 1)
      const before = (await catalog.getBranch('main')).head
      const dry = await catalog.merge('a', { into: 'main', dryRun: true })
      expect(dry).toMatchObject({ kind: 'merge', dryRun: true, changes: { tables: ['tarn.orders'] } })
      expect((await catalog.getBranch('main')).head).toBe(before)
    })

    it('asks the table merger when both sides changed a table and uses its answer', async () => {
      const seen: string[] = []
      const merger: TableMerger = async (req) => {
        seen.push(`${req.key}:${req.base?.snapshotId}:${req.ours.snapshotId}:${req.theirs.snapshotId}`)
        return { kind: 'merged', state: tableState(99) }
      }
      const merging = new Catalog(backend, {
        tableMerger: merger,
        clock: fixedClock(start + 10_000_000, 1000),
      })
      await put('main', 'orders', 1)
      await merging.createBranch('a', { from: 'main' })
      await put('a', 'orders', 2)
      await put('main', 'orders', 3)
      const r = await merging.merge('a', { into: 'main' })
      expect(seen).toEqual(['tarn.orders:1001:1003:1002'])
      expect(r.changes.combined).toEqual(['tarn.orders'])
      expect(await merging.getTable('main', 'orders')).toEqual(tableState(99))
    })

    it('reverts a whole commit, restoring every table it touched', async () => {
      await put('main', 'a', 1)
      await put('main', 'b', 1)
      const run = await catalog.commit({
        branch: 'main',
        changes: [
          { type: 'putTable', key: 'a', state: tableState(2) },
          { type: 'dropTable', key: 'b' },
          { type: 'putTable', key: 'c', state: tableState(1) },
        ],
        message: 'run',
      })
      const r = await catalog.revert(run.hash, { on: 'main' })
      expect(r.tables).toEqual(['tarn.a', 'tarn.b', 'tarn.c'])
      expect(r.warning).toBeUndefined()
      const s = await catalog.state('main')
      expect(s.tables).toEqual({ 'tarn.a': tableState(1), 'tarn.b': tableState(1) })
      expect(r.commit.properties['tarn.revert_of']).toBe(run.hash)
    })

    it('reverts one table of a multi-table commit only with a warning, and refuses a revert that conflicts', async () => {
      const run = await catalog.commit({
        branch: 'main',
        changes: [
          { type: 'putTable', key: 'a', state: tableState(1) },
          { type: 'putTable', key: 'b', state: tableState(1) },
        ],
        message: 'run',
      })
      const r = await catalog.revert(run.hash, { on: 'main', table: 'a' })
      expect(r.warning).toMatch(/no run produced/)
      expect(Object.keys((await catalog.state('main')).tables)).toEqual(['tarn.b'])
      await put('main', 'b', 2)
      expect(await codeOf(catalog.revert(run.hash, { on: 'main' }))).toBe('REVERT_CONFLICT')
    })

    it('seals a branch: readable, but no writes and no merges, by anyone', async () => {
      await catalog.createBranch('run-1', { from: 'main' })
      await put('run-1', 'orders', 1)
      await catalog.sealBranch('run-1')
      expect(await catalog.getTable('run-1', 'orders')).toEqual(tableState(1))
      expect(await codeOf(put('run-1', 'orders', 2))).toBe('BRANCH_SEALED')
      expect(await codeOf(catalog.merge('run-1', { into: 'main' }))).toBe('BRANCH_SEALED')
      await catalog.createBranch('other', { from: 'main' })
      expect(await codeOf(catalog.merge('other', { into: 'run-1' }))).toBe('BRANCH_SEALED')
      expect((await catalog.getBranch('run-1')).sealed).toBe(true)
    })

    it('refuses to merge commits of a run that has not landed, by any route, and lands a run as one merge commit', async () => {
      // The run policy is the pipeline's guard, installed as the lake installs it.
      const guarded = new Catalog(backend, {
        clock: fixedClock(start + 10_000_000, 1000),
        mergeGuard: runMergeGuard,
      })
      const runCommit = (branch: string, table: string, n: number) =>
        catalog.commit({
          branch,
          changes: [{ type: 'putTable', key: table, state: tableState(n) }],
          message: `model ${table}`,
          properties: { 'tarn.job_id': 'job-1' },
        })
      await catalog.createBranch('run/job-1', { from: 'main' })
      await runCommit('run/job-1', 'a', 1)
      // Unfinished: a fork of the run branch cannot be merged.
      await catalog.createBranch('peek', { from: 'run/job-1' })
      expect(await codeOf(guarded.merge('peek', { into: 'main' }))).toBe('RUN_INCOMPLETE')
      // Failed: sealed, and forks of it are sealed; tags and hashes of it cannot be merged either.
      await catalog.sealBranch('run/job-1')
      expect((await catalog.createBranch('debug', { from: 'run/job-1' })).sealed).toBe(true)
      await catalog.createTag('failed-run', { from: 'run/job-1' })
      expect(await codeOf(guarded.merge('failed-run', { into: 'main' }))).toBe('RUN_INCOMPLETE')
      const head = (await catalog.getBranch('run/job-1')).head
      expect(await codeOf(guarded.merge(`@${head}`, { into: 'main' }))).toBe('RUN_INCOMPLETE')
      // A successful run lands through its own merge, always as a merge commit, and its history then flows freely.
      await catalog.createBranch('run/job-2', { from: 'main' })
      await catalog.commit({
        branch: 'run/job-2',
        changes: [{ type: 'putTable', key: 'b', state: tableState(2) }],
        message: 'model b',
        properties: { 'tarn.job_id': 'job-2' },
      })
      const landed = await guarded.merge('run/job-2', { into: 'main', job: 'job-2' })
      expect(landed.kind).toBe('merge')
      expect(landed.commit?.properties['tarn.landed_job']).toBe('job-2')
      await catalog.createBranch('later', { from: 'main~1' })
      expect((await guarded.merge('main', { into: 'later' })).kind).toBe('fast-forward')
    })

    it('asks the merge guard before every merge with the commits it would bring in; a refusal changes nothing', async () => {
      const seen: string[][] = []
      const guard: MergeGuard = async ({ source, into, job, incoming }) => {
        seen.push([source, into, job ?? '-', ...(await incoming()).map((c) => c.message)])
        if (source === 'blocked') throw new TarnError('INVALID_ARGUMENT', 'blocked by the guard', { source })
      }
      const guarded = new Catalog(backend, { clock: fixedClock(start + 10_000_000, 1000), mergeGuard: guard })
      await catalog.createBranch('dev', { from: 'main' })
      await put('dev', 'a', 1)
      await put('dev', 'b', 1)
      await catalog.createBranch('blocked', { from: 'dev' })
      const before = (await catalog.getBranch('main')).head
      expect(await codeOf(guarded.merge('blocked', { into: 'main' }))).toBe('INVALID_ARGUMENT')
      expect((await catalog.getBranch('main')).head).toBe(before)
      expect((await guarded.merge('dev', { into: 'main', job: 'job-9' })).kind).toBe('merge')
      expect((await guarded.merge('dev', { into: 'main' })).kind).toBe('up-to-date')
      expect(seen).toEqual([
        ['blocked', 'main', '-', 'write b v1', 'write a v1'],
        ['dev', 'main', 'job-9', 'write b v1', 'write a v1'],
      ])
    })

    it('holds no run policy of its own: without a merge guard, commits marked with a job merge like any other', async () => {
      await catalog.createBranch('run/job-1', { from: 'main' })
      await catalog.commit({
        branch: 'run/job-1',
        changes: [{ type: 'putTable', key: 'a', state: tableState(1) }],
        message: 'model a',
        properties: { 'tarn.job_id': 'job-1' },
      })
      await catalog.createBranch('peek', { from: 'run/job-1' })
      expect((await catalog.merge('peek', { into: 'main' })).kind).toBe('fast-forward')
    })

    it('records every branch movement in the reflog', async () => {
      const c1 = await put('main', 'a', 1)
      const log = await backend.reflog('main')
      expect(log.map((l) => l.operation)).toEqual(['init', 'commit'])
      expect(log[1]?.newHead).toBe(c1.hash)
    })

    it('deletes a ref only of its kind and expected head, and logs the deletion once', async () => {
      const c1 = await put('main', 'a', 1)
      await catalog.createBranch('gone', { from: 'main' })
      const at = Date.UTC(2026, 11, 4)
      expect(await backend.deleteRef('gone', 'tag', at)).toBe(false)
      expect(await backend.deleteRef('gone', 'branch', at, 'f'.repeat(64))).toBe(false)
      expect(await backend.getRef('gone')).toMatchObject({ kind: 'branch', head: c1.hash })
      expect(await backend.deleteRef('gone', 'branch', at, c1.hash)).toBe(true)
      expect(await backend.getRef('gone')).toBeUndefined()
      expect(await backend.deleteRef('gone', 'branch', at)).toBe(false)
      const log = await backend.reflog('gone')
      expect(log.map((l) => [l.operation, l.oldHead, l.newHead])).toEqual([
        ['create from main', null, c1.hash],
        ['delete branch', c1.hash, null],
      ])
    })

    it('bulk-imports a history in one call and reads it back', async () => {
      const { makeCommit } = await import('../../src/catalog/index.js')
      const main = await catalog.getBranch('main')
      const root = await catalog.getCommit(main.head)
      const a = makeCommit(
        {
          parents: [root.hash],
          tree: root.tree,
          overlay: root.overlay,
          author: 'x',
          message: 'a',
          timestamp: 1,
          properties: {},
        },
        2,
      )
      const b = makeCommit(
        {
          parents: [a.hash],
          tree: root.tree,
          overlay: root.overlay,
          author: 'x',
          message: 'b',
          timestamp: 2,
          properties: { k: 'v' },
        },
        3,
      )
      await backend.putCommits([a, b], [])
      expect(
        await backend.updateBranch({
          name: 'main',
          expectedHead: root.hash,
          newHead: b.hash,
          at: 3,
          operation: 'import',
        }),
      ).toBe('ok')
      expect((await catalog.log('main')).map((c) => c.message)).toEqual(['b', 'a', 'Initialize lake'])
      expect((await catalog.getCommit(b.hash)).properties).toEqual({ k: 'v' })
    })

    it('keeps every table readable across many commits as overlays fold into checkpoint trees', async () => {
      for (let i = 0; i < 40; i++) await put('main', `t${i % 13}`, i)
      const s = await catalog.state('main')
      expect(Object.keys(s.tables)).toHaveLength(13)
      for (let k = 0; k < 13; k++) {
        const last = 39 - ((39 - k) % 13)
        expect(s.tables[`tarn.t${k}`]).toEqual(tableState(last))
        expect(await catalog.getTable('main', `t${k}`)).toEqual(tableState(last))
      }
      const d = await catalog.diff('main', 'main~20')
      expect(d.tables.changed.length + d.tables.added.length).toBe(13)
      const heads = await catalog.log('main', { limit: 40 })
      expect(heads.some((c) => Object.keys(c.overlay).length === 0)).toBe(true)
      expect(heads.every((c) => Object.keys(c.overlay).length <= 8)).toBe(true)
    })

    it('writes concurrent commits to one branch as a group: each its own commit in one chain, one reflog movement each', async () => {
      const before = await catalog.getBranch('main')
      const commits = await Promise.all(Array.from({ length: 20 }, (_, i) => put('main', `g${i}`, i)))
      const head = await catalog.getBranch('main')
      const history = await catalog.log('main', { limit: 21 })
      expect(
        history
          .map((c) => c.hash)
          .slice(0, 20)
          .sort(),
      ).toEqual(commits.map((c) => c.hash).sort())
      expect(history[20]?.hash).toBe(before.head)
      for (let i = 0; i < 20; i++) {
        expect(history[i]?.parents).toEqual([history[i + 1]?.hash])
        // each commit changed exactly its own table
        expect((await catalog.diffCommit(history[i] as (typeof history)[number])).tables.added).toHaveLength(
          1,
        )
      }
      const state = await catalog.state('main')
      for (let i = 0; i < 20; i++) expect(state.tables[`tarn.g${i}`]).toEqual(tableState(i))
      const reflog = (await backend.reflog('main')).slice(1)
      expect(reflog).toHaveLength(20)
      expect(reflog[0]?.oldHead).toBe(before.head)
      for (let i = 1; i < reflog.length; i++) expect(reflog[i]?.oldHead).toBe(reflog[i - 1]?.newHead)
      expect(reflog.at(-1)?.newHead).toBe(head.head)
    })

    it('fails only the requests of a group that fail their checks, and refuses all but one stale write to a table', async () => {
      const base = await catalog.getBranch('main')
      const stale = (n: number) =>
        catalog.commit({
          branch: 'main',
          changes: [{ type: 'putTable', key: 'shared', state: tableState(n) }],
          message: `stale ${n}`,
          expectedHead: base.head,
        })
      const results = await Promise.allSettled([
        put('main', 'ok1', 1),
        catalog.commit({ branch: 'main', changes: [{ type: 'dropTable', key: 'missing' }], message: 'bad' }),
        stale(1),
        stale(2),
        stale(3),
        put('main', 'ok2', 2),
      ])
      expect(results.map((r) => r.status)).toEqual([
        'fulfilled',
        'rejected',
        'fulfilled',
        'rejected',
        'rejected',
        'fulfilled',
      ])
      const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as TarnError).code : 'ok'))
      expect(codes).toEqual([
        'ok',
        'TABLE_NOT_FOUND',
        'ok',
        'BRANCH_HEAD_CHANGED',
        'BRANCH_HEAD_CHANGED',
        'ok',
      ])
      const state = await catalog.state('main')
      expect(state.tables['tarn.shared']).toEqual(tableState(1))
      expect(Object.keys(state.tables).sort()).toEqual(['tarn.ok1', 'tarn.ok2', 'tarn.shared'])
      expect((await catalog.log('main')).length).toBe(4)
    })

    it('stores a chain of commits with one branch update only when the branch is still at the expected head', async () => {
      const root = await catalog.getBranch('main')
      const mk = (parent: Commit, message: string) =>
        makeCommit(
          {
            parents: [parent.hash],
            tree: parent.tree,
            overlay: parent.overlay,
            author: 't',
            message,
            timestamp: 5,
            properties: {},
          },
          parent.generation + 1,
        )
      const a = mk(await catalog.getCommit(root.head), 'a')
      await backend.putCommits([a], [])
      const b = mk(a, 'b')
      const c = mk(b, 'c')
      const stale = {
        name: 'main',
        expectedHead: a.hash,
        newHead: c.hash,
        chain: [b, c],
        at: 6,
        operation: 'commit',
      }
      expect(await backend.updateBranch(stale)).toBe('moved')
      expect((await backend.getCommits([b.hash, c.hash])).size).toBe(0)
      expect(await backend.updateBranch({ ...stale, expectedHead: root.head, chain: [a, b, c] })).toBe('ok')
      expect((await catalog.log('main')).map((x) => x.message)).toEqual(['c', 'b', 'a', 'Initialize lake'])
      const moves = (await backend.reflog('main')).slice(1).map((l) => [l.oldHead, l.newHead])
      expect(moves).toEqual([
        [root.head, a.hash],
        [a.hash, b.hash],
        [b.hash, c.hash],
      ])
      await catalog.sealBranch('main')
      const d = mk(c, 'd')
      expect(
        await backend.updateBranch({ ...stale, expectedHead: c.hash, newHead: d.hash, chain: [d] }),
      ).toBe('sealed')
      expect(await backend.updateBranch({ ...stale, name: 'nope' })).toBe('missing')
    })

    it('finds the merge base of diverged branches', async () => {
      const fork = await put('main', 'a', 1)
      await catalog.createBranch('x', { from: 'main' })
      await put('x', 'b', 1)
      await put('main', 'c', 1)
      expect((await catalog.mergeBase('x', 'main'))?.hash).toBe(fork.hash)
    })

    it('keeps a protected branch to merges: no direct commit, revert, delete or rename until unprotected', async () => {
      await catalog.createBranch('dev', { from: 'main' })
      const first = await put('main', 'a', 1)
      await catalog.protectBranch('main')
      await catalog.protectBranch('main')
      expect(await catalog.protectedBranches()).toEqual(['main'])
      const head = (await catalog.getBranch('main')).head
      const e = await errorOf(put('main', 'b', 1))
      expect(e.code).toBe('BRANCH_PROTECTED')
      expect(e.context).toMatchObject({ branch: 'main', reason: 'protected' })
      expect(await codeOf(catalog.revert(first.hash, { on: 'main' }))).toBe('BRANCH_PROTECTED')
      await catalog.protectBranch('dev')
      expect(await codeOf(catalog.deleteBranch('dev'))).toBe('BRANCH_PROTECTED')
      expect(await codeOf(catalog.renameBranch('dev', 'dev2'))).toBe('BRANCH_PROTECTED')
      await catalog.unprotectBranch('dev')
      expect((await catalog.getBranch('main')).head).toBe(head)
      await put('dev', 'b', 1)
      expect((await catalog.merge('dev', { into: 'main' })).kind).toBe('merge')
      await catalog.unprotectBranch('main')
      expect(await catalog.protectedBranches()).toEqual([])
      await put('main', 'c', 1)
      expect(await codeOf(catalog.protectBranch('nope'))).toBe('BRANCH_NOT_FOUND')
    })
  })
}
