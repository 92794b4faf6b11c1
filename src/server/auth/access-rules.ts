import picomatch from 'picomatch'
import { parseRefSpec } from '../../catalog/ref-spec.js'
import { TarnError } from '../../util/errors.js'

/**
 * What an API key may do, weakest first; each action includes the weaker ones (`merge:main` may also read and write
 * `main`, `admin` may do everything).
 *
 * @example
 * ```ts
 * const a: AccessAction = 'merge'
 * ```
 */
export type AccessAction = 'read' | 'write' | 'merge' | 'admin'

const LEVEL: Readonly<Record<AccessAction, number>> = { read: 1, write: 2, merge: 3, admin: 4 }

/**
 * One rule of an API key: an action on the branches (and tags) whose names match a glob. `*` matches any name,
 * including names with `/` (`read:*`, `write:alice.*`, `merge:main`).
 *
 * @example
 * ```ts
 * const r: AccessRule = parseAccessRule('write:alice.*') // { action: 'write', glob: 'alice.*', text: 'write:alice.*' }
 * ```
 */
export interface AccessRule {
  readonly action: AccessAction
  readonly glob: string
  readonly text: string
}

/**
 * What a request needs: an action on a ref (its branch or tag name), or on the whole lake when `ref` is absent (job
 * records, garbage collection): then only a rule whose glob is `*` grants it.
 *
 * @example
 * ```ts
 * const need: AccessNeed = { action: 'write', ref: 'alice.dev' }
 * ```
 */
export interface AccessNeed {
  readonly action: AccessAction
  readonly ref?: string
}

/**
 * Parses `action:glob`; `INVALID_ARGUMENT` for anything else.
 *
 * @example
 * ```ts
 * parseAccessRule('read:*').action // 'read'
 * ```
 */
export function parseAccessRule(text: string): AccessRule {
  const m = /^(read|write|merge|admin):(\S+)$/.exec(text)
  if (!m) {
    throw new TarnError(
      'INVALID_ARGUMENT',
      `invalid rule ${JSON.stringify(text)}: use read|write|merge|admin:<branch glob>, e.g. read:* or write:alice.*`,
      { rule: text },
    )
  }
  return { action: m[1] as AccessAction, glob: m[2] as string, text }
}

/**
 * The branch or tag name a ref expression reads (`main@3fa1c2` and `main~2` read `main`); a bare commit (`@3fa1c2`)
 * is named `@<hash>`, which only a `*` rule matches.
 */
export function refSubject(ref: string): string {
  const spec = parseRefSpec(ref)
  return spec.name ?? `@${spec.hash ?? ''}`
}

function grants(rule: AccessRule, need: AccessNeed): boolean {
  if (LEVEL[rule.action] < LEVEL[need.action]) return false
  if (rule.glob === '*' || rule.glob === '**') return true
  if (need.ref === undefined) return false
  return picomatch(rule.glob, { bash: true, dot: true })(refSubject(need.ref))
}

/**
 * The rule text a request lacks (`write:bob.dev`, `read:*`), or undefined when the rules grant every need.
 */
export function missingRule(rules: readonly AccessRule[], needs: readonly AccessNeed[]): string | undefined {
  for (const need of needs) {
    if (!rules.some((r) => grants(r, need)))
      return `${need.action}:${need.ref === undefined ? '*' : refSubject(need.ref)}`
  }
  return undefined
}
