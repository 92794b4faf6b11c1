import type { FastifyInstance } from 'fastify'
import type { RouteContext } from '../route-context.js'
import { BOOLEAN, COUNT, object, STRING } from './schema.js'

/** `key` or `key=value`. */
function propertyFilter(text: string): { key: string; value?: string } {
  const eq = text.indexOf('=')
  return eq < 0 ? { key: text } : { key: text.slice(0, eq), value: text.slice(eq + 1) }
}

/**
 * `/log`, `/diff`, `/revert`: history and undo.
 *
 * @example
 * ```ts
 * historyRoutes(api, ctx)
 * ```
 */
export function historyRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{
    Querystring: { ref?: string; n?: number; message?: string; author?: string; property?: string }
  }>(
    '/log',
    {
      schema: {
        tags: ['history'],
        summary: 'Commit history of a ref, newest first',
        querystring: object({ ref: STRING, n: COUNT, message: STRING, author: STRING, property: STRING }),
      },
    },
    async (req) => {
      const ref = req.query.ref ?? ctx.active()
      await ctx.authorize(req, [{ action: 'read', ref }])
      const q = req.query
      return {
        commits: await ctx.lake(req).log(ref, {
          ...(q.n !== undefined ? { limit: q.n } : {}),
          ...(q.message !== undefined ? { message: q.message } : {}),
          ...(q.author !== undefined ? { author: q.author } : {}),
          ...(q.property !== undefined ? { property: propertyFilter(q.property) } : {}),
        }),
      }
    },
  )

  app.get<{ Querystring: { ref: string; against?: string; two_way?: boolean; rows?: number } }>(
    '/diff',
    {
      schema: {
        tags: ['history'],
        summary: 'What ref has that against lacks',
        querystring: object({ ref: STRING, against: STRING, two_way: BOOLEAN, rows: COUNT }, ['ref']),
      },
    },
    async (req) => {
      const against = req.query.against ?? ctx.active()
      await ctx.authorize(req, [
        { action: 'read', ref: req.query.ref },
        { action: 'read', ref: against },
      ])
      return ctx.lake(req).diff(req.query.ref, against, {
        ...(req.query.two_way !== undefined ? { twoWay: req.query.two_way } : {}),
        ...(req.query.rows !== undefined ? { rows: req.query.rows } : {}),
      })
    },
  )

  app.post<{ Body: { commit: string; on?: string; table?: string; message?: string } }>(
    '/revert',
    {
      schema: {
        tags: ['history'],
        summary: 'Undo a commit with a new commit',
        body: object({ commit: STRING, on: STRING, table: STRING, message: STRING }, ['commit']),
      },
    },
    async (req) => {
      const on = req.body.on ?? ctx.active()
      await ctx.authorize(req, [
        { action: 'read', ref: req.body.commit },
        { action: 'write', ref: on },
      ])
      return ctx.lake(req).revert(req.body.commit, {
        on,
        ...(req.body.table !== undefined ? { table: req.body.table } : {}),
        ...(req.body.message !== undefined ? { message: req.body.message } : {}),
      })
    },
  )
}
