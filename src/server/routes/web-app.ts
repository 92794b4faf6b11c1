import { readFile } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { TarnError } from '../../util/errors.js'
import { firstPageAnswers } from './first-page-answers.js'

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

/** Smaller bodies go out as they are: gzip would save less than its own header costs. */
const MIN_GZIP_BYTES = 1024

/** The id of the inert JSON block in `index.html` that holds the first page's API answers (web/src/api.ts reads it). */
const ANSWERS_ID = 'tarn-answers'

/** Whether the request's `Accept-Encoding` takes gzip (and does not refuse it with `q=0`). */
function takesGzip(req: FastifyRequest): boolean {
  const header = req.headers['accept-encoding']
  const value = Array.isArray(header) ? header.join(',') : (header ?? '')
  return value.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';')
    return (coding === 'gzip' || coding === '*') && !params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p))
  })
}

/**
 * `index.html` with the first page's API answers in an inert `<script type="application/json">` block after the app's
 * mount point (the Content-Security-Policy runs no inline script; this one is data). `<` is escaped so no answer can
 * close the block.
 */
function withAnswers(html: Buffer, answers: Record<string, unknown>): Buffer {
  const json = JSON.stringify(answers).replace(/</g, '\\u003c')
  const mount = '<div id="app"></div>'
  const text = html.toString('utf8')
  const at = text.indexOf(mount)
  if (at < 0) return html
  const end = at + mount.length
  return Buffer.from(
    `${text.slice(0, end)}<script type="application/json" id="${ANSWERS_ID}">${json}</script>${text.slice(end)}`,
  )
}

/**
 * The web app at `/`: `index.html` and the hashed files under `/assets/`, read from {@link webAppDir} once and kept
 * in memory, gzipped for browsers that take it. The files are public (the app asks for an API key itself, and every
 * `/api/v1` call checks it); on a server open without keys, `index.html` also carries the API's answers for the first
 * page, so it shows without a round trip. A package built without the app answers `/` with a 404 that says how to
 * build it.
 */
export function webAppRoutes(app: FastifyInstance, dir = webAppDir()): void {
  const cache = new Map<string, Buffer>()
  const gzipped = new Map<string, Buffer>()
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
  const send = (
    req: FastifyRequest,
    reply: FastifyReply,
    name: string,
    body: Buffer,
    immutable: boolean,
  ): FastifyReply => {
    reply
      .header('content-type', TYPES[extname(name)] ?? 'application/octet-stream')
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', CSP)
      .header('referrer-policy', 'no-referrer')
      .header('vary', 'accept-encoding')
    if (body.length < MIN_GZIP_BYTES || !takesGzip(req)) return reply.send(body)
    // the hashed assets never change: each is gzipped once; index.html carries answers of the moment
    let gz = immutable ? gzipped.get(name) : undefined
    if (!gz) {
      gz = gzipSync(body)
      if (immutable) gzipped.set(name, gz)
    }
    return reply.header('content-encoding', 'gzip').send(gz)
  }

  const index = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const body = await file('index.html')
    if (!body) {
      throw new TarnError(
        'ROUTE_NOT_FOUND',
        'this tarn was built without its web app: run `npm run build` (it builds dist/web/), then restart tarn serve',
        { dir },
      )
    }
    const answers = await firstPageAnswers(app)
    return send(req, reply, 'index.html', answers ? withAnswers(body, answers) : body, false)
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
    return send(req, reply, name, body, true)
  })
}
