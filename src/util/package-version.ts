import { readFileSync } from 'node:fs'

let cached: string | undefined

/**
 * The version of the installed tarn package (from its package.json), or `0.0.0` when it cannot be read.
 */
export function packageVersion(): string {
  if (cached !== undefined) return cached
  try {
    const pkg = new URL('../../package.json', import.meta.url)
    cached = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version
  } catch {
    cached = '0.0.0'
  }
  return cached
}
