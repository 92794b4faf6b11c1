import type ts from 'typescript'

/**
 * An `input(table, options)` call read from source.
 */
export class InputCall {
  constructor(
    readonly table: string,
    readonly options: Readonly<Record<string, StaticValue>>,
    readonly line: number,
  ) {}
}

/**
 * A value of a config literal as the analyser sees it: JSON-like data, with `input(...)` calls kept as
 * {@link InputCall}s.
 */
export type StaticValue =
  | string
  | number
  | boolean
  | null
  | InputCall
  | readonly StaticValue[]
  | { readonly [key: string]: StaticValue }

/**
 * Whether a static value is an object literal (not an array, `null` or an `input(...)` call).
 */
export function isRecord(v: StaticValue | undefined): v is { readonly [key: string]: StaticValue } {
  return (
    v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v) && !(v instanceof InputCall)
  )
}

/**
 * A function that looks through parentheses, `as`, `satisfies`, type assertions and `!` to the expression beneath.
 */
export function unwrapper(compiler: typeof ts): (e: ts.Expression) => ts.Expression {
  return (e) => {
    let x = e
    while (
      compiler.isParenthesizedExpression(x) ||
      compiler.isAsExpression(x) ||
      compiler.isSatisfiesExpression(x) ||
      compiler.isTypeAssertionExpression(x) ||
      compiler.isNonNullExpression(x)
    )
      x = x.expression
    return x
  }
}
