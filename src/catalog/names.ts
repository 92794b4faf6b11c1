import { TarnError } from '../util/errors.js'

/**
 * Longest accepted branch or tag name.
 */
export const MAX_REF_NAME_LENGTH = 200

const REF_NAME = /^[A-Za-z0-9_][A-Za-z0-9._/-]*$/
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Why `name` is not a valid branch or tag name, or undefined when it is valid. Allowed: letters, digits, `_`, `.`,
 * `-` and `/`, starting with a letter, digit or `_`; no `..`, `//`, `/.`, trailing `/` or `.`, or `.lock` suffix;
 * at most {@link MAX_REF_NAME_LENGTH} characters. `user.name` style names are valid.
 *
 * @example
 * ```ts
 * refNameProblem('alice.dev') // undefined
 * refNameProblem('-x')        // 'must start with a letter, digit or _'
 * ```
 */
export function refNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty'
  if (name.length > MAX_REF_NAME_LENGTH) return `must be at most ${MAX_REF_NAME_LENGTH} characters`
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'must not contain control characters'
  if (!/^[A-Za-z0-9_]/.test(name)) return 'must start with a letter, digit or _'
  if (!REF_NAME.test(name)) return 'may contain only letters, digits, _ . - and /'
  if (name.includes('..')) return 'must not contain ..'
  if (name.includes('//') || name.includes('/.')) return 'must not contain // or /.'
  if (name.endsWith('/') || name.endsWith('.')) return 'must not end with / or .'
  if (name.endsWith('.lock')) return 'must not end with .lock'
  return undefined
}

/**
 * Throws `INVALID_NAME` unless `name` is a valid branch or tag name (see {@link refNameProblem}).
 *
 * @example
 * ```ts
 * assertRefName('alice.dev', 'branch')
 * ```
 */
export function assertRefName(name: string, what: 'branch' | 'tag'): void {
  const problem = refNameProblem(name)
  if (problem)
    throw new TarnError('INVALID_NAME', `invalid ${what} name ${JSON.stringify(name)}: ${problem}`, {
      [what]: name,
    })
}

/**
 * Throws `INVALID_NAME` unless `name` is a valid namespace or table identifier: a letter or `_`, then letters,
 * digits or `_`, at most 128 characters.
 *
 * @example
 * ```ts
 * assertIdentifier('sales', 'namespace')
 * ```
 */
export function assertIdentifier(name: string, what: 'namespace' | 'table'): void {
  if (!IDENT.test(name) || name.length > 128) {
    throw new TarnError(
      'INVALID_NAME',
      `invalid ${what} name ${JSON.stringify(name)}: use a letter or _ followed by letters, digits or _ (at most 128)`,
      { [what]: name },
    )
  }
}

/**
 * A table key split into namespace and name.
 *
 * @example
 * ```ts
 * const { namespace, name } = parseTableKey('sales.orders') // 'sales', 'orders'
 * ```
 */
export interface TableKey {
  readonly namespace: string
  readonly name: string
  /** `namespace.name` */
  readonly key: string
}

/**
 * Parses `orders` or `sales.orders` into a table key; a bare name goes into `defaultNamespace`.
 *
 * @example
 * ```ts
 * parseTableKey('orders', 'tarn').key // 'tarn.orders'
 * ```
 */
export function parseTableKey(text: string, defaultNamespace = 'tarn'): TableKey {
  const parts = text.split('.')
  if (parts.length > 2) {
    throw new TarnError(
      'INVALID_NAME',
      `invalid table name ${JSON.stringify(text)}: use table or namespace.table`,
      {
        table: text,
      },
    )
  }
  const [namespace, name] =
    parts.length === 2 ? [parts[0] ?? '', parts[1] ?? ''] : [defaultNamespace, parts[0] ?? '']
  assertIdentifier(namespace, 'namespace')
  assertIdentifier(name, 'table')
  return { namespace, name, key: `${namespace}.${name}` }
}
