import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tableFromIPC } from 'apache-arrow'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ApiKeyStore, Lake, type QueryEnd, RemoteLake, type RunningServer, serve } from '../../src/index.js'
import { errorOf } from '../helpers/errors.js'

describe('the HTTP API of tarn serve', () => {
  let lake: Lake
  let server: RunningServer
  let ends: QueryEnd[]
  let ended: Promise<QueryEnd>
  let onEnd: (e: QueryEnd) => void

  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-server-'))
    lake = await Lake.init({ home: join(dir, 'lake'), author: 'tester' })
    ends = []
    ended = new Promise((resolve) => {
      onEnd = resolve
    })
    server = await serve({
      lake,
      keys: new ApiKeyStore(lake.catalog.backend, lake),
      host: '127.0.0.1',
      port: 0,
      onQueryEnd: (e) => {
        ends.push(e)
        onEnd(e)
      },
    })
  })
  afterEach(async () => {
    await server.close()
    await lake.close()
  })

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })

  it('publishes an OpenAPI 3 document with an operation per endpoint and every path parameter declared', async () => {
    const res = await call('GET', '/api/openapi.json')
    expect(res.status).toBe(200)
    const doc = (await res.json()) as {
      openapi: string
      info: { title: string; version: string }
      paths: Record<
        string,
        Record<
          string,
          {
            operationId: string
            parameters: { name: string; in: string }[]
            responses: Record<string, unknown>
          }
        >
      >
    }
    expect(doc.openapi).toMatch(/^3\.0\.\d$/)
    expect(doc.info.title).toBe('tarn')
    expect(Object.keys(doc.paths['/api/v1/branches'] ?? {}).sort()).toEqual(['get', 'post'])
    expect(Object.keys(doc.paths['/api/v1/branches/{name}/merge'] ?? {})).toEqual(['post'])
    expect(doc.paths['/api/v1/query']?.post?.responses['200']).toBeDefined()
    const content = (path: string) =>
      Object.keys(
        (doc.paths[path]?.post?.responses['200'] as { content: Record<string, unknown> } | undefined)
          ?.content ?? {},
      )
    expect(content('/api/v1/runs')).toEqual(['application/x-ndjson'])
    expect(content('/api/v1/jobs/{id}/rerun')).toEqual(['application/x-ndjson'])
    expect(content('/api/v1/query/text')).toEqual(['text/plain'])
    expect(content('/api/v1/export')).toEqual(['application/octet-stream'])
    expect(content('/api/v1/plan')).toEqual(['application/json'])
    const ids = new Set<string>()
    for (const [path, ops] of Object.entries(doc.paths)) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])
      for (const op of Object.values(ops)) {
        expect(ids.has(op.operationId)).toBe(false)
        ids.add(op.operationId)
        expect(Object.keys(op.responses).length).toBeGreaterThan(0)
        expect(op.parameters.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(inPath)
      }
    }
    expect(ids.size).toBeGreaterThan(25)
  })

  it('answers errors with the CLI error document and an HTTP status by code', async () => {
    const missing = await call('GET', '/api/v1/branches/no%2Fsuch.branch')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({
      error: {
        code: 'BRANCH_NOT_FOUND',
        message: 'branch "no/such.branch" does not exist',
        context: { branch: 'no/such.branch' },
      },
    })
    expect((await call('POST', '/api/v1/branches', { name: 'main' })).status).toBe(409)
    const bad = await call('POST', '/api/v1/branches', { from: 'main' })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('USAGE')
    const route = await call('GET', '/api/v1/nothing-here')
    expect(route.status).toBe(404)
    expect(((await route.json()) as { error: { code: string } }).error.code).toBe('ROUTE_NOT_FOUND')
    expect((await call('DELETE', '/api/v1/branches/main')).status).toBe(403)
  })

  it('streams query results as Arrow IPC by default and as JSON or CSV on request', async () => {
    const sql = 'SELECT i, i * 2 AS j FROM range(3) t(i) ORDER BY i'
    const arrow = await call('POST', '/api/v1/query', { sql })
    expect(arrow.headers.get('content-type')).toBe('application/vnd.apache.arrow.stream')
    const t = tableFromIPC(new Uint8Array(await arrow.arrayBuffer()))
    expect(t.getChild('j')?.toArray()).toEqual(new BigInt64Array([0n, 2n, 4n]))
    expect(JSON.parse(t.schema.metadata.get('tarn.plan') ?? '{}').commit).toBe(
      (await lake.getBranch('main')).head,
    )
    const json = await call('POST', '/api/v1/query', { sql }, { accept: 'application/json' })
    expect(json.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await json.json()).toEqual([
      { i: 0, j: 0 },
      { i: 1, j: 2 },
      { i: 2, j: 4 },
    ])
    const csv = await call('POST', '/api/v1/query?format=csv', { sql })
    expect(await csv.text()).toBe('i,j\n0,0\n1,2\n2,4\n')
    expect((await call('POST', '/api/v1/query?format=xml', { sql })).status).toBe(400)
  })

  it('streams a million-row result as Arrow IPC to the end', async () => {
    const remote = RemoteLake.connect({ url: server.url })
    const stream = await remote.stream('SELECT i FROM range(1000000) t(i)', { batchRows: 65536 })
    let rows = 0
    let sum = 0n
    let batches = 0
    for await (const b of stream) {
      rows += b.numRows
      batches++
      for (const v of (b.getChild('i')?.toArray() ?? new BigInt64Array()) as BigInt64Array) sum += v
    }
    expect(rows).toBe(1_000_000)
    expect(sum).toBe(499_999_500_000n)
    expect(batches).toBeGreaterThan(1)
    const end = await ended
    expect(end).toMatchObject({ rows: 1_000_000, cancelled: false, format: 'arrow' })
  })

  it('stops the query on the server when the client aborts the request', async () => {
    const remote = RemoteLake.connect({ url: server.url })
    const stream = await remote.stream('SELECT i FROM range(10000000000) t(i)', { batchRows: 2048 })
    const it = stream[Symbol.asyncIterator]()
    const first = await it.next()
    expect(first.done).toBe(false)
    await stream.close()
    const end = await ended
    expect(end.cancelled).toBe(true)
    expect(end.rows).toBeLessThan(10_000_000)
    expect(ends).toHaveLength(1)
    // the server is still healthy and answers the next query
    const after = await remote.query('SELECT 42 AS x')
    expect(after.rows()).toEqual([{ x: 42 }])
  })

  it('names a missing project and a missing job of a remote run, and says a port in use cannot be served', async () => {
    const remote = RemoteLake.connect({ url: server.url })
    const missing = await errorOf(remote.run({ dir: '/tmp/no-such-tarn-project' }))
    expect(missing.code).toBe('PROJECT_NOT_FOUND')
    expect(missing.message).not.toContain('tarn-upload-')
    expect((await errorOf(remote.rerun('job-0123456789ab'))).code).toBe('JOB_NOT_FOUND')
    const port = Number(new URL(server.url).port)
    const e = await errorOf(
      serve({ lake, keys: new ApiKeyStore(lake.catalog.backend, lake), host: '127.0.0.1', port }),
    )
    expect(e.code).toBe('INVALID_ARGUMENT')
    expect(e.message).toContain('in use')
    const gone = RemoteLake.connect({ url: 'http://127.0.0.1:1' })
    expect((await errorOf(gone.info())).code).toBe('SERVER_UNREACHABLE')
  })

  it('drains an in-flight query before closing', async () => {
    const remote = RemoteLake.connect({ url: server.url })
    const stream = await remote.stream('SELECT i FROM range(200000) t(i)', { batchRows: 1000 })
    const closing = server.close()
    let rows = 0
    for await (const b of stream) rows += b.numRows
    await closing
    expect(rows).toBe(200_000)
    await expect(fetch(`${server.url}/api/v1/info`)).rejects.toThrow()
  })
})
