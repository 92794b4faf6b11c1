import type { RouteOptions } from 'fastify'
import type { JsonSchema } from './routes/schema.js'

declare module 'fastify' {
  interface FastifySchema {
    /** OpenAPI tags of the operation. */
    readonly tags?: readonly string[]
    /** OpenAPI summary of the operation. */
    readonly summary?: string
    /** Media types of the success response, when not JSON (progress streams, text, files). */
    readonly produces?: Readonly<Record<string, JsonSchema>>
  }
}

const ERROR_DOCUMENT: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'context'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, context: { type: 'object' } },
    },
  },
}

interface RouteSchema {
  readonly tags?: readonly string[]
  readonly summary?: string
  readonly params?: { readonly properties?: Record<string, JsonSchema> }
  readonly querystring?: {
    readonly properties?: Record<string, JsonSchema>
    readonly required?: readonly string[]
  }
  readonly body?: JsonSchema
  readonly produces?: Readonly<Record<string, JsonSchema>>
}

function parameters(s: RouteSchema): JsonSchema[] {
  const path = Object.entries(s.params?.properties ?? {}).map(([name, schema]) => ({
    name,
    in: 'path',
    required: true,
    schema,
  }))
  const required = new Set(s.querystring?.required ?? [])
  const query = Object.entries(s.querystring?.properties ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema,
  }))
  return [...path, ...query]
}

/**
 * The OpenAPI 3.0 document of the routes registered on the server, built from their validation schemas.
 */
export function openApiDocument(routes: readonly RouteOptions[], version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {}
  for (const r of routes) {
    if (!r.url.startsWith('/api/v1/')) continue
    const s = (r.schema ?? {}) as RouteSchema
    const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}')
    const methods = (Array.isArray(r.method) ? r.method : [r.method]).filter((m) => m !== 'HEAD')
    for (const m of methods) {
      const method = String(m).toLowerCase()
      const query = path === '/api/v1/query'
      const operationId = `${method}${path
        .replace(/^\/api\/v1/, '')
        .replace(/[{}]/g, '')
        .split(/[/-]/)
        .filter(Boolean)
        .map((p) => p[0]?.toUpperCase() + p.slice(1))
        .join('')}`
      paths[path] = {
        ...(paths[path] ?? {}),
        [method]: {
          operationId,
          ...(s.summary ? { summary: s.summary } : {}),
          ...(s.tags ? { tags: s.tags } : {}),
          parameters: parameters(s),
          ...(s.body
            ? { requestBody: { required: true, content: { 'application/json': { schema: s.body } } } }
            : {}),
          responses: {
            [method === 'post' && /\/(branches|tags|namespaces|tables)$/.test(path) ? '201' : '200']: {
              description: 'Success',
              content: s.produces
                ? s.produces
                : query
                  ? {
                      'application/vnd.apache.arrow.stream': { schema: { type: 'string', format: 'binary' } },
                      'application/json': { schema: { type: 'array', items: { type: 'object' } } },
                      'text/csv': { schema: { type: 'string' } },
                    }
                  : { 'application/json': { schema: { type: 'object' } } },
            },
            default: {
              description: 'An error document: a stable code, a message, and context',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
            },
          },
        },
      }
    }
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'tarn',
      version,
      description: 'The tarn lake API: branches, tags, history, merges, tables and SQL queries over HTTP.',
    },
    servers: [{ url: '/' }],
    security: [{ apiKey: [] }],
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key from `tarn key create`: <id>.<secret>',
        },
      },
      schemas: { Error: ERROR_DOCUMENT },
    },
    paths,
  }
}
