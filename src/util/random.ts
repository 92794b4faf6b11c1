import { randomBytes } from 'node:crypto'

/**
 * The source of randomness and fresh ids. Injected wherever tarn makes ids (table uuids, job ids, file names) so that a
 * seeded run replays exactly.
 *
 * @example
 * ```ts
 * const rng = seededRandom(42)
 * rng.uuid() // the same uuid on every run with seed 42
 * ```
 */
export interface Random {
  /** A float in [0, 1). */
  next(): number
  /** `n` random bytes. */
  bytes(n: number): Uint8Array
  /** A random RFC 4122 version-4 UUID string. */
  uuid(): string
}

function uuidFromBytes(b: Uint8Array): string {
  const x = Uint8Array.from(b)
  x[6] = ((x[6] ?? 0) & 0x0f) | 0x40
  x[8] = ((x[8] ?? 0) & 0x3f) | 0x80
  const h = Buffer.from(x).toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

/**
 * Cryptographic randomness from the operating system.
 *
 * @example
 * ```ts
 * systemRandom.uuid() // a fresh v4 uuid
 * ```
 */
export const systemRandom: Random = {
  next: () => randomBytes(4).readUInt32BE(0) / 2 ** 32,
  bytes: (n) => new Uint8Array(randomBytes(n)),
  uuid: () => uuidFromBytes(randomBytes(16)),
}

/**
 * A deterministic PRNG (SplitMix32 stepping a 32-bit state) for tests and simulations.
 *
 * @example
 * ```ts
 * seededRandom(7).next() === seededRandom(7).next() // true
 * ```
 */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0
  const u32 = (): number => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
  const bytes = (n: number): Uint8Array => {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i += 4) {
      const v = u32()
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (v >>> (8 * j)) & 0xff
    }
    return out
  }
  return { next: () => u32() / 2 ** 32, bytes, uuid: () => uuidFromBytes(bytes(16)) }
}
