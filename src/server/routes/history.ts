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
 */
export function historyRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{
    Querystring: {
      ref?: string
      n?: number
      message?: string
      author?: string
      property?: string
      first_parent?: boolean
      patch?: boolean
      rows?: number
    }
  }>(
    '/log',
    {
      schema: {
        tags: ['history'],
        summary: 'Commit history of a ref, newest first; with patch=true each commit with its diff',
        querystring: object({
          ref: STRING,
          n: COUNT,
          message: STRING,
          author: STRING,
          property: STRING,
          first_parent: BOOLEAN,
          patch: BOOLEAN,
          rows: COUNT,
        }),
      },
    },
    async (req) => {
      const ref = req.query.ref ?? ctx.active()
      await ctx.authorize(req, [{ action: 'read', ref }])
      const q = req.query
      const filters = {
        ...(q.n !== undefined ? { limit: q.n } : {}),
        ...(q.message !== undefined ? { message: q.message } : {}),
        ...(q.author !== undefined ? { author: q.author } : {}),
        ...(q.property !== undefined ? { property: propertyFilter(q.property) } : {}),
        ...(q.first_parent === true ? { firstParent: true } : {}),
      }
      const lake = ctx.lake(req)
      if (q.patch !== true) return { commits: await lake.log(ref, filters) }
      const rows = q.rows !== undefined ? { rows: q.rows } : {}
      return { commits: await lake.log(ref, { ...filters, patch: true, ...rows }) }
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

  app.post<{ Body: { commit: string; on?: string; table?: string; message?: string; dry_run?: boolean } }>(
    '/revert',
    {
      schema: {
        tags: ['history'],
        summary: 'Undo a commit with a new commit; with dry_run the plan, writing nothing',
        body: object({ commit: STRING, on: STRING, table: STRING, message: STRING, dry_run: BOOLEAN }, [
          'commit',
        ]),
      },
    },
    async (req) => {
      const on = req.body.on ?? ctx.active()
      const dryRun = req.body.dry_run === true
      await ctx.authorize(req, [
        { action: 'read', ref: req.body.commit },
        { action: dryRun ? 'read' : 'write', ref: on },
      ])
      const table = req.body.table !== undefined ? { table: req.body.table } : {}
      if (dryRun) return ctx.lake(req).revert(req.body.commit, { on, ...table, dryRun: true })
      return ctx.lake(req).revert(req.body.commit, {
        on,
        ...(req.body.table !== undefined ? { table: req.body.table } : {}),
        ...(req.body.message !== undefined ? { message: req.body.message } : {}),
      })
    },
  )
}
