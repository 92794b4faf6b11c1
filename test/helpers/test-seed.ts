/**
 * The seed of a randomized test, the same policy everywhere: a fixed seed by default, so `npm test` (and CI) is a
 * repeatable gate; `TARN_SEED=<n>` replays seed n; `TARN_SEED=random` explores a fresh seed, printed for replay.
 *
 * @example
 * ```ts
 * const seed = testSeed(20261124) // TARN_SEED unset → 20261124; TARN_SEED=7 → 7; TARN_SEED=random → fresh
 * ```
 */
export function testSeed(fallback: number): number {
  const raw = process.env.TARN_SEED?.trim()
  if (raw === undefined || raw === '') return fallback
  if (raw === 'random') return Math.floor(Math.random() * 2 ** 31)
  const n = Number(raw)
  if (!Number.isInteger(n))
    throw new Error(`TARN_SEED must be an integer or "random", got ${JSON.stringify(raw)}`)
  return n | 0
}

/**
 * How many times more random cases a randomized test runs than its default: `TARN_SCALE` (default 1), for soaks such
 * as `TARN_SEED=random TARN_SCALE=10 npx vitest run test/model`.
 *
 * @example
 * ```ts
 * const numRuns = 40 * testScale()
 * ```
 */
export function testScale(): number {
  const raw = process.env.TARN_SCALE?.trim()
  if (raw === undefined || raw === '') return 1
  const n = Number(raw)
  if (!(n > 0)) throw new Error(`TARN_SCALE must be a positive number, got ${JSON.stringify(raw)}`)
  return n
}
