import { spawnSync } from 'node:child_process'

/**
 * Whether `uv` is on PATH: tarn builds Python models' environments with it, so tests that run a Python model (the
 * taxi example has one) need it. Outside CI a missing uv skips them and prints why; in CI (`CI=true`) it throws, so
 * the suite fails instead of passing with the Python runs left out.
 *
 * @example
 * const withUv = uvAvailable('runs of the taxi example')
 * it.runIf(withUv)('runs the taxi example', async () => {})
 */
export function uvAvailable(what: string): boolean {
  const ok = spawnSync('uv', ['--version']).status === 0
  if (!ok && process.env.CI === 'true') throw new Error(`uv is required in CI for ${what} (pip install uv)`)
  if (!ok) console.warn(`[skip] ${what} skipped: uv is not on PATH (pip install uv)`)
  return ok
}
