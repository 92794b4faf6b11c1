import type { FastifyError } from 'fastify'
import type { ErrorCode } from '../../util/error-codes.js'
import { httpStatusFor, TarnError } from '../../util/errors.js'

/**
 * An error as the Iceberg REST spec answers it: `{"error":{"message","type","code"}}` with `code` the HTTP status and
 * `type` the exception name Iceberg clients map to their own errors (409 `CommitFailedException` makes them retry).
 */
export interface IcebergErrorBody {
  readonly error: { readonly message: string; readonly type: string; readonly code: number }
}

const BY_CODE: Partial<Record<ErrorCode, readonly [number, string]>> = {
  UNAUTHORIZED: [401, 'NotAuthorizedException'],
  FORBIDDEN: [403, 'ForbiddenException'],
  NOT_A_BRANCH: [403, 'ForbiddenException'],
  BRANCH_PROTECTED: [403, 'ForbiddenException'],
  BRANCH_SEALED: [403, 'ForbiddenException'],
  NAMESPACE_NOT_FOUND: [404, 'NoSuchNamespaceException'],
  TABLE_NOT_FOUND: [404, 'NoSuchTableException'],
  REF_NOT_FOUND: [404, 'NoSuchWarehouseException'],
  BRANCH_NOT_FOUND: [404, 'NoSuchWarehouseException'],
  COMMIT_NOT_FOUND: [404, 'NoSuchWarehouseException'],
  ROUTE_NOT_FOUND: [404, 'NotFoundException'],
  OBJECT_NOT_FOUND: [404, 'NotFoundException'],
  NOT_SUPPORTED: [406, 'UnsupportedOperationException'],
  NAMESPACE_EXISTS: [409, 'AlreadyExistsException'],
  TABLE_EXISTS: [409, 'AlreadyExistsException'],
  NAMESPACE_NOT_EMPTY: [409, 'NamespaceNotEmptyException'],
  COMMIT_REQUIREMENT_FAILED: [409, 'CommitFailedException'],
  BRANCH_HEAD_CHANGED: [409, 'CommitFailedException'],
}

/**
 * The HTTP status and Iceberg error body of anything a handler threw: tarn errors by code (bad input 400, read-only
 * ref or missing rule 403, lost race or failed requirement 409 `CommitFailedException`, ...), Fastify's validation
 * and parsing errors as 400, anything else 500.
 */
export function icebergError(e: unknown): { status: number; body: IcebergErrorBody; error: TarnError } {
  let error: TarnError
  const f = e as Partial<FastifyError>
  if (e instanceof TarnError) error = e
  else if (f.validation !== undefined || (typeof f.statusCode === 'number' && f.statusCode < 500)) {
    error = new TarnError('USAGE', `invalid request: ${f.message ?? 'bad input'}`, {})
  } else error = new TarnError('INTERNAL', e instanceof Error ? e.message : String(e), {})
  const http = httpStatusFor(error.code)
  const [status, type] =
    BY_CODE[error.code] ??
    (http < 500
      ? ([http === 422 ? 400 : http, 'BadRequestException'] as const)
      : ([500, 'ServiceFailureException'] as const))
  return { status, body: { error: { message: error.message, type, code: status } }, error }
}
