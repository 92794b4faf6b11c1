import type { FastifyInstance } from 'fastify'
import type { RouteContext } from '../route-context.js'
import { object, params, STRING } from './schema.js'

/**
 * `/tags`: list, create, delete.
 */
export function tagRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/tags', { schema: { tags: ['tags'], summary: 'List tags' } }, async (req) => {
    await ctx.authorize(req, [])
    return { tags: await ctx.lake(req).listTags() }
  })

  app.post<{ Body: { name: string; from?: string } }>(
    '/tags',
    {
      schema: {
        tags: ['tags'],
        summary: 'Create a tag',
        body: object({ name: STRING, from: STRING }, ['name']),
      },
    },
    async (req, reply) => {
      const from = req.body.from ?? ctx.active()
      await ctx.authorize(req, [
        { action: 'read', ref: from },
        { action: 'write', ref: req.body.name },
      ])
      return reply.code(201).send({ tag: await ctx.lake(req).createTag(req.body.name, { from }) })
    },
  )

  app.delete<{ Params: { name: string } }>(
    '/tags/:name',
    { schema: { tags: ['tags'], summary: 'Delete a tag', params: params('name') } },
    async (req) => {
      await ctx.authorize(req, [{ action: 'write', ref: req.params.name }])
      return { deleted: await ctx.lake(req).deleteTag(req.params.name) }
    },
  )
}
