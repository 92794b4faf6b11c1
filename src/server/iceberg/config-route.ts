import type { FastifyInstance } from 'fastify'
import { TarnError } from '../../util/errors.js'
import { type IcebergContext, icebergOf } from './iceberg-context.js'

/** Path segments of the spec that follow `/v1/`: a prefix spelled like one would make paths ambiguous. */
const RESERVED_PREFIXES: ReadonlySet<string> = new Set([
  'config',
  'oauth',
  'namespaces',
  'tables',
  'transactions',
  'views',
])

/** What tarn serves, as `<verb> <path>` (clients check it before calling). */
const ENDPOINTS: readonly string[] = [
  'GET /v1/{prefix}/namespaces',
  'POST /v1/{prefix}/namespaces',
  'GET /v1/{prefix}/namespaces/{namespace}',
  'HEAD /v1/{prefix}/namespaces/{namespace}',
  'DELETE /v1/{prefix}/namespaces/{namespace}',
  'POST /v1/{prefix}/namespaces/{namespace}/properties',
  'GET /v1/{prefix}/namespaces/{namespace}/tables',
  'POST /v1/{prefix}/namespaces/{namespace}/tables',
  'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'POST /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'POST /v1/{prefix}/namespaces/{namespace}/register',
  'POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/metrics',
  'POST /v1/{prefix}/tables/rename',
  'POST /v1/{prefix}/transactions/commit',
]

/**
 * `GET /v1/config?warehouse=<ref>`: the ref (branch, tag, `branch@hash`, `@hash`) becomes `overrides.prefix`
 * (URL-encoded), so every later path of the client addresses it; without `warehouse`, the server's active branch.
 * `INVALID_ARGUMENT` for a ref spelled like a segment of the spec (`namespaces`, `tables`, ...), 404 for an unknown
 * ref.
 */
export function configRoute(
  app: FastifyInstance,
  ic: IcebergContext,
  defaults: Readonly<Record<string, string>>,
): void {
  app.get<{ Querystring: { warehouse?: string } }>('/config', async (req) => {
    const ref =
      req.query.warehouse === undefined || req.query.warehouse === '' ? ic.ref(req) : req.query.warehouse
    if (RESERVED_PREFIXES.has(ref)) {
      throw new TarnError(
        'INVALID_ARGUMENT',
        `warehouse ${ref} collides with a path segment of the Iceberg REST spec: use another branch name`,
        { ref },
      )
    }
    await ic.ctx.authorize(req, [{ action: 'read', ref }])
    const iceberg = icebergOf(ic, req)
    await iceberg.resolve(ref)
    return {
      defaults: { ...iceberg.storageConfig(), ...defaults },
      overrides: { prefix: encodeURIComponent(ref) },
      endpoints: ENDPOINTS,
    }
  })
}
