import type { FastifyInstance } from 'fastify'
import type { JobStatus } from '../../lake/lake-types.js'
import type { RouteContext } from '../route-context.js'
import { BOOLEAN, DURATION_MS, object, params } from './schema.js'

/**
 * `/jobs` (records and logs, read with a `read:*` key) and `/gc` (an `admin:*` key).
 */
export function jobRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Querystring: { all?: boolean; limit?: number; status?: JobStatus } }>(
    '/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Every run job, newest first; with all=true also imports and queries (status, limit filter)',
        querystring: object({
          all: BOOLEAN,
          limit: { type: 'integer', minimum: 1 },
          status: { type: 'string', enum: ['succeeded', 'failed', 'running'] },
        }),
      },
    },
    async (req) => {
      await ctx.authorize(req, [{ action: 'read' }])
      const q = req.query
      if (q.all !== true) return { jobs: await ctx.lake(req).listJobs() }
      return {
        jobs: await ctx.lake(req).listAllJobs({
          ...(q.limit !== undefined ? { limit: q.limit } : {}),
          ...(q.status !== undefined ? { status: q.status } : {}),
        }),
      }
    },
  )

  app.get<{ Params: { id: string }; Querystring: { any?: boolean } }>(
    '/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'One run job record; with any=true also an import or query job',
        params: params('id'),
        querystring: object({ any: BOOLEAN }),
      },
    },
    async (req) => {
      await ctx.authorize(req, [{ action: 'read' }])
      const lake = ctx.lake(req)
      return {
        job: req.query.any === true ? await lake.getAnyJob(req.params.id) : await lake.getJob(req.params.id),
      }
    },
  )

  app.get<{ Params: { id: string } }>(
    '/jobs/:id/code',
    {
      schema: {
        tags: ['jobs'],
        summary: "A run job's code snapshot: its project files by path",
        params: params('id'),
      },
    },
    async (req) => {
      await ctx.authorize(req, [{ action: 'read' }])
      return { job: req.params.id, files: await ctx.lake(req).jobCode(req.params.id) }
    },
  )

  app.get<{ Params: { id: string } }>(
    '/jobs/:id/log',
    {
      schema: {
        tags: ['jobs'],
        summary: "A job's log (text)",
        params: params('id'),
        produces: { 'text/plain': { type: 'string' } },
      },
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
