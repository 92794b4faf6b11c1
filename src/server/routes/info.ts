import type { FastifyInstance } from 'fastify'
import type { RouteContext } from '../route-context.js'

/**
 * `/info`: version, catalog backend, warehouse, active branch.
 */
export function infoRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get(
    '/info',
    { schema: { tags: ['lake'], summary: 'Version, catalog, warehouse, active branch' } },
    async (req) => {
      await ctx.authorize(req, [])
      return ctx.lake(req).info()
    },
  )
}
