import { createHmac, timingSafeEqual } from 'node:crypto'

/** What every access token starts with (API keys are `<16 hex>.<secret>`, so the two never look alike). */
export const ACCESS_TOKEN_PREFIX = 'at1.'

/**
 * What an access token says: which API key it stands for and until when (ms since the epoch).
 */
export interface AccessTokenClaims {
  readonly keyId: string
  readonly expiresAt: number
}

function mac(secret: Uint8Array, body: string): Buffer {
  return createHmac('sha256', secret).update(body).digest()
}

/**
 * A short signed token for an API key (the OAuth2 client-credentials flow of Iceberg clients):
 * `at1.<key id>.<expiry, base 36>.<HMAC-SHA256, base64url>`. It carries no secret; the server's HMAC secret signs it.
 */
export function signAccessToken(secret: Uint8Array, claims: AccessTokenClaims): string {
  const body = `${ACCESS_TOKEN_PREFIX}${claims.keyId}.${claims.expiresAt.toString(36)}`
  return `${body}.${mac(secret, body).toString('base64url')}`
}

/**
 * The claims of a token this secret signed, or undefined when it is malformed or its signature is wrong (compared in
 * constant time). Expiry is the caller's to check.
 */
export function readAccessToken(secret: Uint8Array, token: string): AccessTokenClaims | undefined {
  const m = /^at1\.([0-9a-f]{16})\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token)
  if (!m) return undefined
  const body = token.slice(0, token.lastIndexOf('.'))
  // compare the text, not decoded bytes: base64url's last character has bits that decoding ignores
  const expected = Buffer.from(mac(secret, body).toString('base64url'))
  const actual = Buffer.from(m[3] as string)
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined
  return { keyId: m[1] as string, expiresAt: Number.parseInt(m[2] as string, 36) }
}
