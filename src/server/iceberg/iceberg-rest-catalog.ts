import type { FastifyInstance, FastifyRequest } from 'fastify'
import { TarnError } from '../../util/errors.js'
import { parseJsonLossless } from '../../util/lossless-json.js'
import type { ApiKeyStore } from '../auth/api-key-store.js'
import type { RouteContext } from '../route-context.js'
import { configRoute } from './config-route.js'
import type { IcebergContext } from './iceberg-context.js'
import { icebergError } from './iceberg-error.js'
import { namespaceRoutes } from './namespace-routes.js'
import { oauthRoute } from './oauth-route.js'
import { tableRoutes } from './table-routes.js'

/**
 * Options of {@link icebergRestCatalog}.
 */
export interface IcebergRestOptions {
  readonly ctx: RouteContext
  readonly keys?: ApiKeyStore
  /** One line per Iceberg write and per refused request (409s included), for the server log. */
  readonly log?: (line: string) => void
  /** Catalog config defaults sent to clients (`s3.endpoint`, `s3.path-style-access` for an S3 warehouse). */
  readonly defaults?: Readonly<Record<string, string>>
}

/**
 * The Iceberg REST catalog as a Fastify plugin (register it under `/iceberg`): `GET /v1/config?warehouse=<ref>`,
 * `POST /v1/oauth/tokens`, and the namespace, table, commit and transaction endpoints at `/v1/{prefix}/...` (the
 * prefix is a tarn ref: a branch takes writes, a tag or commit is read-only) and at `/v1/...` (the server's active
 * branch). Bodies are read without losing 64-bit ids; errors are Iceberg's `{"error":{"message","type","code"}}`.
 */
export async function icebergRestCatalog(app: FastifyInstance, options: IcebergRestOptions): Promise<void> {
  const log = options.log ?? (() => undefined)
  // PyIceberg without a credential sends `Authorization: Bearer None`: that is no credential, not a wrong one
  app.addHook('onRequest', async (req) => {
    if (/^Bearer\s+None\s*$/i.test(req.headers.authorization ?? '')) delete req.headers.authorization
  })
  app.removeContentTypeParser(['application/json'])
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body)
    if (text.trim() === '') return done(null, undefined)
    try {
      done(null, parseJsonLossless(text))
    } catch (e) {
      done(e instanceof Error ? e : new Error(String(e)), undefined)
    }
  })
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))))
  })
  app.setErrorHandler((e, req, reply) => {
    const { status, body } = icebergError(e)
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="tarn"')
    if (status >= 409 || (req.method !== 'GET' && req.method !== 'HEAD')) {
      log(
        `iceberg ${req.method} ${req.url.split('?')[0]} -> ${status} ${body.error.type}: ${body.error.message}`,
      )
    }
    return reply.code(status).type('application/json').send(body)
  })
  app.setNotFoundHandler((req, reply) => {
    const { status, body } = icebergError(
      new TarnError('ROUTE_NOT_FOUND', `no Iceberg endpoint ${req.method} ${req.url.split('?')[0]}`, {}),
    )
    return reply.code(status).send(body)
  })

  const withRef = (ref: (req: FastifyRequest) => string): IcebergContext => ({ ctx: options.ctx, ref, log })
  const active = withRef(() => options.ctx.active())
  const prefixed = withRef((req) => {
    const prefix = (req.params as { prefix?: string }).prefix
    if (prefix === undefined || prefix === '') throw new TarnError('USAGE', 'empty prefix', {})
    return prefix
  })

  await app.register(
    async (v1) => {
      configRoute(v1, active, options.defaults ?? {})
      oauthRoute(v1, options.keys)
      namespaceRoutes(v1, active)
      tableRoutes(v1, active)
    },
    { prefix: '/v1' },
  )
  await app.register(
    async (scoped) => {
      namespaceRoutes(scoped, prefixed)
      tableRoutes(scoped, prefixed)
    },
    { prefix: '/v1/:prefix' },
  )
}
