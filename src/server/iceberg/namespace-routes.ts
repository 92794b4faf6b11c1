import type { FastifyInstance } from 'fastify'
import { TarnError } from '../../util/errors.js'
import type { JsonValue } from '../../util/lossless-json.js'
import { type IcebergContext, icebergOf, namespaceOf, page } from './iceberg-context.js'

type NsParams = { Params: { namespace: string } }

function stringMap(v: JsonValue | undefined, what: string): Record<string, string> {
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw new TarnError('USAGE', `${what} must be an object`, {})
  const out: Record<string, string> = {}
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw new TarnError('USAGE', `${what}.${k} must be a string`, {})
    out[k] = x
  }
  return out
}

/**
 * The Iceberg REST namespace endpoints: list (with `parent` and paging), create, load, exists (HEAD), drop, update
 * properties. Reads need `read` on the prefix's ref, writes `write` on its branch.
 */
export function namespaceRoutes(app: FastifyInstance, ic: IcebergContext): void {
  app.get<{ Querystring: { parent?: string; pageToken?: string; pageSize?: string } }>(
    '/namespaces',
    async (req) => {
      const ref = ic.ref(req)
      await ic.ctx.authorize(req, [{ action: 'read', ref }])
      const iceberg = icebergOf(ic, req)
      if (req.query.parent !== undefined && req.query.parent !== '') {
        await iceberg.loadNamespace(ref, namespaceOf(req.query.parent))
        return { namespaces: [], ...(req.query.pageToken !== undefined ? { 'next-page-token': null } : {}) }
      }
      const { items, next } = page(await iceberg.listNamespaces(ref), req.query)
      return { namespaces: items.map((n) => [n]), ...(next !== undefined ? { 'next-page-token': next } : {}) }
    },
  )

  app.post<{ Body: { namespace?: JsonValue; properties?: JsonValue } }>('/namespaces', async (req, reply) => {
    const ref = ic.ref(req)
    await ic.ctx.authorize(req, [{ action: 'write', ref }])
    const levels = req.body?.namespace
    if (!Array.isArray(levels) || !levels.every((l) => typeof l === 'string')) {
      throw new TarnError('USAGE', 'namespace must be a list of strings', {})
    }
    const name = namespaceOf(levels as string[])
    const properties = stringMap(req.body.properties, 'properties')
    await icebergOf(ic, req).createNamespace(ref, name, properties)
    return reply.code(200).send({ namespace: [name], properties })
  })

  app.head<NsParams>('/namespaces/:namespace', async (req, reply) => {
    const ref = ic.ref(req)
    await ic.ctx.authorize(req, [{ action: 'read', ref }])
    await icebergOf(ic, req).loadNamespace(ref, namespaceOf(req.params.namespace))
    return reply.code(204).send()
  })

  app.get<NsParams>('/namespaces/:namespace', async (req) => {
    const ref = ic.ref(req)
    await ic.ctx.authorize(req, [{ action: 'read', ref }])
    const name = namespaceOf(req.params.namespace)
    return { namespace: [name], properties: await icebergOf(ic, req).loadNamespace(ref, name) }
  })

  app.delete<NsParams>('/namespaces/:namespace', async (req, reply) => {
    const ref = ic.ref(req)
    await ic.ctx.authorize(req, [{ action: 'write', ref }])
    await icebergOf(ic, req).dropNamespace(ref, namespaceOf(req.params.namespace))
    return reply.code(204).send()
  })

  app.post<NsParams & { Body: { removals?: JsonValue; updates?: JsonValue } }>(
    '/namespaces/:namespace/properties',
    async (req) => {
      const ref = ic.ref(req)
      await ic.ctx.authorize(req, [{ action: 'write', ref }])
      const removals = req.body?.removals ?? []
      if (!Array.isArray(removals) || !removals.every((r) => typeof r === 'string')) {
        throw new TarnError('USAGE', 'removals must be a list of strings', {})
      }
      return icebergOf(ic, req).updateNamespaceProperties(ref, namespaceOf(req.params.namespace), {
        updates: stringMap(req.body?.updates, 'updates'),
        removals: removals as string[],
      })
    },
  )
}
