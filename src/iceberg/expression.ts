/**
 * A literal in a filter: a JS number, bigint, string (dates/timestamps as ISO text), boolean or Date.
 */
export type Literal = number | bigint | string | boolean | Date

/**
 * A row filter over top-level columns (by current name), used for pruning and for deletes/overwrites.
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
 */
export function eq(column: string, value: Literal): Expression {
  return { op: 'eq', column, value }
}

/**
 * Conjunction of predicates.
 */
export function and(...args: Expression[]): Expression {
  return { op: 'and', args }
}
