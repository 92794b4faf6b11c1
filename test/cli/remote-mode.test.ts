import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryIO } from '../../src/cli/io.js'
import { ApiKeyStore, Lake, type RunningServer, runCli, serve } from '../../src/index.js'

/** One CLI invocation's exit code and output, with what differs between two lakes (hashes, ids, times, paths) masked. */
interface Outcome {
  readonly args: string
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Where the CLI runs: the lake's own directory (embedded), or a client directory with TARN_URL set (remote). */
interface Setup {
  readonly env: Record<string, string>
  readonly paths: readonly string[]
  stop(): Promise<void>
}

function mask(text: string, paths: readonly string[]): string {
  let t = text
  for (const p of [...paths].sort((a, b) => b.length - a.length)) t = t.split(p).join('<DIR>')
  return t
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '<UUID>')
    .replace(/\b[0-9a-f]{64}\b/g, '<HASH>')
    .replace(/\b(job|query|import)-[0-9a-f]{12}\b/g, '$1-<ID>')
    .replace(/\b[0-9a-f]{12}\b/g, '<H>')
    .replace(/-[0-9a-f]{8}\b/g, '-<H8>')
    .replace(/\b\d{13,20}\b/g, '<NUM>')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<TIME>')
    .replace(/"(startedAt|finishedAt|createdAt|timestamp|durationMs|timestampMs)":\s*\d+/g, '"$1":0')
    .replace(/\b\d+(\.\d+)?\s?ms\b/g, '<N>ms')
    .replace(/"(ms|elapsedMs|seconds)":\s*[\d.]+/g, '"$1":0')
    .replace(/ {2,}/g, '  ')
}

async function embedded(home: string): Promise<Setup> {
  return { env: { TARN_HOME: home, TARN_USER: 'tester' }, paths: [home], stop: async () => undefined }
}

async function remote(home: string): Promise<Setup> {
  const lake = await Lake.open({ home, author: 'tester' })
  const server: RunningServer = await serve({
    lake,
    keys: new ApiKeyStore(lake.catalog.backend, lake),
    host: '127.0.0.1',
    port: 0,
  })
  // the client's own directory: nothing of the lake is in it
  const client = mkdtempSync(join(tmpdir(), 'tarn-remote-client-'))
  return {
    env: { TARN_HOME: client, TARN_URL: server.url, TARN_USER: 'someone-else' },
    paths: [home, client, server.url],
    stop: async () => {
      await server.close()
      await lake.close()
    },
  }
}

/**
 * A representative session of the CLI (branches, tags, namespaces, tables, queries in every format, exports, log,
 * diff, merge, revert, runs with progress, reruns, jobs and their code, and errors of every exit code), run
 * embedded or against `tarn serve` with TARN_URL.
 */
async function session(open: (home: string) => Promise<Setup>): Promise<Outcome[]> {
  const root = mkdtempSync(join(tmpdir(), 'tarn-remote-mode-'))
  const home = join(root, 'lake')
  const cwd = join(root, 'work')
  mkdirSync(join(cwd, 'project', 'models'), { recursive: true })
  writeFileSync(join(cwd, 'orders.csv'), 'id,name,amount\n1,a,10.5\n2,b,3\n3,c,7\n')
  writeFileSync(join(cwd, 'more.csv'), 'id,name,amount\n4,d,1.25\n')
  writeFileSync(join(cwd, 'project', 'tarn_project.yml'), 'name: shop\nnamespace: tarn\n')
  writeFileSync(
    join(cwd, 'project', 'models', 'big_orders.sql'),
    '-- tarn: materialize=REPLACE\nSELECT id, amount FROM orders WHERE amount > 5 ORDER BY id\n',
  )
  mkdirSync(join(cwd, 'broken'))
  writeFileSync(join(cwd, 'broken', 'tarn_project.yml'), 'name: broken\nnamespace: tarn\n')
  writeFileSync(join(cwd, 'broken', 'boom.sql'), "-- tarn: materialize=REPLACE\nSELECT error('boom') AS x\n")
  const init = memoryIO({ TARN_HOME: home, TARN_USER: 'tester' }, cwd)
  expect(await runCli(['init'], init)).toBe(0)
  const setup = await open(home)
  const out: Outcome[] = []
  const tarn = async (...args: string[]): Promise<Outcome> => {
    const io = memoryIO(setup.env, cwd)
    const code = await runCli(args, io)
    const paths = [...setup.paths, cwd, root]
    const o = {
      args: mask(args.join(' '), paths),
      code,
      stdout: mask(io.stdout(), paths),
      stderr: mask(io.stderr(), paths),
    }
    out.push(o)
    return { ...o, stdout: io.stdout() }
  }
  try {
    await tarn('branch', 'create', 'alice.dev')
    await tarn('checkout', 'alice.dev')
    await tarn('info')
    await tarn('namespace', 'create', 'sales', '-m', 'a place for sales')
    await tarn('table', 'create', 'orders', '--from', 'orders.csv')
    await tarn('table', 'import', 'orders', '--from', 'more.csv', '--json')
    await tarn('table', 'import', 'orders', '--from', 'more.csv')
    await tarn('table', 'ls')
    await tarn('table', 'get', 'orders', '--json')
    await tarn('branch', 'ls')
    await tarn('branch', 'ls', '--json')
    await tarn('query', 'SELECT id, name, amount FROM orders ORDER BY id')
    await tarn('query', 'SELECT id, name FROM orders ORDER BY id', '--max-rows', '2')
    await tarn('query', 'SELECT * FROM orders ORDER BY id', '--format', 'csv')
    await tarn('query', 'SELECT * FROM orders ORDER BY id', '--format', 'json')
    await tarn('query', 'SELECT id FROM orders ORDER BY id', '--json', '-r', 'alice.dev~1')
    await tarn('query', 'SELECT * FROM orders WHERE id > 2', '--explain')
    await tarn('query', 'SELECT id FROM orders ORDER BY id', '-o', 'ids.csv')
    await tarn('query', 'SELECT id FROM orders ORDER BY id', '-o', 'ids.csv')
    await tarn('query', 'SELECT * FROM nowhere')
    await tarn('query', 'SELECT * FROM nowhere', '--json')
    await tarn('table', 'export', 'orders', '-o', 'orders.jsonl')
    await tarn('table', 'export', 'orders', '-o', 'orders.jsonl', '--json')
    await tarn('table', 'get', 'nowhere', '--json')
    await tarn('namespace', 'ls', '--json')
    await tarn('log')
    await tarn('log', '-p', '-n', '2')
    await tarn('log', '-n', '2', '--json')
    await tarn('log', 'nowhere', '--json')
    await tarn('branch', 'diff', 'alice.dev', 'main')
    await tarn('branch', 'diff', 'alice.dev', 'main', '--json')
    await tarn('branch', 'merge', 'alice.dev', '--into', 'main', '--dry-run', '--json')
    await tarn('branch', 'merge', 'alice.dev', '--into', 'main', '--json')
    await tarn('branch', 'get', 'main', '--json')
    await tarn('tag', 'create', 'v1', '--from-ref', 'main')
    await tarn('tag', 'create', 'v1', '--from-ref', 'main', '--json')
    await tarn('tag', 'create', 'v0', '--from-ref', 'main', '--json')
    await tarn('tag', 'ls')
    await tarn('tag', 'ls', '--json')
    await tarn('tag', 'rm', 'v0', '--json')
    await tarn('tag', 'rm', 'v0')
    await tarn('revert', 'alice.dev', '--dry-run')
    await tarn('run', '-p', 'project', '--dry-run')
    const ran = await tarn('run', '-p', 'project', '--json', '--preview', 'head')
    const job = (JSON.parse(ran.stdout) as { job: string }).job
    await tarn('run', '-p', 'project')
    await tarn('run', '-p', 'broken')
    await tarn('run', '-p', 'nowhere')
    await tarn('job', 'get', job)
    await tarn('job', 'logs', job)
    await tarn('job', 'code', job, '-o', 'code')
    await tarn('job', 'ls', '--status', 'succeeded')
    await tarn('job', 'ls', '--status', 'failed', '--json')
    await tarn('job', 'get', job, '--json')
    await tarn('job', 'get', 'job-0123456789ab', '--json')
    await tarn('run', '-p', 'broken', '--json')
    await tarn('rerun', job, '--json')
    await tarn('job', 'logs', 'job-0123456789ab')
    await tarn('branch', 'rm', 'alice.dev')
    await tarn('branch', 'get', 'nope')
    await tarn('branch', 'create', 'main')
    await tarn('branch', 'create', 'a..b', '--json')
    await tarn('checkout', 'main')
    await tarn('branch', 'rm', 'alice.dev', '--json')
    await tarn('branch', 'ls', '--sealed')
    await tarn('branch', 'create', 'bob.dev', '--json')
    await tarn('branch', 'rename', 'bob.dev', 'bob.work', '--json')
    await tarn('branch', 'rename', 'bob.dev', 'bob.other')
    await tarn('branch', 'protect', 'main', '--json')
    await tarn('table', 'rm', 'orders', '-b', 'main')
    await tarn('branch', 'unprotect', 'main')
    await tarn('table', 'rm', 'orders', '-b', 'bob.work', '--json')
    await tarn('table', 'ls', '-r', 'bob.work', '--json')
    await tarn('namespace', 'rm', 'sales', '-b', 'main')
    await tarn('table', 'ls', '--json')
    expect(readFileSync(join(cwd, 'ids.csv'), 'utf8')).toBe('id\n1\n2\n3\n4\n')
    expect(readFileSync(join(cwd, 'orders.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4)
    expect(readFileSync(join(cwd, 'code', 'models', 'big_orders.sql'), 'utf8')).toContain('amount > 5')
    return out
  } finally {
    await setup.stop()
  }
}

describe('the CLI in remote mode (TARN_URL)', () => {
  it('prints the same output, JSON documents and exit codes as on the embedded lake, command by command', async () => {
    const local = await session(embedded)
    const served = await session(remote)
    expect(local.some((o) => o.code === 3) && local.some((o) => o.code === 4)).toBe(true)
    expect(local.some((o) => o.code === 5) && local.some((o) => o.code === 2)).toBe(true)
    // every command group of the CLI's remote mode is in the session, embedded and remote alike
    for (const group of [
      'run',
      'rerun',
      'query',
      'table',
      'branch',
      'tag',
      'log',
      'job',
      'namespace',
      'revert',
    ])
      expect(local.some((o) => o.args.split(' ')[0] === group)).toBe(true)
    expect(served.filter((o, i) => JSON.stringify(o) !== JSON.stringify(local[i]))).toEqual(
      local.filter((o, i) => JSON.stringify(o) !== JSON.stringify(served[i])),
    )
    expect(served).toHaveLength(local.length)
  }, 120_000)
})

describe('the CLI against a server with keys', () => {
  it('sends TARN_API_KEY, keeps the active branch on the client, and refuses local-only commands', async () => {
    const home = join(mkdtempSync(join(tmpdir(), 'tarn-remote-keys-')), 'lake')
    const lake = await Lake.init({ home, author: 'tester' })
    const keys = new ApiKeyStore(lake.catalog.backend, lake)
    const writer = await keys.create('alice', { rules: ['read:*', 'write:alice.*'] })
    const reader = await keys.create('viewer', { rules: ['read:*'] })
    const server = await serve({ lake, keys, host: '127.0.0.1', port: 0 })
    const client = mkdtempSync(join(tmpdir(), 'tarn-remote-keys-client-'))
    const tarn = async (env: Record<string, string>, ...args: string[]) => {
      const io = memoryIO({ TARN_HOME: client, TARN_URL: server.url, ...env })
      const code = await runCli(args, io)
      return { code, stdout: io.stdout(), stderr: io.stderr() }
    }
    try {
      const anonymous = await tarn({}, 'branch', 'ls', '--json')
      expect(anonymous.code).toBe(1)
      expect(JSON.parse(anonymous.stdout).error.code).toBe('UNAUTHORIZED')
      const alice = { TARN_API_KEY: writer.token }
      expect((await tarn(alice, 'checkout', '-b', 'alice.dev', '--json')).code).toBe(0)
      expect(await lake.activeBranch()).toBe('main')
      const created = await tarn(alice, 'namespace', 'create', 'sales', '--json')
      expect(created.code).toBe(0)
      expect(JSON.parse(created.stdout).branch).toBe('alice.dev')
      expect((await lake.log('alice.dev', { limit: 1 }))[0]?.author).toBe('alice')
      const remotes = JSON.parse(readFileSync(join(client, 'remotes.json'), 'utf8'))
      expect(remotes[server.url].activeBranch).toBe('alice.dev')
      const pinned = await tarn({ ...alice, TARN_BRANCH: 'main' }, 'info', '--json')
      expect(JSON.parse(pinned.stdout).activeBranch).toBe('main')
      const denied = await tarn(
        { TARN_API_KEY: reader.token },
        'namespace',
        'create',
        'ops',
        '-b',
        'alice.dev',
        '--json',
      )
      expect(denied.code).toBe(1)
      expect(JSON.parse(denied.stdout).error).toMatchObject({
        code: 'FORBIDDEN',
        context: { rule: 'write:alice.dev' },
      })
      for (const args of [['init'], ['serve'], ['key', 'ls']]) {
        const r = await tarn(alice, ...args, '--json')
        expect(r.code, args.join(' ')).toBe(1)
        expect(JSON.parse(r.stdout).error.code).toBe('NOT_SUPPORTED')
        expect(r.stderr).toContain('TARN_URL')
      }
    } finally {
      await server.close()
      await lake.close()
    }
  })
})
