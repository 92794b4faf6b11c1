import { createServer, type IncomingMessage, request, type Server } from 'node:http'

/** Says whether an S3 request (method and URL path with query) is one the armed fault applies to. */
export type RequestMatcher = (method: string, url: URL) => boolean

const SLOW_DOWN =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>tarn-crash-sim</RequestId></Error>'

/**
 * A loopback HTTP proxy in front of an S3 server that answers chosen requests with a real `503 SlowDown`, as S3 does
 * when it throttles, so the AWS SDK's own retry path runs. Everything else is relayed unchanged.
 *
 * @example
 * ```ts
 * const proxy = await S3FaultProxy.start(s3.endpoint)
 * const undo = proxy.failNext((method, url) => url.pathname === '/bucket/key', 2) // two 503s, then the SDK's retry succeeds
 * await store.get('key')
 * undo()
 * await proxy.close()
 * ```
 */
export class S3FaultProxy {
  readonly #server: Server
  readonly #target: URL
  #armed: { match: RequestMatcher; left: number } | undefined
  /** Requests answered with 503 SlowDown since the proxy started. */
  slowDowns = 0
  /** The proxy's endpoint URL (`http://127.0.0.1:port`). */
  readonly endpoint: string

  private constructor(server: Server, target: URL, endpoint: string) {
    this.#server = server
    this.#target = target
    this.endpoint = endpoint
  }

  /** Starts a proxy on 127.0.0.1 (a free port) relaying to `endpoint`. */
  static async start(endpoint: string): Promise<S3FaultProxy> {
    const target = new URL(endpoint)
    let handle: (req: IncomingMessage, res: import('node:http').ServerResponse) => void = (_req, res) => {
      res.statusCode = 503
      res.end()
    }
    const server = createServer((req, res) => handle(req, res))
    server.keepAliveTimeout = 1000
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address')
    const proxy = new S3FaultProxy(server, target, `http://127.0.0.1:${address.port}`)
    handle = (req, res) => proxy.#handle(req, res)
    return proxy
  }

  /**
   * Answers the next `count` requests that `match` accepts with 503 SlowDown. Returns a function that forgets what is
   * left of it.
   */
  failNext(match: RequestMatcher, count: number): () => void {
    const armed = { match, left: count }
    this.#armed = armed
    return () => {
      if (this.#armed === armed) this.#armed = undefined
    }
  }

  #handle(req: IncomingMessage, res: import('node:http').ServerResponse): void {
    const url = new URL(req.url ?? '/', this.endpoint)
    const armed = this.#armed
    if (armed && armed.left > 0 && armed.match(req.method ?? 'GET', url)) {
      armed.left--
      if (armed.left === 0) this.#armed = undefined
      this.slowDowns++
      req.resume()
      req.on('end', () => {
        res.writeHead(503, {
          'content-type': 'application/xml',
          'content-length': Buffer.byteLength(SLOW_DOWN),
        })
        res.end(req.method === 'HEAD' ? undefined : SLOW_DOWN)
      })
      return
    }
    const upstream = request(
      {
        host: this.#target.hostname,
        port: this.#target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}
