import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ApiKeyStore, Lake, RemoteLake, type RunningServer, serve } from '../../src/index.js'
import { codeOf, errorOf } from '../helpers/errors.js'

describe('API keys and protected branches on tarn serve', () => {
  let home: string
  let lake: Lake
  let keys: ApiKeyStore
  let server: RunningServer
  let now: number

  beforeEach(async () => {
    home = join(mkdtempSync(join(tmpdir(), 'tarn-auth-')), 'lake')
    now = Date.parse('2026-03-01T00:00:00Z')
    lake = await Lake.init({ home, author: 'local-user', clock: { now: () => now } })
    keys = new ApiKeyStore(lake.catalog.backend, lake)
    await lake.createBranch('alice.dev', { from: 'main' })
    await lake.createBranch('bob.dev', { from: 'main' })
    server = await serve({ lake, keys, host: '127.0.0.1', port: 0 })
  })
  afterEach(async () => {
    await server.close()
    await lake.close()
  })

  const as = (token?: string) =>
    RemoteLake.connect({ url: server.url, ...(token !== undefined ? { apiKey: token } : {}) })

  it('serves loopback without a key while no key exists, and asks for one (401) once a key exists', async () => {
    expect((await as().listBranches()).length).toBe(3)
    await keys.create('ci', { rules: ['read:*'] })
    const e = await errorOf(as().listBranches())
    expect(e.code).toBe('UNAUTHORIZED')
    expect(await codeOf(as('0123456789abcdef.wrong').listBranches())).toBe('UNAUTHORIZED')
    expect(await codeOf(as('not-a-key').listBranches())).toBe('UNAUTHORIZED')
    const res = await fetch(`${server.url}/api/v1/branches`)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
  })

  it('refuses a write by a read:* key with 403 naming the missing rule, and writes nothing', async () => {
    const { token } = await keys.create('reader', { rules: ['read:*'] })
    const reader = as(token)
    expect((await reader.log('main')).length).toBe(1)
    const e = await errorOf(reader.createNamespace('sales', { branch: 'main' }))
    expect(e.code).toBe('FORBIDDEN')
    expect(e.context.rule).toBe('write:main')
    expect(e.message).toContain('write:main')
    const res = await fetch(`${server.url}/api/v1/namespaces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'sales', branch: 'main' }),
    })
    expect(res.status).toBe(403)
    expect((await lake.log('main')).length).toBe(1)
    expect((await lake.listNamespaces({ ref: 'main' })).map((n) => n.namespace)).toEqual(['tarn'])
  })

  it('lets a write:alice.* key write alice.dev (as author alice) but not bob.dev', async () => {
    const { token } = await keys.create('alice', { rules: ['write:alice.*'] })
    const alice = as(token)
    const c = await alice.createNamespace('sales', { branch: 'alice.dev' })
    expect(c.author).toBe('alice')
    expect((await lake.getBranch('alice.dev')).commit.author).toBe('alice')
    const e = await errorOf(alice.createNamespace('sales', { branch: 'bob.dev' }))
    expect(e.code).toBe('FORBIDDEN')
    expect(e.context.rule).toBe('write:bob.dev')
    expect(await codeOf(alice.getBranch('main'))).toBe('FORBIDDEN')
    expect((await lake.log('bob.dev')).length).toBe(1)
  })

  it('refuses a direct commit to protected main even for write:*, and lets a merge:main key merge into it', async () => {
    await lake.protectBranch('main')
    const { token: w } = await keys.create('writer', { rules: ['write:*'] })
    const { token: m } = await keys.create('release', { rules: ['merge:main', 'read:*'] })
    const writer = as(w)
    const protectedErr = await errorOf(writer.createNamespace('sales', { branch: 'main' }))
    expect(protectedErr.code).toBe('BRANCH_PROTECTED')
    await writer.createNamespace('sales', { branch: 'alice.dev' })
    const mergeErr = await errorOf(writer.merge('alice.dev', { into: 'main' }))
    expect(mergeErr.code).toBe('FORBIDDEN')
    expect(mergeErr.context.rule).toBe('merge:main')
    expect((await lake.log('main')).length).toBe(1)
    const merged = await as(m).merge('alice.dev', { into: 'main', message: 'release sales' })
    expect(merged.kind).toBe('fast-forward')
    expect((await lake.listNamespaces({ ref: 'main' })).map((n) => n.namespace).sort()).toEqual([
      'sales',
      'tarn',
    ])
    expect((await errorOf(writer.protectBranch('alice.dev'))).context.rule).toBe('admin:alice.dev')
    expect((await errorOf(as(m).unprotectBranch('main'))).context.rule).toBe('admin:main')
    expect(await lake.protectedBranches()).toEqual(['main'])
    // locally anyone may merge; nobody commits directly
    expect(await codeOf(lake.dropNamespace('sales', { branch: 'main' }))).toBe('BRANCH_PROTECTED')
  })

  it('reads server-side files only for admin:* keys, and lake-wide records only for * rules', async () => {
    const csv = join(home, '..', 'orders.csv')
    writeFileSync(csv, 'id,name\n1,a\n')
    const { token: w } = await keys.create('writer', { rules: ['write:*'] })
    const { token: a } = await keys.create('ops', { rules: ['admin:*'] })
    const { token: alice } = await keys.create('alice', { rules: ['merge:alice.*'] })
    const e = await errorOf(as(w).createTable('orders', { from: csv, branch: 'alice.dev' }))
    expect(e.code).toBe('FORBIDDEN')
    expect(e.context.rule).toBe('admin:*')
    expect((await lake.listTables({ ref: 'alice.dev' })).length).toBe(0)
    const created = await as(a).createTable('orders', { from: csv, branch: 'alice.dev' })
    expect(created.commit.author).toBe('ops')
    expect((await errorOf(as(alice).listJobs())).context.rule).toBe('read:*')
    expect(await as(w).listJobs()).toEqual([])
    expect((await errorOf(as(w).gc({ olderThanMs: 0, dryRun: true }))).context.rule).toBe('admin:*')
    expect((await as(a).gc({ olderThanMs: 0, dryRun: true })).dryRun).toBe(true)
  })

  it('refuses an expired key and a deleted key', async () => {
    const { token: shortLived } = await keys.create('temp', { rules: ['read:*'], expiresInMs: 3_600_000 })
    const { token: doomed } = await keys.create('doomed', { rules: ['read:*'] })
    expect((await as(shortLived).listBranches()).length).toBe(3)
    now += 2 * 3_600_000
    const e = await errorOf(as(shortLived).listBranches())
    expect(e.code).toBe('UNAUTHORIZED')
    expect(e.message).toContain('expired')
    expect((await as(doomed).listBranches()).length).toBe(3)
    await keys.remove('doomed')
    expect(await codeOf(as(doomed).listBranches())).toBe('UNAUTHORIZED')
    expect(await codeOf(keys.remove('doomed'))).toBe('KEY_NOT_FOUND')
  })

  it('keeps no secret in the catalog, in key listings or in error documents', async () => {
    const { token, key } = await keys.create('ci', { rules: ['read:*'] })
    const secret = token.slice(token.indexOf('.') + 1)
    expect(secret.length).toBeGreaterThan(30)
    await as(token).listBranches()
    await errorOf(as(token).createNamespace('x', { branch: 'main' }))
    await lake.catalog.backend.listRecords('api-key')
    // the SQLite file and its write-ahead log together hold the key record (its id) but never the secret
    const bytes = Buffer.concat(
      ['catalog.db', 'catalog.db-wal'].flatMap((f) => {
        try {
          return [readFileSync(join(home, f))]
        } catch {
          return []
        }
      }),
    )
    expect(bytes.includes(Buffer.from(key.id))).toBe(true)
    expect(bytes.includes(Buffer.from(secret))).toBe(false)
    expect(bytes.includes(Buffer.from(secret.slice(0, 16)))).toBe(false)
    expect(JSON.stringify(await keys.list())).not.toContain(secret)
    const res = await fetch(`${server.url}/api/v1/branches`, {
      headers: { authorization: `Bearer ${key.id}.x${secret}` },
    })
    expect(await res.text()).not.toContain(secret)
  })

  it('does not start off loopback without keys, and starts there once a key exists', async () => {
    const e = await errorOf(serve({ lake, keys, host: '0.0.0.0', port: 0 }))
    expect(e.code).toBe('INVALID_ARGUMENT')
    expect(e.message).toContain('without API keys')
    await keys.create('ops', { rules: ['admin:*'] })
    const open = await serve({ lake, keys, host: '0.0.0.0', port: 0 })
    try {
      const port = new URL(open.url).port
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/branches`)
      expect(res.status).toBe(401)
    } finally {
      await open.close()
    }
  })
})
