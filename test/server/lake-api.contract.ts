import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import type { LakeApi } from '../../src/index.js'
import type { NodeRecord } from '../../src/lake/lake-types.js'
import { codeOf, errorOf } from '../helpers/errors.js'

/** A pipeline project in a new directory. */
function project(files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-contract-project-'))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}

/** A lake under test: the API, a scratch directory for source files, and a way to release both. */
export interface LakeApiFixture {
  readonly api: LakeApi
  readonly dir: string
  close(): Promise<void>
}

/**
 * The behaviour every `LakeApi` must show, run once per implementation (the embedded `Lake` and `RemoteLake` over a
 * real server): the same results and the same error codes.
 */
export function describeLakeApiContract(name: string, open: () => Promise<LakeApiFixture>): void {
  describe(`LakeApi contract: ${name}`, () => {
    let lake: LakeApi
    let dir: string

    beforeEach(async (t) => {
      const f = await open()
      lake = f.api
      dir = f.dir
      t.onTestFinished(() => f.close())
      writeFileSync(join(dir, 'orders.csv'), 'id,name,amount\n1,a,10.5\n2,b,3\n3,c,7\n')
      writeFileSync(join(dir, 'more.csv'), 'id,name,amount\n4,d,1.25\n')
    })

    it('creates, lists, reads, renames and deletes branches whose names hold dots and slashes', async () => {
      const created = await lake.createBranch('alice.dev', { from: 'main' })
      await lake.createBranch('feature/x', { from: 'alice.dev' })
      expect((await lake.listBranches()).map((b) => b.name)).toEqual(['alice.dev', 'feature/x', 'main'])
      const got = await lake.getBranch('feature/x')
      expect(got.head).toBe(created.head)
      expect(got.commit.hash).toBe(created.head)
      expect(got.commit.message).toBe('Initialize lake')
      const renamed = await lake.renameBranch('feature/x', 'feature/y.z')
      expect(renamed.name).toBe('feature/y.z')
      expect((await lake.deleteBranch('feature/y.z')).name).toBe('feature/y.z')
      expect((await lake.listBranches()).map((b) => b.name)).toEqual(['alice.dev', 'main'])
      expect(await codeOf(lake.getBranch('feature/y.z'))).toBe('BRANCH_NOT_FOUND')
      expect(await codeOf(lake.createBranch('alice.dev'))).toBe('BRANCH_EXISTS')
      expect(await codeOf(lake.createBranch('-bad'))).toBe('INVALID_NAME')
      expect(await codeOf(lake.deleteBranch('main'))).toBe('BRANCH_PROTECTED')
      const info = await lake.info()
      expect(info.activeBranch).toBe('main')
      expect(info.branches).toBe(2)
    })

    it('creates, lists and deletes tags, and refuses writes to them', async () => {
      const tag = await lake.createTag('v1', { from: 'main' })
      expect(tag.kind).toBe('tag')
      expect((await lake.listTags()).map((t) => t.name)).toEqual(['v1'])
      expect(await codeOf(lake.createTag('v1'))).toBe('TAG_EXISTS')
      expect(await codeOf(lake.createNamespace('sales', { branch: 'v1' }))).toBe('NOT_A_BRANCH')
      expect((await lake.deleteTag('v1')).name).toBe('v1')
      expect(await codeOf(lake.deleteTag('v1'))).toBe('TAG_NOT_FOUND')
    })

    it('records namespace commits in the log, diffs branches and reads back in time', async () => {
      await lake.createBranch('alice.dev', { from: 'main' })
      const c = await lake.createNamespace('sales', { branch: 'alice.dev', properties: { owner: 'ops' } })
      const log = await lake.log('alice.dev', { limit: 5 })
      expect(log.map((x) => x.message)).toEqual(['Create namespace sales', 'Initialize lake'])
      expect(log[0]?.hash).toBe(c.hash)
      expect((await lake.log('alice.dev', { message: 'namespace' })).map((x) => x.hash)).toEqual([c.hash])
      expect((await lake.log('alice.dev~1')).length).toBe(1)
      const d = await lake.diff('alice.dev', 'main')
      expect(d.namespaces.added).toEqual([{ namespace: 'sales', state: { properties: { owner: 'ops' } } }])
      expect(d.to.hash).toBe(c.hash)
      const nss = await lake.listNamespaces({ ref: 'alice.dev' })
      expect(nss.map((n) => n.namespace).sort()).toEqual(['sales', 'tarn'])
      expect((await lake.listNamespaces({ ref: 'alice.dev~1' })).map((n) => n.namespace)).toEqual(['tarn'])
      expect(await codeOf(lake.createNamespace('sales', { branch: 'alice.dev' }))).toBe('NAMESPACE_EXISTS')
      const dropped = await lake.dropNamespace('sales', { branch: 'alice.dev', message: 'no more sales' })
      expect(dropped.parents).toEqual([c.hash])
      expect(dropped.message).toBe('no more sales')
      const twoWay = await lake.diff('main', 'alice.dev', { twoWay: true })
      expect(twoWay.namespaces.added).toEqual([])
      expect(twoWay.tableChanges).toEqual([])
      expect(await codeOf(lake.log('nope'))).toBe('REF_NOT_FOUND')
      expect(await codeOf(lake.log('main~5'))).toBe('REF_NOT_FOUND')
    })

    it('merges by fast-forward, shows a dry run, and reports a conflict with MERGE_CONFLICT naming the table', async () => {
      await lake.createBranch('a', { from: 'main' })
      await lake.createBranch('b', { from: 'main' })
      await lake.createNamespace('sales', { branch: 'a' })
      const dry = await lake.merge('a', { into: 'main', dryRun: true })
      expect(dry.kind).toBe('fast-forward')
      expect(dry.dryRun).toBe(true)
      expect((await lake.getBranch('main')).commit.message).toBe('Initialize lake')
      const ff = await lake.merge('a', { into: 'main' })
      expect(ff.kind).toBe('fast-forward')
      expect((await lake.getBranch('main')).head).toBe(ff.source.hash)
      await lake.createTable('orders', { from: join(dir, 'orders.csv'), branch: 'a' })
      await lake.createTable('orders', { from: join(dir, 'more.csv'), branch: 'b' })
      await lake.merge('a', { into: 'main', message: 'land a' })
      const plan = await lake.merge('b', { into: 'main', dryRun: true })
      expect(plan.kind).toBe('conflict')
      expect(plan.conflicts.map((x) => x.name)).toEqual(['tarn.orders'])
      const e = await errorOf(lake.merge('b', { into: 'main' }))
      expect(e.code).toBe('MERGE_CONFLICT')
      expect(e.context.tables).toEqual(['tarn.orders'])
      expect(await codeOf(lake.merge('nope', { into: 'main' }))).toBe('REF_NOT_FOUND')
    })

    it('reverts a commit with a new commit and says when there is nothing left to undo', async () => {
      const c = await lake.createNamespace('sales', { branch: 'main' })
      const r = await lake.revert(c.hash, { on: 'main' })
      expect(r.reverted).toBe(c.hash)
      expect(r.namespaces).toEqual(['sales'])
      expect(r.commit.properties['tarn.revert_of']).toBe(c.hash)
      expect((await lake.listNamespaces({ ref: 'main' })).map((n) => n.namespace)).toEqual(['tarn'])
      expect(await codeOf(lake.revert(c.hash, { on: 'main' }))).toBe('NOTHING_TO_COMMIT')
    })

    it('creates a table from a CSV file, imports more, describes, lists and drops it', async () => {
      const created = await lake.createTable('orders', { from: join(dir, 'orders.csv'), branch: 'main' })
      expect(created.addedRecords).toBe(3)
      expect(created.table).toBe('tarn.orders')
      expect(created.commit.properties['tarn.operation']).toBe('create-table')
      const imported = await lake.importTable('orders', { from: join(dir, 'more.csv'), branch: 'main' })
      expect(imported.addedRecords).toBe(1)
      expect(await codeOf(lake.importTable('orders', { from: join(dir, 'more.csv') }))).toBe(
        'ALREADY_IMPORTED',
      )
      const d = await lake.getTable('orders', { ref: 'main' })
      expect(d.recordCount).toBe(4)
      expect(d.schema.map((f) => [f.name, f.type])).toEqual([
        ['id', 'long'],
        ['name', 'string'],
        ['amount', 'double'],
      ])
      expect((await lake.getTable('orders', { ref: 'main~1' })).recordCount).toBe(3)
      expect((await lake.listTables({ ref: 'main' })).map((t) => t.table)).toEqual(['tarn.orders'])
      expect(await codeOf(lake.createTable('orders', { from: join(dir, 'orders.csv') }))).toBe('TABLE_EXISTS')
      const drop = await lake.dropTable('orders', { branch: 'main' })
      expect(drop.message).toBe('Drop table tarn.orders')
      expect(await codeOf(lake.getTable('orders'))).toBe('TABLE_NOT_FOUND')
      expect(await codeOf(lake.createTable('t2', { from: join(dir, 'missing-*.csv') }))).toBe(
        (await errorOf(lake.createTable('t3', { from: join(dir, 'missing-*.csv') }))).code,
      )
    })

    it('answers queries as Arrow at any ref, streams batches and explains the scan', async () => {
      await lake.createTable('orders', { from: join(dir, 'orders.csv'), branch: 'main' })
      await lake.createTag('v1', { from: 'main' })
      await lake.importTable('orders', { from: join(dir, 'more.csv'), branch: 'main' })
      const head = (await lake.getBranch('main')).head
      const r = await lake.query('SELECT id, name FROM orders ORDER BY id', { ref: 'main' })
      expect(r.plan.commit).toBe(head)
      expect(r.table.schema.fields.map((f) => f.name)).toEqual(['id', 'name'])
      expect(r.rows()).toEqual([
        { id: 1n, name: 'a' },
        { id: 2n, name: 'b' },
        { id: 3n, name: 'c' },
        { id: 4n, name: 'd' },
      ])
      const old = await lake.query('SELECT count(*) AS n FROM orders', { ref: 'v1' })
      expect(old.rows()).toEqual([{ n: 3n }])
      const stream = await lake.stream('SELECT id FROM orders ORDER BY id', { ref: 'main', batchRows: 1 })
      const ids: bigint[] = []
      for await (const b of stream) ids.push(...(b.getChild('id')?.toArray() ?? []))
      expect(ids).toEqual([1n, 2n, 3n, 4n])
      const plan = await lake.explain('SELECT * FROM orders WHERE id > 2', { ref: 'main' })
      expect(plan.tables.map((t) => t.table)).toEqual(['tarn.orders'])
      expect(plan.commit).toBe(head)
      const empty = await lake.query('SELECT * FROM orders WHERE id > 100', { ref: 'main' })
      expect(empty.numRows).toBe(0)
      expect(empty.table.schema.fields.map((f) => f.name)).toEqual(['id', 'name', 'amount'])
      expect(await codeOf(lake.query('SELECT * FROM nope', { ref: 'main' }))).toBe(
        await codeOf(lake.explain('SELECT * FROM nope', { ref: 'main' })),
      )
      expect(await codeOf(lake.query('DELETE FROM orders', { ref: 'main' }))).not.toBe('INTERNAL')
    })

    it('keeps a protected branch to merges only', async () => {
      await lake.createBranch('dev', { from: 'main' })
      await lake.protectBranch('main')
      expect(await lake.protectedBranches()).toEqual(['main'])
      const e = await errorOf(lake.createNamespace('sales', { branch: 'main' }))
      expect(e.code).toBe('BRANCH_PROTECTED')
      expect(e.context.reason).toBe('protected')
      await lake.createNamespace('sales', { branch: 'dev' })
      expect((await lake.merge('dev', { into: 'main' })).kind).toBe('fast-forward')
      await lake.unprotectBranch('main')
      expect(await lake.protectedBranches()).toEqual([])
      await lake.createNamespace('ops', { branch: 'main' })
    })

    it('lists no jobs in a new lake and names a missing job', async () => {
      expect(await lake.listJobs()).toEqual([])
      expect(await codeOf(lake.getJob('job-0123456789ab'))).toBe('JOB_NOT_FOUND')
      const report = await lake.gc({ olderThanMs: 0, dryRun: true })
      expect(report.dryRun).toBe(true)
      expect(report.deleted).toBe(0)
    })

    it('runs a project as one transaction, reports progress, reruns it and keeps its code', async () => {
      await lake.createTable('orders', { from: join(dir, 'orders.csv'), branch: 'main' })
      const dirOf = project({
        'tarn_project.yml': 'name: shop\nnamespace: tarn\n',
        'models/big_orders.sql':
          '-- tarn: materialize=REPLACE\nSELECT id, amount FROM orders WHERE amount > $min\n',
        'tarn_params.yml': '',
      })
      writeFileSync(
        join(dirOf, 'tarn_project.yml'),
        'name: shop\nnamespace: tarn\nparameters:\n  min:\n    type: number\n    default: 5\n',
      )
      const plan = await lake.plan({ dir: dirOf, ref: 'main' })
      expect(plan.physical.steps.some((st) => st.id.endsWith('big_orders'))).toBe(true)
      expect(plan.warnings.every((w) => typeof w.code === 'string')).toBe(true)
      const events: string[] = []
      const nodes: NodeRecord[] = []
      const { job } = await lake.run({
        dir: dirOf,
        branch: 'main',
        params: { min: '4' },
        observer: {
          planned: (p, j) => events.push(`planned ${p.project} ${j.target}`),
          node: (n) => {
            nodes.push(n)
          },
          finished: (j) => events.push(`finished ${j.status}`),
        },
      })
      expect(job.status).toBe('succeeded')
      expect(events).toEqual(['planned shop main', 'finished succeeded'])
      expect(nodes.some((n) => n.id.endsWith('big_orders') && n.status === 'done')).toBe(true)
      expect(job.tables).toEqual({ 'tarn.big_orders': 2 })
      expect((await lake.getBranch('main')).head).toBe(job.mergeCommit)
      const ids = await lake.query('SELECT id FROM big_orders ORDER BY id', { ref: 'main' })
      expect(ids.rows()).toEqual([{ id: 1n }, { id: 3n }])
      expect((await lake.getJob(job.id)).status).toBe('succeeded')
      expect((await lake.getAnyJob(job.id)).kind).toBe('run')
      expect((await lake.listAllJobs({ status: 'succeeded' })).map((j) => j.id)).toContain(job.id)
      expect(Object.keys(await lake.jobCode(job.id)).sort()).toEqual([
        'models/big_orders.sql',
        'tarn_params.yml',
        'tarn_project.yml',
      ])
      const out = join(mkdtempSync(join(tmpdir(), 'tarn-contract-code-')), 'code')
      expect(await lake.exportJobCode(job.id, out)).toContain('models/big_orders.sql')
      expect(readFileSync(join(out, 'models/big_orders.sql'), 'utf8')).toContain('$min')
      expect(await codeOf(lake.exportJobCode(job.id, out))).toBe('INVALID_ARGUMENT')

      await lake.importTable('orders', { from: join(dir, 'more.csv'), branch: 'main' })
      const again = await lake.rerun(job.id, { ref: 'main' })
      expect(again.job.rerunOf).toBe(job.id)
      expect(again.job.tables).toEqual({ 'tarn.big_orders': 2 })
      expect(await codeOf(lake.rerun('job-0123456789ab'))).toBe('JOB_NOT_FOUND')
    })

    it('keeps the target untouched when a run fails, and seals its run branch', async () => {
      const head = (await lake.getBranch('main')).head
      const failing = project({
        'tarn_project.yml': 'name: broken\nnamespace: tarn\n',
        'boom.sql': "-- tarn: materialize=REPLACE\nSELECT error('boom') AS x\n",
      })
      const e = await errorOf(lake.run({ dir: failing, branch: 'main' }))
      expect(e.code).toBe('RUN_FAILED')
      expect((await lake.getBranch('main')).head).toBe(head)
      const sealed = await lake.deleteSealedBranches({ dryRun: true })
      expect(sealed.deleted.map((b) => b.name)).toEqual([`run/${String(e.context.job)}`])
      const bad = project({ 'tarn_project.yml': 'name: bad\n', 'x.sql': 'SELECT * FROM nowhere\n' })
      expect(await codeOf(lake.run({ dir: bad, branch: 'main' }))).toBe(
        await codeOf(lake.plan({ dir: bad, ref: 'main' })),
      )
      expect(await codeOf(lake.run({ dir: failing, branch: 'nope' }))).toBe('BRANCH_NOT_FOUND')
    })

    it('keeps an active branch of its own, prints and exports query results, and lists tables with stats', async () => {
      await lake.checkout('dev', { create: true })
      expect(lake.activeBranch()).toBe('dev')
      expect((await lake.info()).activeBranch).toBe('dev')
      await lake.createTable('orders', { from: join(dir, 'orders.csv') })
      expect((await lake.listTables()).map((t) => t.table)).toEqual(['tarn.orders'])
      expect(await lake.listTables({ ref: 'main' })).toEqual([])
      const [entry] = await lake.listTables({ stats: true })
      expect(entry?.stats?.rows).toBe(3)
      expect(await codeOf(lake.deleteBranch('dev'))).toBe('BRANCH_ACTIVE')
      let text = ''
      const sink = { out: (s: string) => (text += s) }
      await lake.printQuery('SELECT id, name FROM orders ORDER BY id', { format: 'csv', limit: 2 }, sink)
      expect(text).toBe('id,name\n1,a\n2,b\n')
      text = ''
      await lake.printQuery('SELECT id FROM orders ORDER BY id', { format: 'table', limit: 1 }, sink)
      expect(text).toContain('(more than 1 rows, 1 shown')
      const outDir = mkdtempSync(join(tmpdir(), 'tarn-contract-export-'))
      const r = await lake.exportQuery('SELECT id FROM orders ORDER BY id', {
        output: 'ids.csv',
        cwd: outDir,
      })
      expect(r.rows).toBe(3)
      expect(r.format).toBe('csv')
      expect(r.plan.ref).toBe('dev')
      expect(readFileSync(join(outDir, 'ids.csv'), 'utf8')).toBe('id\n1\n2\n3\n')
      expect(await codeOf(lake.exportQuery('SELECT 1', { output: 'ids.csv', cwd: outDir }))).toBe(
        'FILE_EXISTS',
      )
      const t = await lake.exportTable('orders', { output: join(outDir, 'orders.parquet') })
      expect(t.rows).toBe(3)
      const withDiff = await lake.log(undefined, { limit: 1, patch: true })
      expect(withDiff[0]?.diff.tableChanges.map((c) => c.table)).toEqual(['tarn.orders'])
      const last = withDiff[0]?.hash as string
      const plan = await lake.revert(last, { dryRun: true })
      expect(plan.reverted).toBe(last)
      expect((await lake.getBranch('dev')).head).toBe(last)
      await lake.checkout('main')
      expect((await lake.deleteBranch('dev')).name).toBe('dev')
    })
  })
}
