import type { FastifyRequest } from 'fastify'
import type { LakeApi } from '../lake/lake-api.js'
import type { AccessNeed } from './auth/access-rules.js'
import type { ConcurrencyGate, ServerLimits } from './server-limits.js'

/**
 * A query run finished or stopped: an observer for logs and tests (a client that disconnects stops the query).
 *
 * @example
 * ```ts
 * const onQueryEnd = (e: QueryEnd) => console.log(e.cancelled ? 'cancelled' : 'done', e.rows)
 * ```
 */
export interface QueryEnd {
  readonly sql: string
  readonly ref: string
  readonly format: 'arrow' | 'json' | 'csv'
  /** Rows sent before the end. */
  readonly rows: number
  readonly batches: number
  /** True when the client went away (or the stream failed) before the last row. */
  readonly cancelled: boolean
}

/**
 * What every route handler gets: the lake as the calling key (commits carry its name), the default branch, and the
 * access check that must pass before the handler calls the lake.
 */
export interface RouteContext {
  lake(req: FastifyRequest): LakeApi
  /** The lake's active branch: the branch or ref of requests that name none. */
  active(): string
  /** Throws `UNAUTHORIZED` (401) or `FORBIDDEN` (403, naming the missing rule) unless the caller may do every need. */
  authorize(req: FastifyRequest, needs: readonly AccessNeed[]): Promise<void>
  onQueryEnd(end: QueryEnd): void
  /** The server's bounds (body, uploads, results, timeouts, concurrency). */
  readonly limits: ServerLimits
  /** Bounds the runs and imports in flight (`TOO_MANY_REQUESTS` past the bound). */
  readonly gate: ConcurrencyGate
  /** Aborted when the server, shutting down, stops waiting for query results still streaming. */
  readonly stopQueries?: AbortSignal
}
