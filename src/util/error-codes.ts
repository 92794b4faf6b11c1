/**
 * Every error code tarn throws, with the CLI exit code and the HTTP status it maps to. This table is the whole list:
 * {@link ErrorCode} is derived from it, and a test fails when src/ uses a code that is not here. Codes are part of
 * the public contract: never rename one, only add. One line per code, sorted by character code (`NOTHING_...` before `NOT_...`).
 *
 * Exit codes: 2 usage (bad input, and project or planning errors, found before a run creates anything), 3 not found, 4 conflict, 5 failed run or expectation, 1 other.
 *
 * @example
 * ```ts
 * ERROR_CODES.MERGE_CONFLICT // { exit: 4, http: 409 }
 * ```
 */
export const ERROR_CODES = {
  ALREADY_IMPORTED: { exit: 4, http: 409 },
  AMBIGUOUS_REF: { exit: 2, http: 400 },
  AMBIGUOUS_TABLE: { exit: 2, http: 400 },
  BRANCH_ACTIVE: { exit: 4, http: 409 },
  BRANCH_EXISTS: { exit: 4, http: 409 },
  BRANCH_HEAD_CHANGED: { exit: 4, http: 409 },
  BRANCH_NOT_FOUND: { exit: 3, http: 404 },
  BRANCH_PROTECTED: { exit: 4, http: 403 },
  BRANCH_SEALED: { exit: 4, http: 409 },
  CATALOG_ERROR: { exit: 1, http: 500 },
  COLUMN_NOT_FOUND: { exit: 3, http: 422 },
  COMMIT_NOT_FOUND: { exit: 3, http: 404 },
  COMMIT_REQUIREMENT_FAILED: { exit: 4, http: 409 },
  CORRUPT_FILE: { exit: 1, http: 500 },
  DUPLICATE_MODEL: { exit: 2, http: 422 },
  EXPECTATION_FAILED: { exit: 5, http: 422 },
  FILE_EXISTS: { exit: 4, http: 409 },
  FORBIDDEN: { exit: 1, http: 403 },
  INTERNAL: { exit: 1, http: 500 },
  INVALID_ARGUMENT: { exit: 2, http: 400 },
  INVALID_FILE: { exit: 2, http: 422 },
  INVALID_FILTER: { exit: 2, http: 422 },
  INVALID_NAME: { exit: 2, http: 400 },
  INVALID_OVERWRITE_FILTER: { exit: 2, http: 422 },
  INVALID_PARAMETER: { exit: 2, http: 422 },
  INVALID_REF: { exit: 2, http: 400 },
  INVALID_SELECTION: { exit: 2, http: 400 },
  JOB_INTERRUPTED: { exit: 5, http: 422 },
  JOB_NOT_FOUND: { exit: 3, http: 404 },
  KEY_EXISTS: { exit: 4, http: 409 },
  KEY_NOT_FOUND: { exit: 3, http: 404 },
  LAKE_NOT_FOUND: { exit: 3, http: 404 },
  MERGE_CONFLICT: { exit: 4, http: 409 },
  METHOD_NOT_ALLOWED: { exit: 2, http: 405 },
  MISSING_PARAMETER: { exit: 2, http: 422 },
  MODEL_CYCLE: { exit: 2, http: 422 },
  MODEL_NOT_ALLOWED: { exit: 2, http: 422 },
  MODEL_SHADOWS_TABLE: { exit: 2, http: 422 },
  NAMESPACE_EXISTS: { exit: 4, http: 409 },
  NAMESPACE_NOT_EMPTY: { exit: 4, http: 409 },
  NAMESPACE_NOT_FOUND: { exit: 3, http: 404 },
  NOTHING_TO_COMMIT: { exit: 1, http: 409 },
  NOT_A_BRANCH: { exit: 4, http: 409 },
  NOT_SUPPORTED: { exit: 1, http: 500 },
  OBJECT_NOT_FOUND: { exit: 3, http: 404 },
  PAYLOAD_TOO_LARGE: { exit: 2, http: 413 },
  PROJECT_DIR_NOT_EMPTY: { exit: 2, http: 409 },
  PROJECT_INVALID: { exit: 2, http: 422 },
  PROJECT_NOT_FOUND: { exit: 2, http: 404 },
  PYTHON_UNAVAILABLE: { exit: 1, http: 500 },
  QUERY_CANCELLED: { exit: 1, http: 400 },
  QUERY_NOT_ALLOWED: { exit: 1, http: 403 },
  REF_NOT_FOUND: { exit: 3, http: 404 },
  RESERVED_BRANCH_NAME: { exit: 2, http: 400 },
  RESULT_TOO_LARGE: { exit: 1, http: 413 },
  REVERT_CONFLICT: { exit: 4, http: 409 },
  ROUTE_NOT_FOUND: { exit: 3, http: 404 },
  RUN_FAILED: { exit: 5, http: 422 },
  RUN_INCOMPLETE: { exit: 4, http: 409 },
  SCHEMA_MISMATCH: { exit: 2, http: 422 },
  SERVER_UNREACHABLE: { exit: 1, http: 500 },
  SIM_POLICY_ERROR: { exit: 1, http: 422 },
  SQL_ERROR: { exit: 1, http: 400 },
  STORAGE_ERROR: { exit: 1, http: 500 },
  TABLE_EXISTS: { exit: 4, http: 409 },
  TABLE_NOT_CHANGED: { exit: 2, http: 409 },
  TABLE_NOT_FOUND: { exit: 3, http: 404 },
  TAG_EXISTS: { exit: 4, http: 409 },
  TAG_NOT_FOUND: { exit: 3, http: 404 },
  TOO_MANY_REQUESTS: { exit: 1, http: 429 },
  UNAUTHORIZED: { exit: 1, http: 401 },
  UNKNOWN_PARAMETER: { exit: 2, http: 422 },
  UNUSED_MODEL: { exit: 2, http: 422 },
  UNUSED_PARAMETER: { exit: 2, http: 422 },
  USAGE: { exit: 2, http: 400 },
} as const satisfies Readonly<Record<string, ErrorCodeInfo>>

/**
 * What one error code maps to: the CLI exit code and the HTTP status.
 *
 * @example
 * ```ts
 * const info: ErrorCodeInfo = { exit: 3, http: 404 }
 * ```
 */
export type ErrorCodeInfo = {
  readonly exit: 1 | 2 | 3 | 4 | 5
  readonly http: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 422 | 429 | 500
}

/**
 * A stable error code: a key of {@link ERROR_CODES}.
 *
 * @example
 * ```ts
 * const code: ErrorCode = 'BRANCH_NOT_FOUND'
 * ```
 */
export type ErrorCode = keyof typeof ERROR_CODES

/**
 * True when `code` is one of tarn's error codes.
 *
 * @example
 * ```ts
 * isErrorCode('MERGE_CONFLICT') // true
 * isErrorCode('NOPE') // false
 * ```
 */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code)
}
