import { ERROR_CODES, type ErrorCode } from './error-codes.js'

export { ERROR_CODES, type ErrorCode, type ErrorCodeInfo, isErrorCode } from './error-codes.js'

/**
 * Extra facts a user needs to act on an error: the ref, table, file, SQL, ...
 *
 * @example
 * ```ts
 * new TarnError('TABLE_NOT_FOUND', 'table orders does not exist at main', { table: 'orders', ref: 'main' })
 * ```
 */
export type ErrorContext = Readonly<Record<string, unknown>>

/**
 * The one error type tarn throws. It carries a stable `code`, a human message, the context a user needs, and the
 * underlying `cause` when there is one.
 *
 * @example
 * ```ts
 * try {
 *   await lake.getBranch('nope')
 * } catch (e) {
 *   if (e instanceof TarnError && e.code === 'BRANCH_NOT_FOUND') console.log(e.context.branch)
 * }
 * ```
 */
export class TarnError extends Error {
  override readonly name = 'TarnError'
  readonly code: ErrorCode
  readonly context: ErrorContext

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.context = context
  }

  /** The JSON document the CLI prints with `--json`. */
  toJSON(): { code: string; message: string; context: ErrorContext } {
    return { code: this.code, message: this.message, context: this.context }
  }
}

/**
 * True when `e` is a {@link TarnError}, optionally with the given code.
 *
 * @example
 * ```ts
 * if (isTarnError(e, 'MERGE_CONFLICT')) console.log(e.context.tables)
 * ```
 */
export function isTarnError(e: unknown, code?: ErrorCode): e is TarnError {
  return e instanceof TarnError && (code === undefined || e.code === code)
}

/**
 * `text` on one line: line breaks and the blanks around them become one space, so that errors from DuckDB, SQLite
 * or the AWS SDK print as the one line the CLI promises.
 */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim()
}

/**
 * The one-line message of anything thrown: an Error's message, or the value as a string.
 */
export function messageOf(e: unknown): string {
  return oneLine(e instanceof Error ? e.message : String(e))
}

/**
 * `e` as a {@link TarnError}: itself when it is one, else `INTERNAL` with the original error as `cause`, its
 * one-line message, and its class name in the context, so that no plain `Error` reaches a user.
 *
 * @example
 * ```ts
 * asTarnError(new RangeError('offset out of range')).code // 'INTERNAL'
 * ```
 */
export function asTarnError(e: unknown): TarnError {
  if (e instanceof TarnError) return e
  const error = e instanceof Error ? e.name : typeof e
  return new TarnError('INTERNAL', messageOf(e), { error }, { cause: e })
}

/**
 * The process exit code for an error code: 2 usage, 3 not found, 4 conflict, 5 failed run or expectation, 1 other.
 *
 * @example
 * ```ts
 * exitCodeFor('MERGE_CONFLICT') // 4
 * ```
 */
export function exitCodeFor(code: ErrorCode): number {
  return ERROR_CODES[code].exit
}

/**
 * The HTTP status for an error code (400, 401, 403, 404, 409, 422, 429 or 500).
 *
 * @example
 * ```ts
 * httpStatusFor('BRANCH_NOT_FOUND') // 404
 * ```
 */
export function httpStatusFor(code: ErrorCode): number {
  return ERROR_CODES[code].http
}
