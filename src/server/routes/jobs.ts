import type { FastifyInstance } from 'fastify'
import type { RouteContext } from '../route-context.js'
import { BOOLEAN, DURATION_MS, object, params } from './schema.js'

/**
 * `/jobs` (records and logs, read with a `read:*` key) and `/gc` (an `admin:*` key).
 *
 * @example
 * ```ts
 * jobRoutes(api, ctx)
 * ```
 */
export function jobRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/jobs', { schema: { tags: ['jobs'], summary: 'Every job, newest first' } }, async (req) => {
    await ctx.authorize(req, [{ action: 'read' }])
    return { jobs: await ctx.lake(req).listJobs() }
  })

  app.get<{ Params: { id: string } }>(
    '/jobs/:id',
    { schema: { tags: ['jobs'], summary: 'One job record', params: params('id') } },
    async (req) => {
      await ctx.authorize(req, [{ action: 'read' }])
      return { job: await ctx.lake(req).getJob(req.params.id) }
    },
  )

  app.get<{ Params: { id: string } }>(
    '/jobs/:id/log',
    {
      schema: { tags: ['jobs'], summary: "A job's log (text)", produces: 'text/plain', params: params('id') },
    },
    async (req, reply) => {
      await ctx.authorize(req, [{ action: 'read' }])
      const text = await ctx.lake(req).jobLog(req.params.id)
      return reply.type('text/plain; charset=utf-8').send(text)
    },
  )

  app.post<{ Body: { older_than_ms: number; grace_ms?: number; dry_run?: boolean } }>(
    '/gc',
    {
      schema: {
        tags: ['maintenance'],
        summary: 'Delete warehouse files no commit within retention can reach',
        body: object({ older_than_ms: DURATION_MS, grace_ms: DURATION_MS, dry_run: BOOLEAN }, [
          'older_than_ms',
        ]),
      },
    },
    async (req) => {
      await ctx.authorize(req, [{ action: 'admin' }])
      return ctx.lake(req).gc({
        olderThanMs: req.body.older_than_ms,
        ...(req.body.grace_ms !== undefined ? { graceMs: req.body.grace_ms } : {}),
        ...(req.body.dry_run !== undefined ? { dryRun: req.body.dry_run } : {}),
      })
    },
  )
}
