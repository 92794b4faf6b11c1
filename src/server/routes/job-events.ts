import type { FastifyInstance } from 'fastify'
import type { RouteContext } from '../route-context.js'
import { params } from './schema.js'

/** How often a followed job's record is read again while it runs. */
const POLL_MS = 200
/** A comment line this often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000

/**
 * `GET /jobs/:id/events`: a job's record as server-sent events (`text/event-stream`), one `job` event now and one
 * each time the record changes (a node starts, finishes, counts its rows), until the job is no longer running; then
 * the stream ends. The web UI draws a run's DAG live from it. Reads the job record the run keeps up to date, so it
 * follows runs started by any process on the lake (the CLI, another server).
 */
export function jobEventRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Params: { id: string } }>(
    '/jobs/:id/events',
    {
      schema: {
        tags: ['jobs'],
        summary: "A job's record as server-sent events until it ends",
        params: params('id'),
      },
    },
    async (req, reply) => {
      await ctx.authorize(req, [{ action: 'read' }])
      const lake = ctx.lake(req)
      // the first read fails as JSON (JOB_NOT_FOUND) before the stream starts
      let job = await lake.getJob(req.params.id)
      reply.hijack()
      const res = reply.raw
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      })
      let closed = false
      req.raw.on('close', () => {
        closed = true
      })
      res.on('close', () => {
        closed = true
      })
      let sent = ''
      let quietSince = Date.now()
      const send = (): void => {
        const text = JSON.stringify({ job })
        if (text === sent) return
        sent = text
        quietSince = Date.now()
        res.write(`event: job\ndata: ${text}\n\n`)
      }
      try {
        send()
        while (!closed && job.status === 'running') {
          await new Promise((resolve) => setTimeout(resolve, POLL_MS))
          if (closed) break
          job = await lake.getJob(req.params.id)
          send()
          if (Date.now() - quietSince >= HEARTBEAT_MS) {
            res.write(': still running\n\n')
            quietSince = Date.now()
          }
        }
      } catch (e) {
        if (!closed) {
          const error = { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) }
          res.write(`event: error\ndata: ${JSON.stringify({ error })}\n\n`)
        }
      } finally {
        res.end()
      }
    },
  )
}
