import { createHash, scrypt, timingSafeEqual } from 'node:crypto'
import type { CatalogBackend } from '../../catalog/backend.js'
import type { Clock } from '../../util/clock.js'
import { TarnError } from '../../util/errors.js'
import type { Random } from '../../util/random.js'
import { type AccessRule, parseAccessRule } from './access-rules.js'
import { ACCESS_TOKEN_PREFIX, readAccessToken, signAccessToken } from './access-token.js'

const KIND = 'api-key'
/** The admin record holding the HMAC secret that signs access tokens (made on first use, never printed). */
const TOKEN_SECRET = { kind: 'token-secret', id: 'hmac' } as const
/** scrypt cost: 16 MiB and tens of milliseconds per guess. */
const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 32 } as const
/** How long {@link ApiKeyStore.count} reuses the count it read (ms). */
export const COUNT_REUSE_MS = 1000
const KEY_NAME = /^[A-Za-z0-9_][A-Za-z0-9._@-]{0,99}$/

/**
 * An API key as listed: never its secret or hash. Plain data.
 *
 * @example
 * ```ts
 * const k: ApiKeyInfo = { id: '3fa1c2d4e5f60718', name: 'ci', rules: ['read:*'], createdAt: '2026-01-01T00:00:00.000Z', expiresAt: null }
 * ```
 */
export interface ApiKeyInfo {
  readonly id: string
  readonly name: string
  readonly rules: readonly string[]
  readonly createdAt: string
  /** ISO time after which the key is refused, or null for no expiry. */
  readonly expiresAt: string | null
}

interface StoredKey extends ApiKeyInfo {
  readonly salt: string
  readonly hash: string
  readonly scrypt: { readonly N: number; readonly r: number; readonly p: number }
}

/**
 * A verified caller: the key's name (the author of its commits) and its parsed rules.
 *
 * @example
 * ```ts
 * const p: ApiKeyPrincipal = await keys.verify(token); p.key.name // 'ci'
 * ```
 */
export interface ApiKeyPrincipal {
  readonly key: ApiKeyInfo
  readonly rules: readonly AccessRule[]
}

function derive(secret: string, salt: Buffer, params: StoredKey['scrypt']): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, SCRYPT.keyLength, { ...params, maxmem: 64 * 1024 * 1024 }, (e, key) =>
      e ? reject(e) : resolve(key),
    )
  })
}

function unauthorized(message: string): TarnError {
  return new TarnError('UNAUTHORIZED', message, {})
}

function info(k: StoredKey): ApiKeyInfo {
  return { id: k.id, name: k.name, rules: k.rules, createdAt: k.createdAt, expiresAt: k.expiresAt }
}

/**
 * API keys in the catalog database: a key is `<id>.<secret>`; only a salted scrypt hash of the secret is stored, so
 * the secret is shown once, at creation. Verification looks the key up by id and compares hashes in constant time;
 * a verified secret is remembered (as a SHA-256, in memory) so later requests skip scrypt, while deletion and expiry
 * are checked on every request.
 *
 * @example
 * ```ts
 * const keys = new ApiKeyStore(lake.catalog.backend, { clock: lake.clock, random: lake.random })
 * const { token } = await keys.create('ci', { rules: ['read:*'] })
 * const { key } = await keys.verify(token) // key.name === 'ci'
 * ```
 */
export class ApiKeyStore {
  readonly #backend: CatalogBackend
  readonly #clock: Clock
  readonly #random: Random
  readonly #verified = new Map<string, Buffer>()
  /** The last count read, and when: a burst of requests reads it once (see {@link count}). */
  #counted: { readonly keys: number; readonly at: number } | undefined
  #tokenSecret: Promise<Buffer> | undefined

  constructor(backend: CatalogBackend, deps: { clock: Clock; random: Random }) {
    this.#backend = backend
    this.#clock = deps.clock
    this.#random = deps.random
  }

  async #all(): Promise<StoredKey[]> {
    return (await this.#backend.listRecords(KIND)).map((r) => JSON.parse(r.value) as StoredKey)
  }

  /** Every key (without secrets), sorted by name. */
  async list(): Promise<ApiKeyInfo[]> {
    return (await this.#all()).map(info).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  /**
   * How many keys exist (the server is open on loopback only while there are none). The server asks on every request
   * without a key, so a count above zero is reused for {@link COUNT_REUSE_MS}: a key this store creates or removes
   * counts at once, one another process creates or removes within that time. A count of zero is never reused, so the
   * first key made by another process (`tarn key create` while the server runs) closes the server at once; a stale
   * positive count can only keep it closed a moment longer.
   */
  async count(): Promise<number> {
    const now = this.#clock.now()
    const last = this.#counted
    if (last !== undefined && last.keys > 0 && now >= last.at && now - last.at < COUNT_REUSE_MS)
      return last.keys
    const keys = (await this.#backend.listRecords(KIND)).length
    this.#counted = { keys, at: now }
    return keys
  }

  /**
   * Creates a key with rules (`read:*`, `write:alice.*`, ...) and an optional lifetime; returns the token, which is
   * never stored and cannot be shown again. `KEY_EXISTS` when the name is taken.
   */
  async create(
    name: string,
    options: { rules: readonly string[]; expiresInMs?: number },
  ): Promise<{ key: ApiKeyInfo; token: string }> {
    if (!KEY_NAME.test(name)) {
      throw new TarnError(
        'INVALID_NAME',
        `invalid key name ${JSON.stringify(name)}: letters, digits, _ . @ - (at most 100)`,
        { key: name },
      )
    }
    if (options.rules.length === 0) {
      throw new TarnError('USAGE', 'a key needs at least one rule, e.g. --allow read:*', { key: name })
    }
    for (const r of options.rules) parseAccessRule(r)
    if ((await this.#all()).some((k) => k.name === name)) {
      throw new TarnError('KEY_EXISTS', `a key named ${name} already exists`, { key: name })
    }
    const now = this.#clock.now()
    const id = Buffer.from(this.#random.bytes(8)).toString('hex')
    const secret = Buffer.from(this.#random.bytes(32)).toString('base64url')
    const salt = Buffer.from(this.#random.bytes(16))
    const params = { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }
    const stored: StoredKey = {
      id,
      name,
      rules: [...options.rules],
      createdAt: new Date(now).toISOString(),
      expiresAt: options.expiresInMs === undefined ? null : new Date(now + options.expiresInMs).toISOString(),
      salt: salt.toString('hex'),
      hash: (await derive(secret, salt, params)).toString('hex'),
      scrypt: params,
    }
    const inserted = await this.#backend.insertRecord({ kind: KIND, id, value: JSON.stringify(stored) })
    this.#counted = undefined
    if (!inserted) throw new TarnError('KEY_EXISTS', `a key with id ${id} already exists`, { key: name })
    return { key: info(stored), token: `${id}.${secret}` }
  }

  /** Deletes a key by name; requests with it are refused from then on. `KEY_NOT_FOUND` when there is none. */
  async remove(name: string): Promise<ApiKeyInfo> {
    const k = (await this.#all()).find((x) => x.name === name)
    if (!k || !(await this.#backend.deleteRecord(KIND, k.id))) {
      throw new TarnError('KEY_NOT_FOUND', `no key named ${name}; list keys with \`tarn key ls\``, {
        key: name,
      })
    }
    this.#verified.delete(k.id)
    this.#counted = undefined
    return info(k)
  }

  /** The HMAC secret of access tokens, kept in the catalog so every server process of the lake shares it. */
  #secret(): Promise<Buffer> {
    this.#tokenSecret ??= (async () => {
      const existing = await this.#backend.getRecord(TOKEN_SECRET.kind, TOKEN_SECRET.id)
      if (existing) return Buffer.from(existing.value, 'hex')
      const fresh = Buffer.from(this.#random.bytes(32)).toString('hex')
      await this.#backend.insertRecord({ ...TOKEN_SECRET, value: fresh })
      const stored = await this.#backend.getRecord(TOKEN_SECRET.kind, TOKEN_SECRET.id)
      return Buffer.from(stored?.value ?? fresh, 'hex')
    })()
    return this.#tokenSecret
  }

  /**
   * Exchanges an API key (`<id>.<secret>`) for a short-lived signed access token (the OAuth2 client-credentials flow
   * of Iceberg clients): `verify` accepts it as that key until it expires or the key is deleted.
   *
   * @example
   * ```ts
   * const { token, expiresInMs } = await keys.issueAccessToken(apiKey)
   * ```
   */
  async issueAccessToken(
    apiKey: string,
    options: { ttlMs?: number } = {},
  ): Promise<{ token: string; expiresInMs: number; principal: ApiKeyPrincipal }> {
    if (apiKey.startsWith(ACCESS_TOKEN_PREFIX)) throw unauthorized('exchange an API key, not an access token')
    const principal = await this.verify(apiKey)
    const now = this.#clock.now()
    let expiresInMs = options.ttlMs ?? 3_600_000
    if (principal.key.expiresAt !== null)
      expiresInMs = Math.min(expiresInMs, Date.parse(principal.key.expiresAt) - now)
    const token = signAccessToken(await this.#secret(), {
      keyId: principal.key.id,
      expiresAt: now + expiresInMs,
    })
    return { token, expiresInMs, principal }
  }

  async #verifyAccessToken(token: string): Promise<ApiKeyPrincipal> {
    const claims = readAccessToken(await this.#secret(), token)
    if (!claims) throw unauthorized('invalid access token')
    if (claims.expiresAt <= this.#clock.now()) throw unauthorized('the access token expired: fetch a new one')
    const record = await this.#backend.getRecord(KIND, claims.keyId)
    if (!record) throw unauthorized('the access token belongs to a deleted API key')
    const k = JSON.parse(record.value) as StoredKey
    if (k.expiresAt !== null && Date.parse(k.expiresAt) <= this.#clock.now()) {
      throw unauthorized(`API key ${k.name} expired at ${k.expiresAt}`)
    }
    return { key: info(k), rules: k.rules.map(parseAccessRule) }
  }

  /**
   * The caller a token belongs to — an API key or an access token issued for one; `UNAUTHORIZED` for a malformed,
   * unknown, wrong or expired token.
   */
  async verify(token: string): Promise<ApiKeyPrincipal> {
    if (token.startsWith(ACCESS_TOKEN_PREFIX)) return this.#verifyAccessToken(token)
    const dot = token.indexOf('.')
    const id = token.slice(0, dot)
    const secret = token.slice(dot + 1)
    if (dot <= 0 || !/^[0-9a-f]{16}$/.test(id) || secret.length === 0) {
      throw unauthorized('malformed API key: expected <id>.<secret>')
    }
    const record = await this.#backend.getRecord(KIND, id)
    if (!record) throw unauthorized('unknown API key')
    const k = JSON.parse(record.value) as StoredKey
    if (k.expiresAt !== null && Date.parse(k.expiresAt) <= this.#clock.now()) {
      throw new TarnError('UNAUTHORIZED', `API key ${k.name} expired at ${k.expiresAt}`, {
        key: k.name,
        expiresAt: k.expiresAt,
      })
    }
    const digest = createHash('sha256').update(secret).digest()
    const seen = this.#verified.get(id)
    if (!(seen !== undefined && timingSafeEqual(seen, digest))) {
      const expected = Buffer.from(k.hash, 'hex')
      const actual = await derive(secret, Buffer.from(k.salt, 'hex'), k.scrypt)
      if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
        throw unauthorized('wrong API key secret')
      }
      this.#verified.set(id, digest)
    }
    return { key: info(k), rules: k.rules.map(parseAccessRule) }
  }
}
