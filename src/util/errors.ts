/**
 * Stable error codes. Each code maps to one CLI exit code (see {@link exitCodeFor}).
 * Codes are part of the public contract: never rename one, only add.
 *
 * @example
 * ```ts
 * const code: ErrorCode = 'BRANCH_NOT_FOUND'
 * ```
 */
export type ErrorCode =
  | 'USAGE'
  | 'INVALID_NAME'
  | 'INVALID_REF'
  | 'INVALID_ARGUMENT'
  | 'LAKE_NOT_FOUND'
  | 'BRANCH_NOT_FOUND'
  | 'TAG_NOT_FOUND'
  | 'REF_NOT_FOUND'
  | 'COMMIT_NOT_FOUND'
  | 'NAMESPACE_NOT_FOUND'
  | 'TABLE_NOT_FOUND'
  | 'OBJECT_NOT_FOUND'
  | 'JOB_NOT_FOUND'
  | 'BRANCH_EXISTS'
  | 'TAG_EXISTS'
  | 'NAMESPACE_EXISTS'
  | 'TABLE_EXISTS'
  | 'NOT_A_BRANCH'
  | 'BRANCH_SEALED'
  | 'BRANCH_PROTECTED'
  | 'BRANCH_HEAD_CHANGED'
  | 'MERGE_CONFLICT'
  | 'REVERT_CONFLICT'
  | 'TABLE_NOT_CHANGED'
  | 'RUN_INCOMPLETE'
  | 'NAMESPACE_NOT_EMPTY'
  | 'AMBIGUOUS_REF'
  | 'NOTHING_TO_COMMIT'
  | 'RUN_FAILED'
  | 'EXPECTATION_FAILED'
  | 'STORAGE_ERROR'
  | 'CATALOG_ERROR'
  | 'INVALID_FILE'
  | 'SCHEMA_MISMATCH'
  | 'ALREADY_IMPORTED'
  | 'INTERNAL'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'KEY_NOT_FOUND'
  | 'KEY_EXISTS'
  | 'ROUTE_NOT_FOUND'
  | 'NOT_SUPPORTED'
  | 'SERVER_UNREACHABLE'
  | (string & {})

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

const NOT_FOUND = new Set([
  'LAKE_NOT_FOUND',
  'BRANCH_NOT_FOUND',
  'TAG_NOT_FOUND',
  'REF_NOT_FOUND',
  'COMMIT_NOT_FOUND',
  'NAMESPACE_NOT_FOUND',
  'TABLE_NOT_FOUND',
  'OBJECT_NOT_FOUND',
  'JOB_NOT_FOUND',
  'PROJECT_NOT_FOUND',
  'COLUMN_NOT_FOUND',
  'KEY_NOT_FOUND',
  'ROUTE_NOT_FOUND',
])
const CONFLICT = new Set([
  'BRANCH_EXISTS',
  'TAG_EXISTS',
  'NAMESPACE_EXISTS',
  'TABLE_EXISTS',
  'BRANCH_HEAD_CHANGED',
  'MERGE_CONFLICT',
  'REVERT_CONFLICT',
  'NAMESPACE_NOT_EMPTY',
  'BRANCH_SEALED',
  'BRANCH_PROTECTED',
  'RUN_INCOMPLETE',
  'NOT_A_BRANCH',
  'ALREADY_IMPORTED',
  'KEY_EXISTS',
])
const USAGE = new Set([
  'USAGE',
  'INVALID_NAME',
  'INVALID_REF',
  'INVALID_ARGUMENT',
  'AMBIGUOUS_REF',
  'INVALID_FILE',
  'SCHEMA_MISMATCH',
  'TABLE_NOT_CHANGED',
])
const FAILED_RUN = new Set(['RUN_FAILED', 'EXPECTATION_FAILED'])

/**
 * The process exit code for an error code: 2 usage, 3 not found, 4 conflict, 5 failed run or expectation, 1 other.
 *
 * @example
 * ```ts
 * exitCodeFor('MERGE_CONFLICT') // 4
 * ```
 */
export function exitCodeFor(code: ErrorCode): number {
  if (USAGE.has(code)) return 2
  if (NOT_FOUND.has(code)) return 3
  if (CONFLICT.has(code)) return 4
  if (FAILED_RUN.has(code)) return 5
  return 1
}

/** HTTP statuses that do not follow from the exit code (see {@link httpStatusFor}). */
const HTTP_STATUS: Readonly<Record<string, number>> = {
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  BRANCH_PROTECTED: 403,
  INVALID_FILE: 422,
  SCHEMA_MISMATCH: 422,
  NOT_SUPPORTED: 501,
  SERVER_UNREACHABLE: 503,
}

/**
 * The HTTP status of an error code (the server's answer): 401 unauthorized, 403 forbidden or protected, 404 not
 * found, 409 conflict, 400 usage, 422 failed run, expectation or unreadable input, 501 not supported, 500 other.
 *
 * @example
 * ```ts
 * httpStatusFor('BRANCH_NOT_FOUND') // 404
 * httpStatusFor('MERGE_CONFLICT') // 409
 * ```
 */
export function httpStatusFor(code: ErrorCode): number {
  const special = HTTP_STATUS[code]
  if (special !== undefined) return special
  return ({ 2: 400, 3: 404, 4: 409, 5: 422 } as Readonly<Record<number, number>>)[exitCodeFor(code)] ?? 500
}
