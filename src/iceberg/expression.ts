/**
 * A literal in a filter: a JS number, bigint, string (dates/timestamps as ISO text), boolean or Date.
 *
 * @example
 * ```ts
 * const v: Literal = '2024-01-31'
 * ```
 */
export type Literal = number | bigint | string | boolean | Date

/**
 * A row filter over top-level columns (by current name), used for pruning and for deletes/overwrites.
 *
 * @example
 * ```ts
 * const f: Expression = { op: 'and', args: [{ op: 'eq', column: 'region', value: 'EU' }, { op: 'gt', column: 'n', value: 3 }] }
 * ```
 */
export type Expression =
  | { readonly op: 'true' }
  | { readonly op: 'and' | 'or'; readonly args: readonly Expression[] }
  | { readonly op: 'not'; readonly arg: Expression }
  | {
      readonly op: 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte'
      readonly column: string
      readonly value: Literal
    }
  | { readonly op: 'in'; readonly column: string; readonly values: readonly Literal[] }
  | { readonly op: 'isNull' | 'notNull'; readonly column: string }

/**
 * Builds an equality predicate.
 *
 * @example
 * ```ts
 * eq('region', 'EU') // { op: 'eq', column: 'region', value: 'EU' }
 * ```
 */
export function eq(column: string, value: Literal): Expression {
  return { op: 'eq', column, value }
}

/**
 * Conjunction of predicates.
 *
 * @example
 * ```ts
 * and(eq('a', 1), eq('b', 2))
 * ```
 */
export function and(...args: Expression[]): Expression {
  return { op: 'and', args }
}
