import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import picomatch from 'picomatch'

/**
 * A parsed `--from` glob: the literal directory or key prefix before its first wildcard, and a matcher of whole paths.
 * Supports `*`, `**`, `?`, character classes `[0-9]`, `[!0-9]` and braces `{a,b}` (picomatch, `/` as separator).
 */
export interface SourceGlob {
  /** True when the pattern has wildcards; false for a plain path. */
  readonly isGlob: boolean
  /** The literal leading directories (no trailing `/`), '' when the pattern starts with a wildcard. */
  readonly base: string
  /** True when the pattern reaches below `base`'s direct children (`**` or a `/` after the first wildcard). */
  readonly recursive: boolean
  /** Whether a whole path (or key) matches the pattern. */
  matches(path: string): boolean
}

/**
 * Parses a glob over `/`-separated paths or object keys.
 */
export function sourceGlob(pattern: string): SourceGlob {
  // The shell's negated class `[!...]` is picomatch's `[^...]`.
  const scan = picomatch.scan(pattern)
  const isMatch = picomatch(pattern.replace(/\[!/g, '[^'))
  return {
    isGlob: scan.isGlob,
    base: scan.isGlob ? scan.base : pattern,
    recursive: scan.glob.includes('/') || scan.glob.includes('**'),
    matches: (path) => (scan.isGlob ? isMatch(path) : path === pattern),
  }
}

/**
 * The local files matching an absolute glob, sorted by path.
 */
export async function localGlob(pattern: string): Promise<string[]> {
  const glob = sourceGlob(pattern)
  const base = glob.base === '' ? '.' : glob.base
  const entries = await readdir(base, { recursive: glob.recursive, withFileTypes: true }).catch(() => [])
  const out: string[] = []
  for (const e of entries) {
    if (!e.isFile() && !e.isSymbolicLink()) continue
    const path = join(e.parentPath ?? e.path ?? base, e.name)
    if (glob.matches(path)) out.push(path)
  }
  return out.sort()
}
