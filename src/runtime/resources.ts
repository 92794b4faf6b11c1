import { TarnError } from '../util/errors.js'

/**
 * Memory limit (MB) of a function worker when its model declares none.
 */
export const DEFAULT_MEMORY_MB = 1024
/**
 * Time limit (ms) of a function worker when its model declares none.
 */
export const DEFAULT_TIMEOUT_MS = 10 * 60_000

/**
 * Megabytes of a memory size such as `512MB`, `1GB`, `2g` (default when `null`).
 */
export function memoryMb(text: string | null): number {
  if (text === null) return DEFAULT_MEMORY_MB
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(text)
  if (!m) throw new TarnError('INVALID_ARGUMENT', `memory must be a size such as 512MB or 1GB, got ${text}`)
  const unit =
    { '': 1 / 2 ** 20, k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 }[(m[2] ?? '').toLowerCase()] ?? 1
  return Math.max(16, Math.floor(Number(m[1]) * unit))
}

/**
 * Milliseconds of a duration such as `500ms`, `30s`, `5m`, `1h` (default when `null`).
 */
export function timeoutMs(text: string | null): number {
  if (text === null) return DEFAULT_TIMEOUT_MS
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text)
  if (!m) throw new TarnError('INVALID_ARGUMENT', `timeout must be a duration such as 30s or 5m, got ${text}`)
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's').toLowerCase()] ?? 1000
  return Math.floor(Number(m[1]) * unit)
}

/**
 * A memory size for messages: `512MB`, `1GB`.
 */
export function memoryText(mb: number): string {
  return mb >= 1024 && mb % 1024 === 0 ? `${mb / 1024}GB` : `${mb}MB`
}
