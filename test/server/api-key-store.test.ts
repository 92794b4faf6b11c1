import { afterEach, describe, expect, it } from 'vitest'
import { type CatalogBackend, PostgresBackend, SqliteBackend } from '../../src/catalog/index.js'
import { ApiKeyStore, seededRandom } from '../../src/index.js'
import { COUNT_REUSE_MS } from '../../src/server/auth/api-key-store.js'
import { codeOf } from '../helpers/errors.js'
import { freshSchemaUrl, postgresUrl } from '../helpers/postgres.js'

const pg = await postgresUrl()

for (const [name, open] of [
  ['sqlite', async () => SqliteBackend.open(':memory:')],
  ['postgres', async () => (pg ? PostgresBackend.open(freshSchemaUrl(pg, 'keys')) : undefined)],
] as const) {
  describe(`API keys in a ${name} catalog`, () => {
    let backend: CatalogBackend | undefined
    afterEach(async () => {
      await backend?.close()
    })

    it('verifies a key by id and scrypt hash, refuses a wrong secret, and forgets a removed key', async (t) => {
      backend = await open()
      if (!backend) return t.skip()
      await backend.migrate()
      let now = 1_000_000
      const keys = new ApiKeyStore(backend, { clock: { now: () => now }, random: seededRandom(7) })
      const { token, key } = await keys.create('ci', { rules: ['read:*', 'merge:main'], expiresInMs: 1000 })
      expect(token.startsWith(`${key.id}.`)).toBe(true)
      expect(await keys.count()).toBe(1)
      const p = await keys.verify(token)
      expect(p.key.name).toBe('ci')
      expect(p.rules.map((r) => r.text)).toEqual(['read:*', 'merge:main'])
      const stored = (await backend.listRecords('api-key'))[0]?.value ?? ''
      expect(stored).not.toContain(token.split('.')[1])
      expect(await codeOf(keys.verify(`${key.id}.${'x'.repeat(43)}`))).toBe('UNAUTHORIZED')
      expect(await codeOf(keys.create('ci', { rules: ['read:*'] }))).toBe('KEY_EXISTS')
      expect(await codeOf(keys.create('other', { rules: [] }))).toBe('USAGE')
      now += 1000
      expect(await codeOf(keys.verify(token))).toBe('UNAUTHORIZED')
      await keys.remove('ci')
      expect(await keys.list()).toEqual([])
      expect(await codeOf(keys.verify(token))).toBe('UNAUTHORIZED')
    })

    it('reuses a key count above zero for a second, except after its own creates and removes, and never a zero count', async (t) => {
      backend = await open()
      if (!backend) return t.skip()
      await backend.migrate()
      let now = 1_000_000
      const deps = { clock: { now: () => now }, random: seededRandom(7) }
      const server = new ApiKeyStore(backend, deps)
      const other = new ApiKeyStore(backend, { ...deps, random: seededRandom(8) })
      expect(await server.count()).toBe(0)
      // no key yet: a key another process creates counts at once (the open server closes at once)
      await other.create('first', { rules: ['read:*'] })
      expect(await server.count()).toBe(1)
      await other.remove('first')
      now += COUNT_REUSE_MS
      expect(await server.count()).toBe(0)
      await server.create('own', { rules: ['read:*'] })
      expect(await server.count()).toBe(1)
      // a key another process creates counts once the reused count is a second old
      await other.create('elsewhere', { rules: ['read:*'] })
      now += COUNT_REUSE_MS - 1
      expect(await server.count()).toBe(1)
      now += 1
      expect(await server.count()).toBe(2)
      await server.remove('own')
      expect(await server.count()).toBe(1)
    })
  })
}
