import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RouteOptions,
} from 'fastify'
import type { LakeApi } from '../lake/lake-api.js'
import { httpStatusFor, TarnError } from '../util/errors.js'
import { type AccessNeed, missingRule } from './auth/access-rules.js'
import type { ApiKeyPrincipal, ApiKeyStore } from './auth/api-key-store.js'
import { icebergError } from './iceberg/iceberg-error.js'
import { icebergRestCatalog } from './iceberg/iceberg-rest-catalog.js'
import { openApiDocument } from './openapi.js'
import type { QueryEnd, RouteContext } from './route-context.js'
import { branchRoutes } from './routes/branches.js'
import { historyRoutes } from './routes/history.js'
import { infoRoutes } from './routes/info.js'
import { jobEventRoutes } from './routes/job-events.js'
import { jobRoutes } from './routes/jobs.js'
import { namespaceRoutes } from './routes/namespaces.js'
import { queryRoutes } from './routes/query.js'
import { runRoutes } from './routes/runs.js'
import { tableRoutes } from './routes/tables.js'
import { tagRoutes } from './routes/tags.js'
import { webAppRoutes } from './routes/web-app.js'
import type { ServedLake } from './served-lake.js'
import { ConcurrencyGate, DEFAULT_SERVER_LIMITS, type ServerLimits } from './server-limits.js'

/**
 * Options of {@link createServer}.
 *
 * @example
 * ```ts
 * const o: ServerOptions = { lake, keys: new ApiKeyStore(lake.catalog.backend, lake), openWithoutKeys: true }
 * ```
 */
export interface ServerOptions {
  readonly lake: ServedLake
  /** The API keys; without a store every request needs `openWithoutKeys`. */
  readonly keys?: ApiKeyStore
  /** Serve requests without a key while no key exists (loopback only; `serve` decides). */
  readonly openWithoutKeys: boolean
  /** Called when a query's result stream ends or is cancelled. */
  readonly onQueryEnd?: (end: QueryEnd) => void
  /** The version in the OpenAPI document. */
  readonly version?: string
  /** Bounds on bodies, results, timeouts and concurrent runs and imports (default {@link DEFAULT_SERVER_LIMITS}). */
  readonly limits?: Partial<ServerLimits>
  /** Server log lines (Iceberg writes and refused Iceberg requests, 409s included). */
  readonly log?: (line: string) => void
  /** Aborted when the server stops waiting for query results still streaming (their queries are cancelled). */
  readonly stopQueries?: AbortSignal
  /** Counts the runs and imports in flight (default: a gate of its own with the limits' bounds). */
  readonly gate?: ConcurrencyGate
}

type Caller = { readonly kind: 'open' } | { readonly kind: 'key'; readonly principal: ApiKeyPrincipal }

/** Fastify's code for a body past `bodyLimit`. */
const BODY_TOO_LARGE = 'FST_ERR_CTP_BODY_TOO_LARGE'

function errorOf(e: unknown): { status: number; error: TarnError } {
  if (e instanceof TarnError) return { status: httpStatusFor(e.code), error: e }
  const f = e as Partial<FastifyError>
  const fastifyCode = f.code
  if (fastifyCode === BODY_TOO_LARGE) {
    return {
      status: 413,
      error: new TarnError('PAYLOAD_TOO_LARGE', f.message ?? 'request body too large', {}),
    }
  }
  if (f.validation !== undefined) {
    return { status: 400, error: new TarnError('USAGE', `invalid request: ${f.message ?? 'bad input'}`, {}) }
  }
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) {
    return {
      status: f.statusCode,
      error: new TarnError('USAGE', f.message ?? 'bad request', { fastify: f.code }),
    }
  }
  return {
    status: 500,
    error: new TarnError('INTERNAL', e instanceof Error ? e.message : String(e), {}),
  }
}

/** Answers a failure as the CLI's `--json` error document, with its HTTP status and auth and retry headers. */
function replyError(reply: FastifyReply, e: unknown): FastifyReply {
  const { status, error } = errorOf(e)
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="tarn"')
  const retry = error.context.retryAfterSeconds
  if (status === 429 && typeof retry === 'number') reply.header('retry-after', String(retry))
  return reply.code(status).type('application/json; charset=utf-8').send({ error: error.toJSON() })
}

/** A query string with the values of boolean and integer parameters parsed (others, and unparsable text, as sent). */
function queryTypes(
  properties: Record<string, { type?: string }>,
  query: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...query }
  for (const [name, value] of Object.entries(query)) {
    const type = properties[name]?.type
    if (typeof value !== 'string') continue
    if (type === 'boolean' && (value === 'true' || value === 'false')) out[name] = value === 'true'
    else if (type === 'integer' && /^-?\d{1,15}$/.test(value)) out[name] = Number(value)
  }
  return out
}

/** The methods each registered path takes, by concrete path (`/api/v1/branches/x` matches `/branches/:name`). */
function methodsByPath(routes: readonly RouteOptions[]): (path: string) => string[] | undefined {
  let table: { re: RegExp; methods: Set<string> }[] | undefined
  return (path) => {
    table ??= (() => {
      const byUrl = new Map<string, Set<string>>()
      for (const r of routes) {
        const set = byUrl.get(r.url) ?? new Set<string>()
        for (const m of Array.isArray(r.method) ? r.method : [r.method]) set.add(String(m))
        byUrl.set(r.url, set)
      }
      return [...byUrl].map(([url, methods]) => ({
        re: new RegExp(`^${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+')}/?$`),
        methods,
      }))
    })()
    const found = new Set<string>()
    for (const t of table) if (t.re.test(path)) for (const m of t.methods) found.add(m)
    return found.size > 0 ? [...found].sort() : undefined
  }
}

/**
 * The HTTP API of a lake as a Fastify app (not yet listening): `/api/v1/...` with one endpoint per {@link LakeApi}
 * operation, the OpenAPI document at `/api/openapi.json`, API-key authentication (`Authorization: Bearer`) with
 * `read|write|merge|admin:<branch glob>` rules, and errors as the CLI's `{"error":{code,message,context}}` documents
 * with an HTTP status per code. Commits made through it carry the calling key's name as author.
 */
export function createServer(options: ServerOptions): FastifyInstance {
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...options.limits }
  const app = Fastify({
    logger: false,
    forceCloseConnections: 'idle',
    bodyLimit: limits.bodyBytes,
    requestTimeout: limits.requestTimeoutMs,
    // how often Node checks the request timeout (its default, 30 s, would let a short timeout run long)
    http: {
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(limits.requestTimeoutMs / 4))),
    },
    // refuse unknown properties (the schemas say additionalProperties: false) instead of silently dropping them, and
    // values of the wrong JSON type (null is not false); query strings are typed by queryTypes below
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
    // a URL the router refuses (bad percent-encoding, a path parameter past its length) answers in the same error
    // documents as every other refusal, after the same authentication
    frameworkErrors: (e, req, framework) => {
      const reply = framework as unknown as FastifyReply
      const send = (failure: unknown): void => {
        if (req.url.startsWith('/iceberg/')) {
          const { status, body } = icebergError(failure)
          reply.code(status).type('application/json').send(body)
          return
        }
        replyError(reply, failure)
      }
      const auth = req.url.startsWith('/api/v1/') ? callerOf(req) : Promise.resolve()
      auth.then(
        () => send(e),
        (denied: unknown) => send(denied),
      )
    },
  })
  const routes: RouteOptions[] = []
  app.addHook('onRoute', (r) => {
    routes.push(r)
  })
  const callers = new WeakMap<FastifyRequest, Caller>()
  const handles = new Map<string, LakeApi>()

  const callerOf = async (req: FastifyRequest): Promise<Caller> => {
    const known = callers.get(req)
    if (known) return known
    const header = req.headers.authorization
    let caller: Caller
    if (header === undefined) {
      if (!options.openWithoutKeys || (options.keys !== undefined && (await options.keys.count()) > 0)) {
        throw new TarnError(
          'UNAUTHORIZED',
          'this server needs an API key: send Authorization: Bearer <key>',
          {},
        )
      }
      caller = { kind: 'open' }
    } else {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
      if (!m || options.keys === undefined) {
        throw new TarnError('UNAUTHORIZED', 'expected Authorization: Bearer <key>', {})
      }
      caller = { kind: 'key', principal: await options.keys.verify(m[1] as string) }
    }
    callers.set(req, caller)
    return caller
  }

  const ctx: RouteContext = {
    active: () => options.lake.activeBranch(),
    authorize: async (req, needs: readonly AccessNeed[]) => {
      const caller = await callerOf(req)
      if (caller.kind === 'open') return
      const missing = missingRule(caller.principal.rules, needs)
      if (missing !== undefined) {
        throw new TarnError('FORBIDDEN', `key ${caller.principal.key.name} lacks the rule ${missing}`, {
          key: caller.principal.key.name,
          rule: missing,
        })
      }
    },
    lake: (req) => {
      const caller = callers.get(req)
      if (caller === undefined)
        throw new TarnError('INTERNAL', 'a handler called the lake before authorize', {})
      if (caller.kind === 'open') return options.lake
      const name = caller.principal.key.name
      let handle = handles.get(name)
      if (!handle) {
        handle = options.lake.withAuthor(name)
        handles.set(name, handle)
      }
      return handle
    },
    onQueryEnd: (end) => options.onQueryEnd?.(end),
    limits,
    gate: options.gate ?? new ConcurrencyGate(limits),
    ...(options.stopQueries ? { stopQueries: options.stopQueries } : {}),
  }

  // Authenticate before validating: a caller without a valid key learns nothing about the request's shape. A known
  // path asked with a method it does not take gets 405 with `Allow` (not 404, nor a body-parsing error).
  const allowed = methodsByPath(routes)
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0] ?? ''
    if (!path.startsWith('/api/v1/')) return
    await callerOf(req)
    if (req.routeOptions.url !== undefined) return
    const methods = allowed(path)
    if (methods === undefined) return
    reply.header('allow', methods.join(', '))
    throw new TarnError('METHOD_NOT_ALLOWED', `${path} takes ${methods.join(', ')}, not ${req.method}`, {
      method: req.method,
      allow: methods,
    })
  })

  // query-string values arrive as text: booleans and integers the route declares are parsed before validation
  app.addHook('preValidation', async (req) => {
    const schema = req.routeOptions.schema?.querystring as
      | { properties?: Record<string, { type?: string }> }
      | undefined
    if (schema?.properties === undefined) return
    req.query = queryTypes(schema.properties, req.query as Record<string, unknown>)
  })

  app.setErrorHandler((e, _req, reply) => replyError(reply, e))
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({
      error: new TarnError('ROUTE_NOT_FOUND', `no endpoint ${req.method} ${req.url.split('?')[0]}`, {
        method: req.method,
      }).toJSON(),
    }),
  )

  app.register(
    async (api) => {
      infoRoutes(api, ctx)
      branchRoutes(api, ctx)
      tagRoutes(api, ctx)
      historyRoutes(api, ctx)
      namespaceRoutes(api, ctx)
      tableRoutes(api, ctx)
      queryRoutes(api, ctx)
      jobRoutes(api, ctx)
      runRoutes(api, ctx)
      jobEventRoutes(api, ctx)
    },
    { prefix: '/api/v1' },
  )
  webAppRoutes(app)
  app.register(icebergRestCatalog, {
    prefix: '/iceberg',
    ctx,
    ...(options.keys ? { keys: options.keys } : {}),
    ...(options.log ? { log: options.log } : {}),
  })
  let doc: unknown
  app.get('/api/openapi.json', async () => {
    doc ??= openApiDocument(routes, options.version ?? '0.0.0')
    return doc
  })
  return app
}
