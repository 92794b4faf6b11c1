import type { FastifyInstance } from 'fastify'
import type { QueryBatches } from '../../lake/lake-api.js'
import { contentType, queryBody, resultFormat } from '../query-body.js'
import type { RouteContext } from '../route-context.js'
import { object, STRING } from './schema.js'

/**
 * `/query` (results stream as Arrow IPC by default, or JSON / CSV by `Accept` or `?format=`) and `/explain`.
 *
 * @example
 * ```ts
 * queryRoutes(api, ctx)
 * ```
 */
export function queryRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{
    Body: { sql: string; ref?: string; batch_rows?: number; format?: string }
    Querystring: { format?: string }
  }>(
    '/query',
    {
      schema: {
        tags: ['query'],
        summary: 'Run read-only SQL at a ref; the result streams as Arrow IPC, JSON or CSV',
        body: object(
          { sql: STRING, ref: STRING, batch_rows: { type: 'integer', minimum: 1 }, format: STRING },
          ['sql'],
        ),
        querystring: object({ format: STRING }),
      },
    },
    async (req, reply) => {
      const ref = req.body.ref ?? ctx.active()
      const format = resultFormat(req.query.format ?? req.body.format, req.headers.accept)
      await ctx.authorize(req, [{ action: 'read', ref }])
      // a client that goes away (before the first row or while it reads) interrupts the query
      const gone = new AbortController()
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) gone.abort()
      })
      const signal = ctx.stopQueries ? AbortSignal.any([gone.signal, ctx.stopQueries]) : gone.signal
      let stream: QueryBatches
      try {
        stream = await ctx.lake(req).stream(req.body.sql, {
          ref,
          signal,
          ...(req.body.batch_rows !== undefined ? { batchRows: req.body.batch_rows } : {}),
        })
      } catch (e) {
        if (signal.aborted) {
          ctx.onQueryEnd({ sql: req.body.sql, ref, format, rows: 0, batches: 0, cancelled: true })
        }
        throw e
      }
      const body = queryBody(
        stream,
        format,
        (end) => ctx.onQueryEnd({ sql: req.body.sql, ref, format, ...end }),
        signal,
      )
      return reply
        .header('x-tarn-ref', encodeURIComponent(stream.plan.ref))
        .header('x-tarn-commit', stream.plan.commit)
        .type(contentType(format))
        .send(body)
    },
  )

  app.post<{ Body: { sql: string; ref?: string } }>(
    '/explain',
    {
      schema: {
        tags: ['query'],
        summary: 'The scan plan of a query without running it',
        body: object({ sql: STRING, ref: STRING }, ['sql']),
      },
    },
    async (req) => {
      const ref = req.body.ref ?? ctx.active()
      await ctx.authorize(req, [{ action: 'read', ref }])
      return { plan: await ctx.lake(req).explain(req.body.sql, { ref }) }
    },
  )
}
