import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../../src/cli/io.js'
import { Lake, runCli } from '../../src/index.js'
import { ensureBuilt } from '../helpers/build.js'

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'tarn.js')

function tarn(home: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, TARN_HOME: home, TARN_USER: 'tester' },
    encoding: 'utf8',
  })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

async function inProcess(
  home: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIO({ TARN_HOME: home, TARN_USER: 'tester' })
  const code = await runCli(args, io)
  return { code, stdout: io.stdout(), stderr: io.stderr() }
}

describe('the tarn command line', () => {
  beforeAll(() => ensureBuilt())

  it('runs the foundation walkthrough end to end with JSON documents carrying hashes, names, messages and times', () => {
    const home = mkdtempSync(join(tmpdir(), 'tarn-cli-'))
    expect(tarn(home, 'init').code).toBe(0)
    expect(tarn(home, 'branch', 'create', 'alice.dev').code).toBe(0)
    expect(tarn(home, 'namespace', 'create', 'sales', '-b', 'alice.dev').code).toBe(0)
    const diff = tarn(home, 'branch', 'diff', 'alice.dev', 'main', '--json')
    expect(diff.code).toBe(0)
    const d = JSON.parse(diff.stdout)
    expect(d.namespaces.added.map((n: { namespace: string }) => n.namespace)).toEqual(['sales'])
    expect(d.to.hash).toMatch(/^[0-9a-f]{64}$/)
    expect(d.from.ref).toBe('main')
    const merge = tarn(home, 'branch', 'merge', 'alice.dev', '--into', 'main')
    expect(merge.code).toBe(0)
    expect(merge.stdout).toMatch(/Fast-forwarded main/)
    const log = tarn(home, 'log', 'main', '--json')
    const doc = JSON.parse(log.stdout)
    expect(doc.commits.map((c: { message: string }) => c.message)).toEqual([
      'Create namespace sales',
      'Initialize lake',
    ])
    expect(doc.commits[0].hash).toMatch(/^[0-9a-f]{64}$/)
    expect(Number.isNaN(Date.parse(doc.commits[0].timestamp))).toBe(false)
    expect(doc.commits[0].author).toBe('tester')
  })

  it('says how to create a lake when there is none, with exit code 3', () => {
    const home = mkdtempSync(join(tmpdir(), 'tarn-cli-'))
    const r = tarn(home, 'branch', 'ls', '--json')
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/tarn init/)
    expect(JSON.parse(r.stdout).error.code).toBe('LAKE_NOT_FOUND')
  })

  it('maps errors to exit codes: 2 usage, 3 not found, 4 conflict', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tarn-cli-'))
    await inProcess(home, 'init')
    expect((await inProcess(home, 'frobnicate')).code).toBe(2)
    expect((await inProcess(home, 'branch', 'create', '-bad')).code).toBe(2)
    const bad = await inProcess(home, 'branch', 'create', 'a..b', '--json')
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.stdout)).toEqual({
      error: { code: 'INVALID_NAME', message: expect.stringContaining('..'), context: { branch: 'a..b' } },
    })
    expect((await inProcess(home, 'branch', 'get', 'nope')).code).toBe(3)
    expect((await inProcess(home, 'log', 'main~9')).code).toBe(3)
    await inProcess(home, 'branch', 'create', 'x')
    expect((await inProcess(home, 'branch', 'create', 'x')).code).toBe(4)
  })

  it('keeps the active branch per lake and uses it as the default for writes and reads', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tarn-cli-'))
    await inProcess(home, 'init')
    expect((await inProcess(home, 'checkout', '-b', 'dev')).code).toBe(0)
    await inProcess(home, 'namespace', 'create', 'sales')
    const info = JSON.parse((await inProcess(home, 'info', '--json')).stdout)
    expect(info.activeBranch).toBe('dev')
    expect(info.catalog.backend).toBe('sqlite')
    const onDev = JSON.parse((await inProcess(home, 'namespace', 'ls', '--json')).stdout)
    expect(onDev.namespaces.map((n: { namespace: string }) => n.namespace)).toEqual(['sales', 'tarn'])
    const onMain = JSON.parse((await inProcess(home, 'namespace', 'ls', '-r', 'main', '--json')).stdout)
    expect(onMain.namespaces.map((n: { namespace: string }) => n.namespace)).toEqual(['tarn'])
    const branches = JSON.parse((await inProcess(home, 'branch', 'ls', '--json')).stdout).branches
    expect(branches.find((b: { name: string; active: boolean }) => b.active).name).toBe('dev')
  })

  it('fails a dry-run merge that would conflict with exit code 4, naming the table, and moves nothing', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tarn-cli-'))
    const lake = await Lake.init({ home })
    const state = (n: number) => ({
      metadataLocation: `file:///x/v${n}.json`,
      snapshotId: String(n),
      schemaId: 0,
      tableUuid: 'u',
    })
    await lake.createBranch('a')
    await lake.catalog.commit({
      branch: 'a',
      changes: [{ type: 'putTable', key: 'orders', state: state(1) }],
      message: 'a',
    })
    await lake.catalog.commit({
      branch: 'main',
      changes: [{ type: 'putTable', key: 'orders', state: state(2) }],
      message: 'm',
    })
    const before = (await lake.getBranch('main')).head
    await lake.close()
    const r = await inProcess(home, 'branch', 'merge', 'a', '--into', 'main', '--dry-run', '--json')
    expect(r.code).toBe(4)
    const doc = JSON.parse(r.stdout)
    expect(doc.error.code).toBe('MERGE_CONFLICT')
    expect(doc.error.context.tables).toEqual(['tarn.orders'])
    const real = await inProcess(home, 'branch', 'merge', 'a', '--into', 'main')
    expect(real.code).toBe(4)
    expect(real.stderr).toContain('tarn.orders')
    const after = JSON.parse((await inProcess(home, 'branch', 'get', 'main', '--json')).stdout).branch.hash
    expect(after).toBe(before)
  })

  it('reverts a commit and tags and logs with filters', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tarn-cli-'))
    await inProcess(home, 'init')
    const created = JSON.parse((await inProcess(home, 'namespace', 'create', 'sales', '--json')).stdout)
    expect((await inProcess(home, 'tag', 'create', 'v1')).code).toBe(0)
    const r = await inProcess(home, 'revert', created.commit.hash, '--json')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).namespaces).toEqual(['sales'])
    const ns = JSON.parse((await inProcess(home, 'namespace', 'ls', '--json')).stdout)
    expect(ns.namespaces.map((n: { namespace: string }) => n.namespace)).toEqual(['tarn'])
    const atTag = JSON.parse((await inProcess(home, 'namespace', 'ls', '-r', 'v1', '--json')).stdout)
    expect(atTag.namespaces.map((n: { namespace: string }) => n.namespace)).toEqual(['sales', 'tarn'])
    const log = JSON.parse((await inProcess(home, 'log', '--message', 'revert', '--json')).stdout)
    expect(log.commits).toHaveLength(1)
    expect(JSON.parse((await inProcess(home, 'tag', 'ls', '--json')).stdout).tags[0].name).toBe('v1')
  })

  it('creates, imports, inspects and drops tables from the command line with --json', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tarn-cli-'))
    const { writeFileSync } = await import('node:fs')
    writeFileSync(join(home, 'a.csv'), 'id,region\n1,eu\n2,us\n')
    writeFileSync(join(home, 'b.csv'), 'id,region\n3,eu\n')
    writeFileSync(join(home, 'bad.csv'), 'id,region\nx,eu\n')
    await inProcess(home, 'init')
    const created = await inProcess(
      home,
      'table',
      'create',
      'sales',
      '--from',
      join(home, 'a.csv'),
      '--partitioned-by',
      'region',
      '--json',
    )
    expect(created.code).toBe(0)
    expect(JSON.parse(created.stdout)).toMatchObject({ table: 'tarn.sales', addedRecords: 2 })
    expect((await inProcess(home, 'table', 'import', 'sales', '--from', join(home, 'b.csv'))).code).toBe(0)
    const again = await inProcess(home, 'table', 'import', 'sales', '--from', join(home, 'b.csv'), '--json')
    expect(again.code).toBe(4)
    expect(JSON.parse(again.stdout).error.code).toBe('ALREADY_IMPORTED')
    const bad = await inProcess(home, 'table', 'import', 'sales', '--from', join(home, 'bad.csv'), '--json')
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.stdout).error.context).toMatchObject({ column: 'id' })
    const got = JSON.parse((await inProcess(home, 'table', 'get', 'sales', '--json')).stdout)
    expect(got).toMatchObject({
      table: 'tarn.sales',
      recordCount: 3,
      partitionSpec: [{ sourceColumn: 'region' }],
    })
    expect(got.snapshots).toHaveLength(2)
    const replaced = await inProcess(
      home,
      'table',
      'import',
      'sales',
      '--from',
      join(home, 'b.csv'),
      '--replace',
    )
    expect(replaced.code).toBe(0)
    expect(replaced.stdout).toMatch(/Replaced the rows of tarn\.sales on main with 1 rows/)
    const after = JSON.parse((await inProcess(home, 'table', 'get', 'sales', '--json')).stdout)
    expect(after).toMatchObject({ recordCount: 1 })
    expect(after.snapshots).toHaveLength(3)
    const ls = JSON.parse((await inProcess(home, 'table', 'ls', '--json')).stdout)
    expect(ls.tables.map((t: { table: string }) => t.table)).toEqual(['tarn.sales'])
    expect((await inProcess(home, 'table', 'rm', 'sales')).code).toBe(0)
    expect((await inProcess(home, 'table', 'get', 'sales')).code).toBe(3)
    expect((await inProcess(home, 'table', 'get', 'sales', '-r', 'main~2', '--json')).code).toBe(0)
  })

  it('runs a SQL pipeline on the active branch and previews the head and tail of what it wrote', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tarn-cli-'))
    const { mkdirSync, writeFileSync } = await import('node:fs')
    const project = join(home, 'project')
    mkdirSync(project)
    writeFileSync(join(project, 'tarn_project.yml'), 'name: tiny\nnamespace: tarn\n')
    writeFileSync(
      join(project, 'doubled.sql'),
      '-- tarn: materialize=REPLACE\nSELECT id, id * 2 AS twice FROM nums ORDER BY id\n',
    )
    const rows = Array.from({ length: 12 }, (_, i) => String(i + 1)).join('\n')
    writeFileSync(join(home, 'nums.csv'), `id\n${rows}\n`)
    await inProcess(home, 'init')
    await inProcess(home, 'table', 'create', 'nums', '--from', join(home, 'nums.csv'))
    const head = await inProcess(home, 'run', '-p', project, '--preview', 'head')
    expect(head.code).toBe(0)
    expect(head.stdout).toContain('tarn.doubled (head, 5 of 12 rows)')
    expect(head.stdout).toMatch(/\n1\s+2\n/)
    const tail = await inProcess(home, 'run', '-p', project, '--preview', 'tail')
    expect(tail.stdout).toContain('tarn.doubled (tail, 5 of 12 rows)')
    expect(tail.stdout).toMatch(/\n12\s+24\n/)
    const jobs = JSON.parse((await inProcess(home, 'job', 'ls', '--json')).stdout)
    const bad = await inProcess(home, 'run', '-p', project, '--preview', 'middle')
    expect(bad.code).toBe(2)
    expect(JSON.parse((await inProcess(home, 'job', 'ls', '--json')).stdout)).toEqual(jobs)
  })
})
