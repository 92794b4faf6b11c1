import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiKeyStore, Lake, type RunningServer, serve } from '../../../src/index.js'

type Json = Record<string, unknown>

describe('the Iceberg REST catalog of tarn serve, over HTTP', () => {
  let lake: Lake
  let server: RunningServer
  let base = ''
  const lines: string[] = []

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; json: Json; headers: Headers }> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Json), headers: res.headers }
  }
  const errorType = (r: { json: Json }): unknown => (r.json.error as Json | undefined)?.type
  const schema = {
    type: 'struct',
    'schema-id': 0,
    fields: [
      { id: 1, name: 'id', required: true, type: 'long' },
      { id: 2, name: 'city', required: false, type: 'string' },
    ],
  }
  const headOf = async (branch: string) => (await lake.getBranch(branch)).head

  beforeAll(async () => {
    const home = join(mkdtempSync(join(tmpdir(), 'tarn-iceberg-http-')), 'lake')
    lake = await Lake.init({ home, author: 'local-user' })
    await lake.createBranch('dev', { from: 'main' })
    await lake.createBranch('feature/x', { from: 'main' })
    server = await serve({
      lake,
      keys: new ApiKeyStore(lake.catalog.backend, lake),
      host: '127.0.0.1',
      port: 0,
      log: (l) => lines.push(l),
    })
    base = `${server.url}/iceberg/v1`
  })
  afterAll(async () => {
    await server.close()
    await lake.close()
  })

  it('answers config with the warehouse ref as prefix (URL-encoded), defaults to the active branch and refuses prefixes that collide with the spec', async () => {
    expect((await call('GET', '/config?warehouse=dev')).json.overrides).toEqual({ prefix: 'dev' })
    expect((await call('GET', '/config?warehouse=feature%2Fx')).json.overrides).toEqual({
      prefix: 'feature%2Fx',
    })
    expect((await call('GET', '/config')).json.overrides).toEqual({ prefix: 'main' })
    const clash = await call('GET', '/config?warehouse=namespaces')
    expect([clash.status, errorType(clash)]).toEqual([400, 'BadRequestException'])
    const unknown = await call('GET', '/config?warehouse=nope')
    expect([unknown.status, errorType(unknown)]).toEqual([404, 'NoSuchWarehouseException'])
    expect((await call('GET', '/config')).json.endpoints).toContain('POST /v1/{prefix}/transactions/commit')
  })

  it('creates, lists (paged), loads, checks, updates and drops namespaces on the prefix branch; prefix-less paths address main', async () => {
    for (const ns of ['a1', 'b2', 'c3']) {
      expect(
        (await call('POST', '/feature%2Fx/namespaces', { namespace: [ns], properties: { o: ns } })).status,
      ).toBe(200)
    }
    const all = await call('GET', '/feature%2Fx/namespaces')
    expect(all.json.namespaces).toEqual([['a1'], ['b2'], ['c3'], ['tarn']])
    expect(all.json).not.toHaveProperty('next-page-token')
    const first = await call('GET', '/feature%2Fx/namespaces?pageToken=&pageSize=2')
    expect(first.json.namespaces).toEqual([['a1'], ['b2']])
    const second = await call(
      'GET',
      `/feature%2Fx/namespaces?pageToken=${first.json['next-page-token']}&pageSize=2`,
    )
    expect(second.json).toEqual({ namespaces: [['c3'], ['tarn']], 'next-page-token': null })
    expect((await call('GET', '/feature%2Fx/namespaces?parent=a1')).json.namespaces).toEqual([])
    expect((await call('HEAD', '/feature%2Fx/namespaces/a1')).status).toBe(204)
    expect((await call('HEAD', '/namespaces/a1')).status).toBe(404)
    expect((await call('GET', '/namespaces')).json.namespaces).toEqual([['tarn']])
    const updated = await call('POST', '/feature%2Fx/namespaces/a1/properties', {
      updates: { team: 'geo' },
      removals: ['o', 'missing'],
    })
    expect(updated.json).toEqual({ updated: ['team'], removed: ['o'], missing: ['missing'] })
    expect((await call('GET', '/feature%2Fx/namespaces/a1')).json).toEqual({
      namespace: ['a1'],
      properties: { team: 'geo' },
    })
    expect((await call('DELETE', '/feature%2Fx/namespaces/c3')).status).toBe(204)
    const again = await call('POST', '/feature%2Fx/namespaces', { namespace: ['a1'] })
    expect([again.status, errorType(again)]).toEqual([409, 'AlreadyExistsException'])
    const nested = await call('POST', '/feature%2Fx/namespaces', { namespace: ['a1', 'deep'] })
    expect([nested.status, errorType(nested)]).toEqual([400, 'BadRequestException'])
  })

  it('creates a table with fresh ids, lists, loads with an ETag (304 when unchanged), renames, registers and drops it', async () => {
    await call('POST', '/dev/namespaces', { namespace: ['geo'] })
    const created = await call('POST', '/dev/namespaces/geo/tables', {
      name: 'cities',
      schema: { ...schema, fields: schema.fields.map((f) => ({ ...f, id: f.id + 40 })) },
      'partition-spec': {
        'spec-id': 0,
        fields: [{ 'source-id': 42, 'field-id': 1, name: 'city', transform: 'identity' }],
      },
      properties: { owner: 'geo' },
    })
    expect(created.status).toBe(200)
    const meta = created.json.metadata as Json
    expect((meta.schemas as { fields: { id: number }[] }[])[0]?.fields.map((f) => f.id)).toEqual([1, 2])
    expect(meta['partition-specs']).toEqual([
      { 'spec-id': 0, fields: [{ 'source-id': 2, 'field-id': 1000, name: 'city', transform: 'identity' }] },
    ])
    expect(String(created.json['metadata-location'])).toMatch(
      /^file:\/\/.*\/geo\/cities-[0-9a-f]{8}\/metadata\/00001-/,
    )
    expect((await lake.getTable('geo.cities', { ref: 'dev' })).properties).toEqual({ owner: 'geo' })

    const loaded = await call('GET', '/dev/namespaces/geo/tables/cities')
    const etag = loaded.headers.get('etag') as string
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/)
    expect(
      (await call('GET', '/dev/namespaces/geo/tables/cities', undefined, { 'if-none-match': etag })).status,
    ).toBe(304)
    expect((await call('HEAD', '/dev/namespaces/geo/tables/cities')).status).toBe(204)
    expect((await call('HEAD', '/main/namespaces/geo/tables/cities')).status).toBe(404)
    expect((await call('GET', '/dev/namespaces/geo/tables')).json).toEqual({
      identifiers: [{ namespace: ['geo'], name: 'cities' }],
    })
    expect(
      (await call('POST', '/dev/namespaces/geo/tables/cities/metrics', { 'report-type': 'scan-report' }))
        .status,
    ).toBe(204)
    const renamed = await call('POST', '/dev/tables/rename', {
      source: { namespace: ['geo'], name: 'cities' },
      destination: { namespace: ['geo'], name: 'towns' },
    })
    expect(renamed.status).toBe(204)
    const gone = await call('GET', '/dev/namespaces/geo/tables/cities')
    expect([gone.status, errorType(gone)]).toEqual([404, 'NoSuchTableException'])
    const towns = await call('GET', '/dev/namespaces/geo/tables/towns', undefined, { 'if-none-match': etag })
    expect(towns.status).toBe(304)
    const registered = await call('POST', '/dev/namespaces/geo/register', {
      name: 'copy',
      'metadata-location': loaded.json['metadata-location'],
    })
    expect(registered.status, JSON.stringify(registered.json)).toBe(200)
    expect((registered.json.metadata as Json)['table-uuid']).toBe(meta['table-uuid'])
    expect((await call('DELETE', '/dev/namespaces/geo/tables/copy?purgeRequested=true')).status).toBe(204)
    expect((await call('GET', '/dev/namespaces/geo/tables')).json.identifiers).toEqual([
      { namespace: ['geo'], name: 'towns' },
    ])
    const outside = await call('POST', '/dev/namespaces/geo/tables', {
      name: 'x',
      schema,
      location: '/etc/x',
    })
    expect([outside.status, errorType(outside)]).toEqual([400, 'BadRequestException'])
  })

  it('stages a create that a commit with assert-create makes real; assert-create on an existing table is a 409', async () => {
    await call('POST', '/dev/namespaces', { namespace: ['stage'] })
    const staged = await call('POST', '/dev/namespaces/stage/tables', {
      name: 'ctas',
      schema,
      'stage-create': true,
    })
    expect(staged.status).toBe(200)
    expect(staged.json).not.toHaveProperty('metadata-location')
    expect((await call('HEAD', '/dev/namespaces/stage/tables/ctas')).status).toBe(404)
    const m = staged.json.metadata as Json
    const create = {
      requirements: [{ type: 'assert-create' }],
      updates: [
        { action: 'assign-uuid', uuid: m['table-uuid'] },
        { action: 'upgrade-format-version', 'format-version': 2 },
        { action: 'add-schema', schema: (m.schemas as unknown[])[0] },
        { action: 'set-current-schema', 'schema-id': -1 },
        { action: 'add-spec', spec: { 'spec-id': 0, fields: [] } },
        { action: 'set-default-spec', 'spec-id': -1 },
        { action: 'add-sort-order', 'sort-order': { 'order-id': 0, fields: [] } },
        { action: 'set-default-sort-order', 'sort-order-id': -1 },
        { action: 'set-location', location: m.location },
        { action: 'set-properties', updates: { 'created-by': 'ctas' } },
      ],
    }
    const done = await call('POST', '/dev/namespaces/stage/tables/ctas', create)
    expect(done.status).toBe(200)
    expect((done.json.metadata as Json)['table-uuid']).toBe(m['table-uuid'])
    expect((await lake.getTable('stage.ctas', { ref: 'dev' })).location).toBe(m.location)
    const twice = await call('POST', '/dev/namespaces/stage/tables/ctas', create)
    expect([twice.status, errorType(twice)]).toEqual([409, 'CommitFailedException'])
    const missing = await call('POST', '/dev/namespaces/stage/tables/none', { requirements: [], updates: [] })
    expect([missing.status, errorType(missing)]).toEqual([404, 'NoSuchTableException'])
  })

  it('lets exactly one of two racing commits with the same requirement win; the other gets 409 CommitFailedException and changes nothing', async () => {
    await call('POST', '/dev/namespaces', { namespace: ['race'] })
    await call('POST', '/dev/namespaces/race/tables', { name: 't', schema })
    const before = await headOf('dev')
    const evolve = (name: string) => ({
      requirements: [
        { type: 'assert-current-schema-id', 'current-schema-id': 0 },
        { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': 2 },
      ],
      updates: [
        {
          action: 'add-schema',
          schema: {
            ...schema,
            'schema-id': 1,
            fields: [...schema.fields, { id: 3, name, required: false, type: 'int' }],
          },
        },
        { action: 'set-current-schema', 'schema-id': -1 },
      ],
    })
    const results = await Promise.all(
      ['left', 'right'].map((n) => call('POST', '/dev/namespaces/race/tables/t', evolve(n))),
    )
    expect(results.map((r) => r.status).sort()).toEqual([200, 409])
    const lost = results.find((r) => r.status === 409)
    expect(errorType(lost as { json: Json })).toBe('CommitFailedException')
    const log = await lake.log('dev', { limit: 3 })
    expect(log[1]?.hash).toBe(before)
    expect(log[0]?.message).toBe('Iceberg: commit race.t')
    const columns = (await lake.getTable('race.t', { ref: 'dev' })).schema.map((c) => c.name)
    expect(columns).toHaveLength(3)
    expect(lines.some((l) => l.includes('-> 409 CommitFailedException'))).toBe(true)
  })

  it('loads only the snapshots refs point at with snapshots=refs, and all of them by default (64-bit ids exact)', async () => {
    await call('POST', '/dev/namespaces', { namespace: ['snaps'] })
    await call('POST', '/dev/namespaces/snaps/tables', { name: 't', schema })
    const snapshot = (id: string, parent: string | null, seq: number) =>
      `{"action":"add-snapshot","snapshot":{"snapshot-id":${id},${parent ? `"parent-snapshot-id":${parent},` : ''}"sequence-number":${seq},"timestamp-ms":${1000 + seq},"manifest-list":"file:///nowhere/${seq}.avro","summary":{"operation":"append"},"schema-id":0}}`
    const main = (id: string) =>
      `{"action":"set-snapshot-ref","ref-name":"main","type":"branch","snapshot-id":${id}}`
    const body = `{"requirements":[],"updates":[${snapshot('9007199254740993', null, 1)},${main('9007199254740993')},${snapshot('9223372036854775807', '9007199254740993', 2)},${main('9223372036854775807')}]}`
    const res = await fetch(`${base}/dev/namespaces/snaps/tables/t`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
    expect(res.status).toBe(200)
    const ids = async (query: string) => {
      const text = await (await fetch(`${base}/dev/namespaces/snaps/tables/t${query}`)).text()
      return text.split('"manifest-list"').length - 1
    }
    const all = await (await fetch(`${base}/dev/namespaces/snaps/tables/t`)).text()
    expect(all).toContain('"current-snapshot-id":9223372036854775807')
    expect(all).toContain('"snapshot-id":9007199254740993')
    expect(await ids('')).toBe(2)
    expect(await ids('?snapshots=refs')).toBe(1)
    const [a, r] = await Promise.all(
      ['', '?snapshots=refs'].map(async (q) =>
        (await fetch(`${base}/dev/namespaces/snaps/tables/t${q}`)).headers.get('etag'),
      ),
    )
    expect(a).not.toBe(r)
  })

  it('serves a tag and a commit read-only: loads work, writes are 403 ForbiddenException', async () => {
    await lake.createTag('v1', { from: 'dev' })
    const head = await headOf('dev')
    for (const ref of ['v1', `dev@${head.slice(0, 10)}`, `%40${head.slice(0, 10)}`]) {
      expect((await call('GET', `/${ref}/namespaces/race/tables/t`)).status).toBe(200)
      const write = await call('POST', `/${ref}/namespaces`, { namespace: ['nope'] })
      expect([write.status, errorType(write)]).toEqual([403, 'ForbiddenException'])
      expect((write.json.error as Json).message).toContain('read-only')
    }
    expect(await headOf('dev')).toBe(head)
  })
})
