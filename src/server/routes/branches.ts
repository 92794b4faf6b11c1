import type { FastifyInstance } from 'fastify'
import type { RouteContext } from '../route-context.js'
import { BOOLEAN, COUNT, object, params, STRING } from './schema.js'

/**
 * `/branches`: list, create, get, delete, rename, merge, protect. Names travel URL-encoded (`feature%2Fx`).
 */
export function branchRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/branches', { schema: { tags: ['branches'], summary: 'List branches' } }, async (req) => {
    await ctx.authorize(req, [])
    return { branches: await ctx.lake(req).listBranches() }
  })

  app.post<{ Body: { name: string; from?: string } }>(
    '/branches',
    {
      schema: {
        tags: ['branches'],
        summary: 'Create a branch',
        body: object({ name: STRING, from: STRING }, ['name']),
      },
    },
    async (req, reply) => {
      const from = req.body.from ?? ctx.active()
      await ctx.authorize(req, [
        { action: 'read', ref: from },
        { action: 'write', ref: req.body.name },
      ])
      const branch = await ctx.lake(req).createBranch(req.body.name, { from })
      return reply.code(201).send({ branch })
    },
  )

  app.get<{ Params: { name: string } }>(
    '/branches/:name',
    { schema: { tags: ['branches'], summary: 'A branch and its head commit', params: params('name') } },
    async (req) => {
      await ctx.authorize(req, [{ action: 'read', ref: req.params.name }])
      return { branch: await ctx.lake(req).getBranch(req.params.name) }
    },
  )

  app.delete<{ Params: { name: string }; Querystring: { force?: boolean } }>(
    '/branches/:name',
    {
      schema: {
        tags: ['branches'],
        summary: 'Delete a branch',
        params: params('name'),
        querystring: object({ force: BOOLEAN }),
      },
    },
    async (req) => {
      await ctx.authorize(req, [{ action: 'write', ref: req.params.name }])
      return {
        deleted: await ctx.lake(req).deleteBranch(req.params.name, { force: req.query.force === true }),
      }
    },
  )

  app.post<{ Params: { name: string }; Body: { to: string } }>(
    '/branches/:name/rename',
    {
      schema: {
        tags: ['branches'],
        summary: 'Rename a branch',
        params: params('name'),
        body: object({ to: STRING }, ['to']),
      },
    },
    async (req) => {
      await ctx.authorize(req, [
        { action: 'write', ref: req.params.name },
        { action: 'write', ref: req.body.to },
      ])
      return { branch: await ctx.lake(req).renameBranch(req.params.name, req.body.to) }
    },
  )

  app.post<{ Params: { name: string }; Body: { into?: string; dry_run?: boolean; message?: string } }>(
    '/branches/:name/merge',
    {
      schema: {
        tags: ['branches'],
        summary: 'Merge a ref (the path) into a branch',
        params: params('name'),
        body: object({ into: STRING, dry_run: BOOLEAN, message: STRING }),
      },
    },
    async (req) => {
      const into = req.body.into ?? ctx.active()
      await ctx.authorize(req, [
        { action: 'read', ref: req.params.name },
        { action: req.body.dry_run === true ? 'read' : 'merge', ref: into },
      ])
      return ctx.lake(req).merge(req.params.name, {
        into,
        ...(req.body.message !== undefined ? { message: req.body.message } : {}),
        ...(req.body.dry_run !== undefined ? { dryRun: req.body.dry_run } : {}),
      })
    },
  )

  app.put<{ Params: { name: string } }>(
    '/branches/:name/protection',
    { schema: { tags: ['branches'], summary: 'Protect a branch (merges only)', params: params('name') } },
    async (req) => {
      await ctx.authorize(req, [{ action: 'admin', ref: req.params.name }])
      return { branch: await ctx.lake(req).protectBranch(req.params.name) }
    },
  )

  app.delete<{ Params: { name: string } }>(
    '/branches/:name/protection',
    { schema: { tags: ['branches'], summary: "Lift a branch's protection", params: params('name') } },
    async (req) => {
      await ctx.authorize(req, [{ action: 'admin', ref: req.params.name }])
      return { branch: await ctx.lake(req).unprotectBranch(req.params.name) }
    },
  )

  app.delete<{ Querystring: { older_than_ms?: number; dry_run?: boolean } }>(
    '/sealed-branches',
    {
      schema: {
        tags: ['branches'],
        summary: "Delete failed runs' sealed branches (older than older_than_ms); dry_run lists them",
        querystring: object({ older_than_ms: COUNT, dry_run: BOOLEAN }),
      },
    },
    async (req) => {
      const q = req.query
      await ctx.authorize(req, [{ action: q.dry_run === true ? 'read' : 'admin' }])
      return ctx.lake(req).deleteSealedBranches({
        ...(q.older_than_ms !== undefined ? { olderThanMs: q.older_than_ms } : {}),
        ...(q.dry_run === true ? { dryRun: true } : {}),
      })
    },
  )

  app.get(
    '/protected-branches',
    { schema: { tags: ['branches'], summary: 'Protected branch names' } },
    async (req) => {
      await ctx.authorize(req, [])
      return { branches: await ctx.lake(req).protectedBranches() }
    },
  )
}
