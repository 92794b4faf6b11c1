import { createReadStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { QueryBatches } from '../../lake/lake-api.js'
import type { QueryPlan } from '../../lake/lake-types.js'
import { PRINT_FORMATS, type PrintFormat } from '../../lake/query-output.js'
import { boundedResult, resultTooLarge } from '../bounded-result.js'
import { contentType, queryBody, resultFormat } from '../query-body.js'
import type { RouteContext } from '../route-context.js'
import { textBody } from '../text-body.js'
import { object, STRING } from './schema.js'

/** The plan as a header carries it: the data files listed only while the header stays small. */
function headerPlan(plan: QueryPlan): QueryPlan {
  if (JSON.stringify(plan).length <= 4096) return plan
  return { ...plan, tables: plan.tables.map((t) => ({ ...t, files: [] })) }
}

/**
 * Rows per Arrow record batch on the wire when the client names none: batches a quarter of the engine's default size
 * let the client decode while the server still converts, and leave a shorter tail to send after DuckDB's last chunk
 * (a 1M-row result measured faster over loopback with 16,384 than with 65,536 or 8,192).
 */
const WIRE_BATCH_ROWS = 16_384

/**
 * `/query` (results stream as Arrow IPC by default, or JSON / CSV by `Accept` or `?format=`), `/query/text` (the
 * text `tarn query` prints), `/export` (a Parquet, CSV or JSON-lines file) and `/explain`. With result bounds set, a
 * result past them is refused with `RESULT_TOO_LARGE` (413) before the response starts.
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
        stream = await boundedResult(
          await ctx.lake(req).stream(req.body.sql, {
            ref,
            signal,
            batchRows: req.body.batch_rows ?? WIRE_BATCH_ROWS,
          }),
          ctx.limits,
        )
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

  app.post<{ Body: { sql: string; ref?: string; format: PrintFormat; limit?: number } }>(
    '/query/text',
    {
      schema: {
        tags: ['query'],
        summary:
          'Run read-only SQL at a ref; the result streams as the text tarn query prints (recorded as a job)',
        produces: { 'text/plain': { type: 'string' } },
        body: object(
          {
            sql: STRING,
            ref: STRING,
            format: { type: 'string', enum: [...PRINT_FORMATS] },
            limit: { type: 'integer', minimum: 0 },
          },
          ['sql', 'format'],
        ),
      },
    },
    async (req, reply) => {
      const ref = req.body.ref ?? ctx.active()
      await ctx.authorize(req, [{ action: 'read', ref }])
      const { maxResultRows, maxResultBytes } = ctx.limits
      const wanted = req.body.limit
      const limit = maxResultRows > 0 ? Math.min(wanted ?? Number.POSITIVE_INFINITY, maxResultRows) : wanted
      let bytes = 0
      const lake = ctx.lake(req)
      let commit = ''
      const { body } = await textBody(
        async (sink) => {
          const counted = {
            out: (text: string) => {
              bytes += Buffer.byteLength(text)
              if (maxResultBytes > 0 && bytes > maxResultBytes) throw resultTooLarge('bytes', maxResultBytes)
              sink.out(text)
            },
          }
          const printed = await lake.trackJob(
            { kind: 'query', target: ref, sql: req.body.sql },
            () =>
              lake.printQuery(
                req.body.sql,
                { ref, format: req.body.format, ...(limit !== undefined ? { limit } : {}) },
                counted,
              ),
            (p) => ({ dataCommit: p.commit }),
          )
          if (printed.more === true && limit !== wanted) throw resultTooLarge('rows', maxResultRows)
          commit = printed.commit
        },
        maxResultRows > 0 || maxResultBytes > 0,
      )
      if (commit !== '') reply.header('x-tarn-commit', commit)
      return reply.type('text/plain; charset=utf-8').send(body)
    },
  )

  app.post<{ Body: { sql: string; ref?: string; format?: string } }>(
    '/export',
    {
      schema: {
        tags: ['query'],
        summary: 'Run read-only SQL at a ref and send the whole result as a Parquet, CSV or JSON-lines file',
        produces: { 'application/octet-stream': { type: 'string', format: 'binary' } },
        body: object(
          { sql: STRING, ref: STRING, format: { type: 'string', enum: ['parquet', 'csv', 'jsonl'] } },
          ['sql'],
        ),
      },
    },
    async (req, reply) => {
      const ref = req.body.ref ?? ctx.active()
      await ctx.authorize(req, [{ action: 'read', ref }])
      const format = req.body.format ?? 'parquet'
      const dir = await mkdtemp(join(tmpdir(), 'tarn-export-'))
      const remove = (): Promise<void> => rm(dir, { recursive: true, force: true })
      try {
        const r = await ctx.lake(req).exportQuery(req.body.sql, {
          ref,
          output: join(dir, `result.${format}`),
          format,
        })
        const { maxResultRows, maxResultBytes } = ctx.limits
        if (maxResultRows > 0 && r.rows > maxResultRows) throw resultTooLarge('rows', maxResultRows)
        if (maxResultBytes > 0 && r.bytes > maxResultBytes) throw resultTooLarge('bytes', maxResultBytes)
        const file = createReadStream(r.output)
        file.once('close', () => void remove())
        return reply
          .header(
            'x-tarn-export',
            encodeURIComponent(JSON.stringify({ plan: headerPlan(r.plan), rows: r.rows })),
          )
          .header('x-tarn-commit', r.plan.commit)
          .type('application/octet-stream')
          .send(file)
      } catch (e) {
        await remove()
        throw e
      }
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
