import { afterEach, describe, expect, it } from 'vitest'
import { type CatalogBackend, PostgresBackend, SqliteBackend } from '../../src/catalog/index.js'
import { ApiKeyStore, seededRandom } from '../../src/index.js'
import { codeOf } from '../helpers/errors.js'
import { freshSchemaUrl, postgresUrl } from '../helpers/postgres.js'

const pg = await postgresUrl()

for (const [name, open] of [
  ['sqlite', async () => SqliteBackend.open(':memory:')],
  ['postgres', async () => (pg ? PostgresBackend.open(freshSchemaUrl(pg, 'tokens')) : undefined)],
] as const) {
  describe(`access tokens for API keys in a ${name} catalog`, () => {
    let backend: CatalogBackend | undefined
    afterEach(async () => {
      await backend?.close()
    })

    it('issues a signed token that stands for its key until it expires, the key is deleted or a byte changes', async (t) => {
      backend = await open()
      if (!backend) return t.skip()
      await backend.migrate()
      let now = 5_000_000
      const keys = new ApiKeyStore(backend, { clock: { now: () => now }, random: seededRandom(11) })
      const { token: apiKey } = await keys.create('spark', { rules: ['write:dev'] })
      const { token, expiresInMs } = await keys.issueAccessToken(apiKey, { ttlMs: 60_000 })
      expect(expiresInMs).toBe(60_000)
      expect(token.startsWith('at1.')).toBe(true)
      expect(token).not.toContain(apiKey.split('.')[1])
      expect((await keys.verify(token)).key.name).toBe('spark')
      // another store on the same catalog (another server process) shares the signing secret
      const again = new ApiKeyStore(backend, { clock: { now: () => now }, random: seededRandom(12) })
      expect((await again.verify(token)).rules.map((r) => r.text)).toEqual(['write:dev'])
      for (const at of [token.length - 1, token.length - 10]) {
        const c = token[at] === 'A' ? 'B' : 'A'
        const flipped = `${token.slice(0, at)}${c}${token.slice(at + 1)}`
        expect(await codeOf(keys.verify(flipped))).toBe('UNAUTHORIZED')
      }
      expect(await codeOf(keys.issueAccessToken(token))).toBe('UNAUTHORIZED')
      expect(await codeOf(keys.issueAccessToken(`${apiKey}x`))).toBe('UNAUTHORIZED')
      now += 60_000
      expect(await codeOf(keys.verify(token))).toBe('UNAUTHORIZED')
      const fresh = (await keys.issueAccessToken(apiKey)).token
      expect((await keys.verify(fresh)).key.name).toBe('spark')
      await keys.remove('spark')
      expect(await codeOf(keys.verify(fresh))).toBe('UNAUTHORIZED')
    })

    it('never issues a token that outlives its key', async (t) => {
      backend = await open()
      if (!backend) return t.skip()
      await backend.migrate()
      const now = 1_000_000
      const keys = new ApiKeyStore(backend, { clock: { now: () => now }, random: seededRandom(13) })
      const { token } = await keys.create('short', { rules: ['read:*'], expiresInMs: 10_000 })
      expect((await keys.issueAccessToken(token)).expiresInMs).toBe(10_000)
    })
  })
}
