import { TarnError } from '../util/errors.js'
import { refNameProblem } from './names.js'

/**
 * A parsed ref expression. Plain data; {@link Catalog.resolve} turns it into a commit.
 *
 * Grammar: `name`, `name@hash`, `@hash`, each optionally followed by `~N` (N first-parent steps back) or
 * `*<ISO-8601 timestamp>` (the last first-parent commit at or before that time). `hash` is a hex prefix of at least
 * 4 characters.
 *
 * @example
 * ```ts
 * const spec: RefSpec = parseRefSpec('main~2') // { text: 'main~2', name: 'main', back: 2 }
 * ```
 */
export interface RefSpec {
  /** The expression as written. */
  readonly text: string
  /** Branch or tag name, when the expression starts with one. */
  readonly name?: string
  /** Commit hash prefix (lower-case hex), when given with `@`. */
  readonly hash?: string
  /** Steps back along first parents (`~N`). */
  readonly back?: number
  /** Time bound in milliseconds since the epoch (`*timestamp`). */
  readonly at?: number
}

const HASH = /^[0-9a-fA-F]{4,64}$/
const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/

function invalid(text: string, why: string): TarnError {
  return new TarnError('INVALID_REF', `invalid ref ${JSON.stringify(text)}: ${why}`, { ref: text })
}

/**
 * Parses a ref expression; throws `INVALID_REF` naming what is wrong.
 *
 * @example
 * ```ts
 * parseRefSpec('main~2')               // { text: 'main~2', name: 'main', back: 2 }
 * parseRefSpec('main@3fa1c2')          // { text, name: 'main', hash: '3fa1c2' }
 * parseRefSpec('main*2026-01-31T10:00:00Z').at // 1769853600000
 * ```
 */
export function parseRefSpec(text: string): RefSpec {
  if (typeof text !== 'string' || text.length === 0) throw invalid(String(text), 'empty')
  let base = text
  let back: number | undefined
  let at: number | undefined
  const cut = text.search(/[~*]/)
  if (cut >= 0) {
    base = text.slice(0, cut)
    const suffix = text.slice(cut)
    if (suffix.startsWith('~')) {
      const n = suffix.slice(1)
      if (n === '') back = 1
      else if (/^\d{1,9}$/.test(n)) back = Number(n)
      else throw invalid(text, `"~" must be followed by a number of commits, got ${JSON.stringify(n)}`)
    } else {
      const ts = suffix.slice(1)
      const ms = Date.parse(ts)
      if (!ISO.test(ts) || Number.isNaN(ms)) {
        throw invalid(text, `"*" must be followed by an ISO-8601 timestamp such as 2026-01-31T10:00:00Z`)
      }
      at = ms
    }
  }
  let name: string | undefined
  let hash: string | undefined
  const atSign = base.indexOf('@')
  if (atSign >= 0) {
    const h = base.slice(atSign + 1)
    if (!HASH.test(h)) throw invalid(text, 'a commit hash after "@" must be 4 to 64 hex characters')
    hash = h.toLowerCase()
    if (atSign > 0) name = base.slice(0, atSign)
  } else {
    name = base
  }
  if (name !== undefined) {
    const problem = refNameProblem(name)
    if (problem) throw invalid(text, `ref name ${problem}`)
  }
  return {
    text,
    ...(name !== undefined ? { name } : {}),
    ...(hash !== undefined ? { hash } : {}),
    ...(back !== undefined ? { back } : {}),
    ...(at !== undefined ? { at } : {}),
  }
}
