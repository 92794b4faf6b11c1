import type { FastifyInstance } from 'fastify'
import { TarnError } from '../util/errors.js'
import type { ApiKeyStore } from './auth/api-key-store.js'
import { OpenConnections } from './open-connections.js'
import type { QueryEnd } from './route-context.js'
import type { ServedLake } from './served-lake.js'
import { ConcurrencyGate, DEFAULT_SERVER_LIMITS, type ServerLimits } from './server-limits.js'

/**
 * True for hosts only this machine can reach (`127.0.0.0/8`, `::1`, `localhost`).
 *
 * @example
 * ```ts
 * isLoopback('127.0.0.1') // true
 * isLoopback('0.0.0.0') // false
 * ```
 */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h)
}

/**
 * A listening server: its URL and a `close()` that stops accepting, drains in-flight requests and returns. Writes
 * always finish (runs and imports too when their clients went away); query results still streaming after the drain
 * timeout are cancelled.
 *
 * @example
 * ```ts
 * const running = await serve({ lake, keys, host: '127.0.0.1', port: 0 }); console.log(running.url)
 * await running.close()
 * ```
 */
export interface RunningServer {
  readonly url: string
  readonly app: FastifyInstance
  close(): Promise<void>
}

/**
 * Starts the HTTP API on `host:port` (port 0 picks a free port). Off loopback it refuses to start while no API key
 * exists (`INVALID_ARGUMENT`); on loopback, no keys means open access.
 *
 * @example
 * ```ts
 * const running = await serve({ lake, keys, host: '127.0.0.1', port: 8181 })
 * ```
 */
export async function serve(options: {
  lake: ServedLake
  keys: ApiKeyStore
  host: string
  port: number
  version?: string
  onQueryEnd?: (end: QueryEnd) => void
  /** Bounds on bodies, results, timeouts and concurrent runs and imports (see `ServerLimits`). */
  limits?: Partial<ServerLimits>
  /** Server log lines (Iceberg writes and refused Iceberg requests). */
  log?: (line: string) => void
  /** How long `close()` waits for query results still streaming before it cancels them (default 30 s). */
  drainTimeoutMs?: number
}): Promise<RunningServer> {
  const loopback = isLoopback(options.host)
  if (!loopback && (await options.keys.count()) === 0) {
    throw new TarnError(
      'INVALID_ARGUMENT',
      `refusing to serve on ${options.host} without API keys: anyone who can reach it could write the lake; create one with \`tarn key create <name> --allow read:*\`, or serve on 127.0.0.1`,
      { host: options.host },
    )
  }
  // Fastify loads with the first server, not with `import 'tarn'`
  const { createServer } = await import('./create-server.js')
  const stopQueries = new AbortController()
  const gate = new ConcurrencyGate({ ...DEFAULT_SERVER_LIMITS, ...options.limits })
  const app = createServer({
    stopQueries: stopQueries.signal,
    gate,
    lake: options.lake,
    keys: options.keys,
    openWithoutKeys: loopback,
    ...(options.onQueryEnd ? { onQueryEnd: options.onQueryEnd } : {}),
    ...(options.version ? { version: options.version } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.log ? { log: options.log } : {}),
  })
  const connections = new OpenConnections(app.server)
  try {
    await app.listen({ host: options.host, port: options.port })
  } catch (e) {
    await app.close().catch(() => undefined)
    const code = (e as { code?: string }).code
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      throw new TarnError(
        'INVALID_ARGUMENT',
        `cannot listen on ${options.host}:${options.port}: ${code === 'EADDRINUSE' ? 'the port is in use' : (e as Error).message}`,
        { host: options.host, port: options.port },
        { cause: e },
      )
    }
    throw e
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : options.port
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Keep-alive connections that finish their request while we drain would hold the server open, as would
      // connections that never sent one: close each as soon as it has no request in flight.
      connections.closeIdle()
      const sweep = setInterval(() => connections.closeIdle(), 50)
      // a reader that stops reading would hold the server open for ever: its query is cancelled after the timeout
      // (a write in progress is never cut off; it lands whole and is answered)
      const stop = setTimeout(() => stopQueries.abort(), options.drainTimeoutMs ?? 30_000)
      try {
        await app.close()
        // runs and imports whose clients went away are no longer requests Fastify waits for: the lake must not
        // close under them
        await gate.idle()
      } finally {
        clearInterval(sweep)
        clearTimeout(stop)
      }
    })()
    return closing
  }
  return { url: `http://${host}:${port}`, app, close }
}
