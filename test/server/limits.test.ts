import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ApiKeyStore, Lake, RemoteLake, type RunningServer, serve } from '../../src/index.js'
import { ConcurrencyGate, DEFAULT_SERVER_LIMITS, type ServerLimits } from '../../src/server/server-limits.js'
import type { TarnError } from '../../src/util/errors.js'
import { errorOf } from '../helpers/errors.js'
import { slowProject } from '../helpers/slow-project.js'

describe('the limits of tarn serve', () => {
  let lake: Lake
  let server: RunningServer
  let dir: string

  const start = async (limits: Partial<ServerLimits>): Promise<void> => {
    dir = mkdtempSync(join(tmpdir(), 'tarn-limits-'))
    lake = await Lake.init({ home: join(dir, 'lake'), author: 'tester' })
    server = await serve({
      lake,
      keys: new ApiKeyStore(lake.catalog.backend, lake),
      host: '127.0.0.1',
      port: 0,
      limits,
    })
  }
  afterEach(async () => {
    await server.close()
    await lake.close()
  })

  interface ErrorDoc {
    error: { code: string; message: string; context: Record<string, unknown> }
  }
  const errorDoc = async (r: Response): Promise<ErrorDoc['error']> => ((await r.json()) as ErrorDoc).error

  const post = (path: string, body: unknown) =>
    fetch(`${server.url}/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })

  it('refuses a body past the bound with PAYLOAD_TOO_LARGE (413), and bad project paths or files, writing nothing', async () => {
    await start({ bodyBytes: 4096, maxProjectFileBytes: 100, maxProjectFiles: 3 })
    const head = (await lake.getBranch('main')).head
    const big = await post('/runs', { files: [{ path: 'tarn_project.yml', content: 'x'.repeat(10_000) }] })
    expect(big.status).toBe(413)
    expect((await errorDoc(big)).code).toBe('PAYLOAD_TOO_LARGE')
    for (const path of [
      '../escape.sql',
      '/etc/passwd',
      'a//b.sql',
      'a/./b.sql',
      'c:\\x.sql',
      'a\\..\\b.sql',
    ]) {
      const r = await post('/runs', { files: [{ path, content: 'SELECT 1' }] })
      expect(r.status, path).toBe(400)
      const e = await errorDoc(r)
      expect(e.code).toBe('INVALID_ARGUMENT')
      expect(e.context.path).toBe(path)
    }
    const twice = await post('/plan', {
      files: [
        { path: 'a.sql', content: 'SELECT 1' },
        { path: 'a.sql', content: 'SELECT 2' },
      ],
    })
    expect(twice.status).toBe(400)
    const large = await post('/runs', { files: [{ path: 'a.sql', content: 'x'.repeat(200) }] })
    expect(large.status).toBe(413)
    expect((await errorDoc(large)).context).toMatchObject({ path: 'a.sql', maxFileBytes: 100 })
    const many = await post('/runs', {
      files: ['a', 'b', 'c', 'd'].map((n) => ({ path: `${n}.sql`, content: 'SELECT 1' })),
    })
    expect(many.status).toBe(413)
    expect((await lake.getBranch('main')).head).toBe(head)
    expect(await lake.listJobs()).toEqual([])
  })

  it('refuses a query result past the row or byte bound with RESULT_TOO_LARGE (413) before any row, in every format', async () => {
    await start({ maxResultRows: 100, maxResultBytes: 1 << 20 })
    const remote = RemoteLake.connect({ url: server.url })
    expect((await remote.query('SELECT range AS n FROM range(100)')).numRows).toBe(100)
    const e = await errorOf(remote.query('SELECT range AS n FROM range(101)'))
    expect(e.code).toBe('RESULT_TOO_LARGE')
    expect(e.context.maxRows).toBe(100)
    for (const format of ['json', 'csv']) {
      const r = await post(`/query?format=${format}`, { sql: 'SELECT range AS n FROM range(1000)' })
      expect(r.status, format).toBe(413)
      expect((await errorDoc(r)).code).toBe('RESULT_TOO_LARGE')
    }
    const wide = await errorOf(remote.query("SELECT repeat('x', 20000) AS s FROM range(100) t(i)"))
    expect(wide.code).toBe('RESULT_TOO_LARGE')
    expect(wide.context.maxBytes).toBe(1 << 20)
    expect((await remote.query("SELECT repeat('x', 1000) AS s FROM range(100) t(i)")).numRows).toBe(100)
    let text = ''
    const sink = { out: (s: string) => (text += s) }
    const printed = await errorOf(
      remote.printQuery('SELECT range AS n FROM range(1000)', { format: 'csv' }, sink),
    )
    expect(printed.code).toBe('RESULT_TOO_LARGE')
    expect(text).toBe('')
    await remote.printQuery('SELECT range AS n FROM range(1000)', { format: 'csv', limit: 5 }, sink)
    expect(text).toBe('n\n0\n1\n2\n3\n4\n')
    const out = mkdtempSync(join(tmpdir(), 'tarn-limits-export-'))
    const exp = await errorOf(
      remote.exportQuery('SELECT range AS n FROM range(1000)', { output: join(out, 'n.csv') }),
    )
    expect(exp.code).toBe('RESULT_TOO_LARGE')
  })

  it('answers 408 and closes a connection whose request does not arrive within the request timeout', async () => {
    await start({ requestTimeoutMs: 300 })
    const { port } = new URL(server.url)
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write('POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n')
      })
      let got = ''
      socket.on('data', (d) => {
        got += d.toString()
      })
      socket.on('close', () => resolve(got))
      socket.on('error', reject)
      setTimeout(() => reject(new Error('the server kept the slow request open')), 10_000)
    })
    expect(answer).toMatch(/^HTTP\/1\.1 408/)
    // the server is still healthy
    expect((await fetch(`${server.url}/api/v1/info`)).status).toBe(200)
  })

  it('lets a run whose client went away finish and land whole', async () => {
    await start({})
    writeFileSync(join(dir, 'zones.csv'), 'zone\n1\n2\n')
    await lake.createTable('zones', { from: join(dir, 'zones.csv'), branch: 'main' })
    const abort = new AbortController()
    const res = await fetch(`${server.url}/api/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ files: slowProject(1500), branch: 'main' }),
      signal: abort.signal,
    })
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const first = new TextDecoder().decode((await reader.read()).value)
    expect(['log', 'planned']).toContain(JSON.parse(first.split('\n')[0] as string).event)
    abort.abort()
    let jobs = await lake.listJobs()
    for (let i = 0; i < 200 && jobs[0]?.status !== 'succeeded'; i++) {
      await new Promise((r) => setTimeout(r, 100))
      jobs = await lake.listJobs()
    }
    expect(jobs.map((j) => j.status)).toEqual(['succeeded'])
    expect((await lake.getBranch('main')).head).toBe(jobs[0]?.mergeCommit)
    expect((await lake.query('SELECT count(*) AS n FROM slow', { ref: 'main' })).rows()).toEqual([{ n: 2n }])
  }, 60_000)

  it('runs at most maxConcurrentRuns at once: one more gets TOO_MANY_REQUESTS (429) with Retry-After', async () => {
    await start({ maxConcurrentRuns: 1, retryAfterSeconds: 7 })
    writeFileSync(join(dir, 'zones.csv'), 'zone\n1\n2\n')
    await lake.createTable('zones', { from: join(dir, 'zones.csv'), branch: 'main' })
    const files = slowProject(3000)
    const first = await post('/runs', { files, branch: 'main' })
    expect(first.status).toBe(200)
    expect(first.headers.get('content-type')).toContain('application/x-ndjson')
    const second = await post('/runs', { files, branch: 'main' })
    expect(second.status).toBe(429)
    expect(second.headers.get('retry-after')).toBe('7')
    expect((await errorDoc(second)).code).toBe('TOO_MANY_REQUESTS')
    const rerun = await post('/jobs/job-0123456789ab/rerun', {})
    expect(rerun.status).toBe(404)
    const lines = (await first.text()).trim().split('\n')
    const last = JSON.parse(lines.at(-1) as string)
    expect(last.event).toBe('outcome')
    expect(last.job.status).toBe('succeeded')
    // the slot is free again once the run ended
    const third = await RemoteLake.connect({ url: server.url }).run({
      dir: await projectDir(files),
      branch: 'main',
    })
    expect(third.job.status).toBe('succeeded')
    expect((await lake.listJobs()).map((j) => j.status)).toEqual(['succeeded', 'succeeded'])
  }, 60_000)
})

describe('a RemoteLake behind something that answers without an error document', () => {
  it('maps the bare HTTP status to the code it stands for: 429 with Retry-After, 413, 401, 502', async () => {
    const answers: Record<string, [number, Record<string, string>]> = {
      '/busy': [429, { 'retry-after': '3' }],
      '/big': [413, {}],
      '/who': [401, {}],
      '/gateway': [502, {}],
    }
    const proxy = createHttpServer((req, res) => {
      const prefix = (req.url ?? '').split('/api/')[0] ?? ''
      const [status, headers] = answers[prefix] ?? [500, {}]
      res.writeHead(status, { 'content-type': 'text/html', ...headers }).end('<html>nope</html>')
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const { port } = proxy.address() as AddressInfo
    try {
      const at = (prefix: string) => RemoteLake.connect({ url: `http://127.0.0.1:${port}${prefix}` })
      const busy = await errorOf(at('/busy').listBranches())
      expect(busy.code).toBe('TOO_MANY_REQUESTS')
      expect(busy.context.retryAfterSeconds).toBe(3)
      expect((await errorOf(at('/big').listBranches())).code).toBe('PAYLOAD_TOO_LARGE')
      expect((await errorOf(at('/who').listBranches())).code).toBe('UNAUTHORIZED')
      expect((await errorOf(at('/gateway').listBranches())).code).toBe('SERVER_UNREACHABLE')
    } finally {
      await new Promise((resolve) => proxy.close(resolve))
    }
  })
})

describe('the concurrency gate of runs and imports', () => {
  it('admits up to the bound per kind, refuses one more naming the bound and Retry-After, and frees a slot once', () => {
    const gate = new ConcurrencyGate({
      ...DEFAULT_SERVER_LIMITS,
      maxConcurrentImports: 2,
      maxConcurrentRuns: 1,
    })
    const a = gate.admit('import')
    gate.admit('import')
    const e = (() => {
      try {
        gate.admit('import')
      } catch (err) {
        return err as TarnError
      }
      throw new Error('expected a refusal')
    })()
    expect(e.code).toBe('TOO_MANY_REQUESTS')
    expect(e.context).toMatchObject({ kind: 'import', max: 2, retryAfterSeconds: 5 })
    gate.admit('run')
    a()
    a()
    gate.admit('import')
    expect(() => gate.admit('import')).toThrow(/already running 2 imports/)
  })
})

async function projectDir(files: readonly { path: string; content: string }[]): Promise<string> {
  const d = mkdtempSync(join(tmpdir(), 'tarn-limits-project-'))
  for (const f of files) writeFileSync(join(d, f.path), f.content)
  return d
}
