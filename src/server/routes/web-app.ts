import { readFile } from 'node:fs/promises'
import { extname, join } from 'node:path'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { TarnError } from '../../util/errors.js'

/**
 * Where `npm run build` puts the web app (`vite build web`): `dist/web/` of the package, found from this module in
 * `dist/server/routes/` (installed) or `src/server/routes/` (tests run from source); both are three levels down.
 */
export function webAppDir(): string {
  return join(import.meta.dirname, '..', '..', '..', 'dist', 'web')
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
}

/** No inline scripts, nothing from other origins: the bundle is self-contained and only talks to this server. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

/**
 * The web app at `/`: `index.html` and the hashed files under `/assets/`, read from {@link webAppDir} once and kept
 * in memory. The files are public (the app asks for an API key itself, and every `/api/v1` call checks it); a
 * package built without the app answers `/` with a 404 that says how to build it.
 */
export function webAppRoutes(app: FastifyInstance, dir = webAppDir()): void {
  const cache = new Map<string, Buffer>()
  const file = async (name: string): Promise<Buffer | undefined> => {
    const hit = cache.get(name)
    if (hit) return hit
    try {
      const body = await readFile(join(dir, name))
      cache.set(name, body)
      return body
    } catch {
      return undefined
    }
  }
  const send = (reply: FastifyReply, name: string, body: Buffer, immutable: boolean): FastifyReply =>
    reply
      .header('content-type', TYPES[extname(name)] ?? 'application/octet-stream')
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', CSP)
      .header('referrer-policy', 'no-referrer')
      .send(body)

  const index = async (_req: unknown, reply: FastifyReply): Promise<FastifyReply> => {
    const body = await file('index.html')
    if (!body) {
      throw new TarnError(
        'ROUTE_NOT_FOUND',
        'this tarn was built without its web app: run `npm run build` (it builds dist/web/), then restart tarn serve',
        { dir },
      )
    }
    return send(reply, 'index.html', body, false)
  }
  app.get('/', index)
  // browsers ask for it unprompted; the app has none
  app.get('/favicon.ico', async (_req, reply) => reply.code(204).send())
  app.get('/index.html', index)
  app.get<{ Params: { name: string } }>('/assets/:name', async (req, reply) => {
    const name = req.params.name
    // hashed file names only: no separators, no dot-dot
    const body =
      /^[\w][\w.-]*$/.test(name) && !name.includes('..') ? await file(join('assets', name)) : undefined
    if (!body) {
      throw new TarnError('ROUTE_NOT_FOUND', `no web app file /assets/${name}`, { file: name })
    }
    return send(reply, name, body, true)
  })
}
