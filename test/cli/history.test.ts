import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryIO } from '../../src/cli/io.js'
import { Lake, runCli } from '../../src/index.js'

async function tarn(
  home: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIO({ TARN_HOME: home, TARN_USER: 'tester' })
  const code = await runCli(args, io)
  return { code, stdout: io.stdout(), stderr: io.stderr() }
}

async function json<T = Record<string, unknown>>(home: string, ...args: string[]): Promise<T> {
  const r = await tarn(home, ...args, '--json')
  if (r.code !== 0) throw new Error(`tarn ${args.join(' ')} failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}

/** A fresh lake home and a writer of JSON-lines files with one row per marker. */
async function lakeHome(): Promise<{ home: string; file: (...markers: string[]) => string }> {
  const home = mkdtempSync(join(tmpdir(), 'tarn-cli-history-'))
  let n = 0
  const file = (...markers: string[]): string => {
    const p = join(home, `f${n++}.jsonl`)
    writeFileSync(p, markers.map((m) => `${JSON.stringify({ marker: m })}\n`).join(''))
    return p
  }
  expect((await tarn(home, 'init')).code).toBe(0)
  return { home, file }
}

interface LogDoc {
  commits: {
    hash: string
    message: string
    parents: string[]
    diff?: { tableChanges: { table: string }[] }
  }[]
}

describe('tarn branch diff', () => {
  it('reproduces the issue: after b was merged into main and main changed customers, `diff b main` shows nothing on b', async () => {
    const { home, file } = await lakeHome()
    await tarn(home, 'table', 'create', 'orders', '--from', file('o-base'))
    await tarn(home, 'table', 'create', 'customers', '--from', file('c-base'))
    await tarn(home, 'branch', 'create', 'b')
    await tarn(home, 'table', 'import', 'orders', '--from', file('o-b1', 'o-b2'), '-b', 'b')
    await tarn(home, 'table', 'import', 'orders', '--from', file('o-main'), '-b', 'main')
    expect((await tarn(home, 'branch', 'merge', 'b', '--into', 'main')).code).toBe(0)
    await tarn(home, 'table', 'import', 'customers', '--from', file('c-main'), '-b', 'main')

    // three-dot (default): b changed nothing since its merge base with main (b's head, which main contains)
    const threeDot = await tarn(home, 'branch', 'diff', 'b', 'main')
    expect(threeDot.code).toBe(0)
    expect(threeDot.stdout).toMatch(
      /^diff main\.\.\.b: changes on b \([0-9a-f]{12}\) since its merge base with main/,
    )
    expect(threeDot.stdout.trim().split('\n').slice(1)).toEqual(['no differences'])

    // the other way: what main changed since then, table by table, with files and rows
    const other = await tarn(home, 'branch', 'diff', 'main', 'b')
    expect(other.stdout.trim().split('\n').slice(1)).toEqual([
      expect.stringMatching(/^~ table tarn\.customers {2}snapshot \d+ -> \d+$/),
      '    files: +1 data file (+1 row)',
      expect.stringMatching(/^~ table tarn\.orders {2}snapshot \d+ -> \d+$/),
      '    files: +1 data file (+1 row)',
    ])

    // two-way: the plain state comparison lists both tables, as the issue saw
    const twoWay = await json<{ mode: string; tableChanges: { table: string; records: unknown }[] }>(
      home,
      'branch',
      'diff',
      'b',
      'main',
      '--two-way',
    )
    expect(twoWay.mode).toBe('two-way')
    expect(twoWay.tableChanges.map((t) => [t.table, t.records])).toEqual([
      ['tarn.customers', { added: 0, removed: 1 }],
      ['tarn.orders', { added: 0, removed: 1 }],
    ])
    const twoWayText = await tarn(home, 'branch', 'diff', 'b', 'main', '--two-way')
    expect(twoWayText.stdout).toMatch(
      /^diff main\.\.b: b \([0-9a-f]{12}\) compared with main \([0-9a-f]{12}\)\n/,
    )

    // --rows reads the rows of the added and removed files
    const rows = await tarn(home, 'branch', 'diff', 'main', 'b', '--rows', '5')
    expect(rows.stdout).toContain('    rows added (1 of 1):\n      + {"marker":"c-main"}')
    expect(rows.stdout).toContain('      + {"marker":"o-main"}')
    expect((await tarn(home, 'branch', 'diff', 'main', 'b', '--rows', 'x')).code).toBe(2)
  })
})

describe('tarn log', () => {
  it('lists newest first, -n limits, --first-parent skips merged-in commits, -p shows each commit against its parent', async () => {
    const { home, file } = await lakeHome()
    await tarn(home, 'table', 'create', 'orders', '--from', file('a'), '-m', 'create orders')
    await tarn(home, 'branch', 'create', 'dev')
    await tarn(home, 'table', 'import', 'orders', '--from', file('d1', 'd2'), '-b', 'dev', '-m', 'dev rows')
    await tarn(home, 'namespace', 'create', 'sales', '-m', 'sales on main')
    await tarn(home, 'branch', 'merge', 'dev', '--into', 'main', '-m', 'land dev')
    const all = await json<LogDoc>(home, 'log')
    expect(all.commits.map((c) => c.message)).toEqual([
      'land dev',
      'sales on main',
      'dev rows',
      'create orders',
      'Initialize lake',
    ])
    expect((await json<LogDoc>(home, 'log', '-n', '2')).commits.map((c) => c.message)).toEqual([
      'land dev',
      'sales on main',
    ])
    const mainline = await json<LogDoc>(home, 'log', '--first-parent')
    expect(mainline.commits.map((c) => c.message)).toEqual([
      'land dev',
      'sales on main',
      'create orders',
      'Initialize lake',
    ])
    const patch = await json<LogDoc>(home, 'log', '-p', '-n', '1')
    expect(patch.commits[0]?.diff?.tableChanges.map((t) => t.table)).toEqual(['tarn.orders'])
    const text = await tarn(home, 'log', '-p', '-n', '2')
    expect(text.stdout.split('\n')).toEqual([
      expect.stringMatching(/^[0-9a-f]{12} {2}\S+ {2}tester {2}land dev \(merge\)$/),
      expect.stringMatching(/^ {4}~ table tarn\.orders/),
      '        files: +1 data file (+2 rows)',
      '',
      expect.stringMatching(/^[0-9a-f]{12} {2}\S+ {2}tester {2}sales on main$/),
      '    + namespace sales',
      '',
    ])
  })
})

describe('tarn revert', () => {
  it('--dry-run says how each table would be undone and writes nothing; -m names the revert commit', async () => {
    const { home, file } = await lakeHome()
    await tarn(home, 'table', 'create', 'orders', '--from', file('a'))
    await tarn(home, 'table', 'import', 'orders', '--from', file('bad1', 'bad2'), '-m', 'bad import')
    await tarn(home, 'table', 'import', 'orders', '--from', file('good'))
    const bad = (await json<LogDoc>(home, 'log', '--message', 'bad import')).commits[0]?.hash as string
    const before = (await json<LogDoc>(home, 'log')).commits.length
    const dry = await tarn(home, 'revert', bad, '--dry-run')
    expect(dry.code).toBe(0)
    expect(dry.stdout).toMatch(/^Would revert [0-9a-f]{12} on main \(head [0-9a-f]{12}\):\n/)
    expect(dry.stdout).toContain(
      'remove the 1 data file(s) (2 rows) the commit appended to tarn.orders, keeping later appends',
    )
    const dryJson = await json<{ dryRun: boolean; steps: { action: string }[] }>(
      home,
      'revert',
      bad,
      '--dry-run',
    )
    expect(dryJson.dryRun).toBe(true)
    expect(dryJson.steps.map((s) => s.action)).toEqual(['remove-appended-files'])
    expect((await json<LogDoc>(home, 'log')).commits.length).toBe(before)
    expect((await tarn(home, 'revert', bad, '-m', 'drop the bad rows')).code).toBe(0)
    expect((await json<LogDoc>(home, 'log', '-n', '1')).commits[0]?.message).toBe('drop the bad rows')
  })
})

describe('messages on writes', () => {
  it('takes -m on table, namespace, run and rerun writes and records it as the commit message', async () => {
    const { home, file } = await lakeHome()
    await tarn(home, 'namespace', 'create', 'sales', '-m', 'm1')
    await tarn(home, 'table', 'create', 'sales.t', '--from', file('x'), '-m', 'm2')
    await tarn(home, 'table', 'import', 'sales.t', '--from', file('y'), '-m', 'm3')
    await tarn(home, 'table', 'rm', 'sales.t', '-m', 'm4')
    await tarn(home, 'namespace', 'rm', 'sales', '-m', 'm5')
    await tarn(home, 'table', 'create', 'nums', '--from', file('1'), '-m', 'm6')
    const project = join(home, 'project')
    mkdirSync(project)
    writeFileSync(join(project, 'tarn_project.yml'), 'name: tiny\nnamespace: tarn\n')
    writeFileSync(join(project, 'copy.sql'), '-- tarn: materialize=REPLACE\nSELECT marker FROM nums\n')
    expect((await tarn(home, 'run', '-p', project, '-m', 'm7')).code).toBe(0)
    const runJob = (await json<{ id: string; kind: string }[]>(home, 'job', 'ls')).find(
      (j) => j.kind === 'run',
    )
    expect((await tarn(home, 'rerun', runJob?.id as string, '-r', 'main', '-m', 'm8')).code).toBe(0)
    const log = await json<LogDoc>(home, 'log', '--first-parent', '-n', '8')
    expect(log.commits.map((c) => c.message)).toEqual(['m8', 'm7', 'm6', 'm5', 'm4', 'm3', 'm2', 'm1'])
  })
})

describe('the active branch', () => {
  it('refuses to delete it (exit 4, BRANCH_ACTIVE); --force deletes it and says main is active now', async () => {
    const { home } = await lakeHome()
    await tarn(home, 'checkout', '-b', 'dev')
    const refused = await tarn(home, 'branch', 'rm', 'dev', '--json')
    expect(refused.code).toBe(4)
    expect(JSON.parse(refused.stdout).error.code).toBe('BRANCH_ACTIVE')
    expect((await json<{ activeBranch: string }>(home, 'info')).activeBranch).toBe('dev')
    const forced = await tarn(home, 'branch', 'rm', 'dev', '--force')
    expect(forced.code).toBe(0)
    expect(forced.stderr).toContain('the active branch is now main')
    const after = await tarn(home, 'namespace', 'ls', '--json')
    expect(after.code).toBe(0)
    expect(after.stderr).toBe('')
    expect((await json<{ activeBranch: string }>(home, 'info')).activeBranch).toBe('main')
  })

  it('falls back to main with a notice when another process deleted it', async () => {
    const { home } = await lakeHome()
    await tarn(home, 'checkout', '-b', 'dev')
    const lake = await Lake.open({ home })
    await lake.catalog.deleteBranch('dev')
    await lake.close()
    const r = await tarn(home, 'namespace', 'ls', '--json')
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('notice: the active branch dev no longer exists; the active branch is now main\n')
    expect(JSON.parse(r.stdout).ref).toBe('main')
  })
})

describe('group commands alone', () => {
  it('list: tarn branch, tag, namespace, table and job alone are their ls', async () => {
    const { home, file } = await lakeHome()
    await tarn(home, 'table', 'create', 'orders', '--from', file('a'))
    await tarn(home, 'tag', 'create', 'v1')
    for (const group of ['branch', 'tag', 'namespace', 'table', 'job']) {
      const alone = await tarn(home, group, '--json')
      expect(alone.code, group).toBe(0)
      expect(alone.stdout, group).toBe((await tarn(home, group, 'ls', '--json')).stdout)
    }
    expect((await tarn(home, 'branch')).stdout).toMatch(/^\*\s+main\s/)
    expect((await tarn(home, 'tag')).stdout).toMatch(/^v1 /)
  })
})

describe('tarn job', () => {
  interface JobRow {
    id: string
    kind: string
    status: string
    target: string
    dataCommit: string | null
    table?: string | null
    sql?: string | null
    rows?: number | null
    durationMs: number | null
  }

  it('lists imports, queries and runs with kind, status and timings; filters by -n and --status; exports run code', async () => {
    const { home, file } = await lakeHome()
    await tarn(home, 'table', 'create', 'nums', '--from', file('a', 'b'))
    await tarn(home, 'table', 'import', 'nums', '--from', file('c'))
    expect((await tarn(home, 'query', 'SELECT count(*) FROM nums')).code).toBe(0)
    expect((await tarn(home, 'query', 'SELECT nope FROM nums')).code).not.toBe(0)
    const project = join(home, 'project')
    mkdirSync(project)
    writeFileSync(join(project, 'tarn_project.yml'), 'name: tiny\nnamespace: tarn\n')
    writeFileSync(join(project, 'copy.sql'), '-- tarn: materialize=REPLACE\nSELECT marker FROM nums\n')
    expect((await tarn(home, 'run', '-p', project)).code).toBe(0)

    const jobs = await json<JobRow[]>(home, 'job', 'ls')
    expect(jobs.map((j) => [j.kind, j.status])).toEqual([
      ['run', 'succeeded'],
      ['query', 'failed'],
      ['query', 'succeeded'],
      ['import', 'succeeded'],
      ['import', 'succeeded'],
    ])
    const [run, , query, imported] = jobs as [JobRow, JobRow, JobRow, JobRow]
    expect(imported).toMatchObject({ table: 'nums', rows: 1, target: 'main' })
    expect(imported.dataCommit).toMatch(/^[0-9a-f]{64}$/)
    expect(query).toMatchObject({ sql: 'SELECT count(*) FROM nums', target: 'main' })
    expect(query.durationMs).toBeGreaterThanOrEqual(0)
    expect((await json<JobRow[]>(home, 'job', 'ls', '-n', '2')).map((j) => j.id)).toEqual(
      jobs.slice(0, 2).map((j) => j.id),
    )
    const failed = await json<JobRow[]>(home, 'job', 'ls', '--status', 'failed')
    expect(failed.map((j) => j.kind)).toEqual(['query'])
    expect((await tarn(home, 'job', 'ls', '--status', 'broken')).code).toBe(2)
    const one = await json<{ kind: string; error: { code: string } | null }>(
      home,
      'job',
      'get',
      failed[0]?.id as string,
    )
    expect(one.kind).toBe('query')
    expect(one.error).not.toBeNull()
    const text = await tarn(home, 'job', 'ls')
    expect(text.stdout.split('\n')[0]).toMatch(/^JOB\s+KIND\s+STATUS/)

    const out = join(home, 'code-out')
    const code = await json<{ files: string[] }>(home, 'job', 'code', run.id, '--output', out)
    expect(code.files).toEqual(['copy.sql', 'tarn_project.yml'])
    const { readFileSync } = await import('node:fs')
    expect(readFileSync(join(out, 'copy.sql'), 'utf8')).toBe(
      '-- tarn: materialize=REPLACE\nSELECT marker FROM nums\n',
    )
    const again = await tarn(home, 'job', 'code', run.id, '--output', out, '--json')
    expect(again.code).toBe(2)
    expect(JSON.parse(again.stdout).error.message).toContain('not empty')
    // an import has no code to export, and a rerun of it is refused as not found
    expect((await tarn(home, 'job', 'code', imported.id, '--output', join(home, 'x'))).code).toBe(3)
  })
})
