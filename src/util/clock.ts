/**
 * The source of time. Everything in tarn that needs "now" takes a Clock, so that simulations and model-based tests
 * replay exactly.
 *
 * @example
 * ```ts
 * const clock = fixedClock(Date.parse('2026-01-01T00:00:00Z'), 1000)
 * clock.now() // 1767225600000, then 1767225601000, ...
 * ```
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
}

/**
 * The wall clock.
 *
 * @example
 * ```ts
 * new Catalog(backend, { clock: systemClock })
 * ```
 */
export const systemClock: Clock = { now: () => Date.now() }

/**
 * A deterministic clock that starts at `startMs` and advances by `stepMs` on every call.
 *
 * @example
 * ```ts
 * const c = fixedClock(0, 10); c.now(); c.now() // 0, 10
 * ```
 */
export function fixedClock(startMs: number, stepMs = 1): Clock {
  let t = startMs - stepMs
  return {
    now: () => {
      t += stepMs
      return t
    },
  }
}
