import type { FastifyInstance } from 'fastify'
import type { RouteContext } from '../route-context.js'
import { object, params, STRING } from './schema.js'

/**
 * `/namespaces`: list, create, drop.
 */
export function namespaceRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Querystring: { ref?: string } }>(
    '/namespaces',
    {
      schema: { tags: ['namespaces'], summary: 'Namespaces at a ref', querystring: object({ ref: STRING }) },
    },
    async (req) => {
      const ref = req.query.ref ?? ctx.active()
      await ctx.authorize(req, [{ action: 'read', ref }])
      return { ref, namespaces: await ctx.lake(req).listNamespaces({ ref }) }
    },
  )

  app.post<{
    Body: { name: string; branch?: string; properties?: Record<string, string>; message?: string }
  }>(
    '/namespaces',
    {
      schema: {
        tags: ['namespaces'],
        summary: 'Create a namespace on a branch',
        body: object(
          {
            name: STRING,
            branch: STRING,
            message: STRING,
            properties: { type: 'object', additionalProperties: STRING },
          },
          ['name'],
        ),
      },
    },
    async (req, reply) => {
      const branch = req.body.branch ?? ctx.active()
      await ctx.authorize(req, [{ action: 'write', ref: branch }])
      const commit = await ctx.lake(req).createNamespace(req.body.name, {
        branch,
        ...(req.body.properties !== undefined ? { properties: req.body.properties } : {}),
        ...(req.body.message !== undefined ? { message: req.body.message } : {}),
      })
      return reply.code(201).send({ namespace: req.body.name, commit })
    },
  )

  app.delete<{ Params: { name: string }; Querystring: { branch?: string; message?: string } }>(
    '/namespaces/:name',
    {
      schema: {
        tags: ['namespaces'],
        summary: 'Drop an empty namespace from a branch',
        params: params('name'),
        querystring: object({ branch: STRING, message: STRING }),
      },
    },
    async (req) => {
      const branch = req.query.branch ?? ctx.active()
      await ctx.authorize(req, [{ action: 'write', ref: branch }])
      return {
        namespace: req.params.name,
        commit: await ctx.lake(req).dropNamespace(req.params.name, {
          branch,
          ...(req.query.message !== undefined ? { message: req.query.message } : {}),
        }),
      }
    },
  )
}
