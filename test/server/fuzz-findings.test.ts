import { mkdtempSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiKeyStore, Lake, type RunningServer, serve } from '../../src/index.js'

/** What schemathesis found in the HTTP API, kept as plain regression tests (test/server/fuzz.test.ts fuzzes). */
describe('HTTP API answers the fuzzer found wrong', () => {
  let lake: Lake
  let server: RunningServer
  let token: string

  beforeAll(async () => {
    const home = join(mkdtempSync(join(tmpdir(), 'tarn-fuzz-found-')), 'lake')
    lake = await Lake.init({ home, author: 'tester', env: {} })
    const keys = new ApiKeyStore(lake.catalog.backend, lake)
    token = (await keys.create('ops', { rules: ['read:*', 'write:*', 'admin:*'] })).token
    server = await serve({ lake, keys, host: '127.0.0.1', port: 0 })
  })
  afterAll(async () => {
    await server.close()
    await lake.close()
  })

  const call = (method: string, path: string, body?: unknown, key: string | undefined = token) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })

  it('refuses a body with an unknown property instead of dropping it, and writes nothing', async () => {
    const before = (await lake.listBranches()).map((b) => b.name)
    const res = await call('POST', '/api/v1/branches', { name: 'x', from: 'main', form: 'typo' })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('USAGE')
    expect((await lake.listBranches()).map((b) => b.name)).toEqual(before)
    const gc = await call('POST', '/api/v1/gc', { older_than_ms: 0, dry_run: true, extra: 1 })
    expect(gc.status).toBe(400)
  })

  it('refuses values of the wrong JSON type and out-of-range durations, and still reads typed query strings', async () => {
    const nul = await call('POST', '/api/v1/gc', { older_than_ms: 0, dry_run: null })
    expect(nul.status).toBe(400)
    expect((await call('POST', '/api/v1/branches', { name: 7, from: 'main' })).status).toBe(400)
    const huge = await call('POST', '/api/v1/gc', {
      older_than_ms: 1,
      grace_ms: 6e18,
      dry_run: true,
    })
    expect(huge.status).toBe(400)
    expect(((await huge.json()) as { error: { code: string } }).error.code).toBe('USAGE')
    const dry = await call('POST', '/api/v1/gc', { older_than_ms: 1, grace_ms: 0, dry_run: true })
    expect(dry.status).toBe(200)
    expect(((await dry.json()) as { dryRun: boolean }).dryRun).toBe(true)
    // booleans and integers in query strings are parsed, anything else refused
    expect((await call('POST', '/api/v1/branches', { name: 'tmp', from: 'main' })).status).toBe(201)
    expect((await call('DELETE', '/api/v1/branches/tmp?force=yes')).status).toBe(400)
    expect((await call('DELETE', '/api/v1/branches/tmp?force=true')).status).toBe(200)
    const log = await call('GET', '/api/v1/log?ref=main&n=1')
    expect(((await log.json()) as { commits: unknown[] }).commits).toHaveLength(1)
    expect((await call('GET', '/api/v1/log?ref=main&n=one')).status).toBe(400)
  })

  it('asks for a key (401) before it looks at the request, even an invalid one', async () => {
    const res = await call('POST', '/api/v1/query?format=', { sql: '', batch_rows: 0 }, '')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toContain('Bearer')
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED')
    expect((await call('POST', '/api/v1/branches', { nam: 1 }, 'nope.nope')).status).toBe(401)
  })

  /** A request by node:http, which sends any method (fetch refuses TRACE). */
  const raw = (method: string, path: string): Promise<{ status: number; allow: string; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request(
        `${server.url}${path}`,
        { method, headers: { authorization: `Bearer ${token}` } },
        (res) => {
          let body = ''
          res.on('data', (d: Buffer) => {
            body += d.toString()
          })
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, allow: String(res.headers.allow), body }),
          )
        },
      )
      req.on('error', reject)
      req.end()
    })

  it('answers 405 with Allow for a known path asked with a method it does not take', async () => {
    const trace = await raw('TRACE', '/api/v1/branches')
    expect(trace.status).toBe(405)
    expect(trace.allow).toBe('GET, HEAD, POST')
    const doc = JSON.parse(trace.body) as { error: { code: string; context: { allow: string[] } } }
    expect(doc.error.code).toBe('METHOD_NOT_ALLOWED')
    const query = await raw('QUERY', '/api/v1/branches/main')
    expect(query.status).toBe(405)
    expect(query.allow).toBe('DELETE, GET, HEAD')
    expect((await raw('GET', '/api/v1/no-such-thing')).status).toBe(404)
  })

  it('answers a path parameter past the router limit and a broken percent-encoding in tarn error documents, after authentication', async () => {
    const long = `/api/v1/tables/${'t'.repeat(300)}`
    const res = await call('DELETE', long)
    expect(res.status).toBe(414)
    const doc = (await res.json()) as { error: { code: string; message: string; context: object } }
    expect(doc.error.code).toBe('USAGE')
    expect(doc.error.context).toEqual({ fastify: 'FST_ERR_MAX_PARAM_LENGTH' })
    const bad = await call('GET', '/api/v1/branches/%E0%A4%A')
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('USAGE')
    const anonymous = await call('DELETE', long, undefined, '')
    expect(anonymous.status).toBe(401)
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED')
    const iceberg = await call('GET', `/iceberg/v1/main/namespaces/${'n'.repeat(300)}`)
    expect(iceberg.status).toBe(400)
    expect(await iceberg.json()).toMatchObject({ error: { code: 400, type: 'BadRequestException' } })
  })

  it('documents the text/plain job log in the OpenAPI document', async () => {
    const doc = (await (await call('GET', '/api/openapi.json')).json()) as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>
      >
    }
    expect(Object.keys(doc.paths['/api/v1/jobs/{id}/log']?.get?.responses['200']?.content ?? {})).toEqual([
      'text/plain',
    ])
  })
})
