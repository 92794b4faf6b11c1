import { connect, createServer, type Server, type Socket } from 'node:net'

/**
 * Where a {@link PgCutProxy} cuts at the next commit point:
 * - `before-commit`: the client's COMMIT (or the Sync that ends an auto-committed write) never reaches the server;
 *   every connection drops, so the server rolls the transaction back.
 * - `after-commit`: the COMMIT reaches the server and commits; every connection drops before its reply reaches the
 *   client.
 */
export type CutMode = 'before-commit' | 'after-commit'

/**
 * Statements that change data when auto-committed by a Sync outside a transaction (a `WITH` statement is the
 * catalog's branch update: an UPDATE and INSERTs in data-modifying CTEs).
 */
const WRITE_SQL = /^\s*(insert|update|delete|create|drop|alter|truncate|with)\b/i
const COMMIT_SQL = /^\s*(commit|end)\s*;?\s*$/i
/** Protocol codes of the startup packets that switch the stream to TLS or GSS (the proxy then only relays bytes). */
const SSL_REQUEST = 80877103
const GSS_REQUEST = 80877104

/** One proxied connection: the client side, the server side and the parse state of both byte streams. */
class Relay {
  readonly client: Socket
  readonly server: Socket
  #fromClient: Buffer = Buffer.alloc(0)
  #fromServer: Buffer = Buffer.alloc(0)
  #started = false
  #raw = false
  /** The transaction status of the last ReadyForQuery ('I' idle, 'T' in a transaction, 'E' failed). */
  #status = 'I'
  /** The SQL of the last Parse message (the statement an extended-protocol Sync completes). */
  #parsed = ''
  /** The commit point was relayed: hold the server's answer and cut when its ReadyForQuery arrives. */
  #awaitingAnswer = false
  readonly #proxy: PgCutProxy

  constructor(client: Socket, server: Socket, proxy: PgCutProxy) {
    this.client = client
    this.server = server
    this.#proxy = proxy
    client.on('data', (chunk: Buffer) => this.#onClient(chunk))
    server.on('data', (chunk: Buffer) => this.#onServer(chunk))
    const end = (): void => this.destroy()
    client.on('error', end)
    server.on('error', end)
    client.on('close', end)
    server.on('close', end)
  }

  destroy(): void {
    this.client.destroy()
    this.server.destroy()
    this.#proxy.forget(this)
  }

  #onClient(chunk: Buffer): void {
    if (this.#raw) {
      this.server.write(chunk)
      return
    }
    this.#fromClient = Buffer.concat([this.#fromClient, chunk])
    for (;;) {
      const buf = this.#fromClient
      if (!this.#started) {
        // The startup packet has no type byte: int32 length, int32 protocol code, parameters.
        if (buf.length < 8) return
        const len = buf.readInt32BE(0)
        if (buf.length < len) return
        const code = buf.readInt32BE(4)
        this.#started = true
        this.server.write(buf.subarray(0, len))
        this.#fromClient = buf.subarray(len)
        if (code === SSL_REQUEST || code === GSS_REQUEST) {
          this.#raw = true
          if (this.#fromClient.length > 0) this.server.write(this.#fromClient)
          return
        }
        continue
      }
      if (buf.length < 5) return
      const len = 1 + buf.readInt32BE(1)
      if (buf.length < len) return
      const msg = buf.subarray(0, len)
      this.#fromClient = buf.subarray(len)
      const type = String.fromCharCode(msg[0] as number)
      if (type === 'P') {
        const nameEnd = msg.indexOf(0, 5)
        this.#parsed = msg.toString('utf8', nameEnd + 1, msg.indexOf(0, nameEnd + 1))
      }
      const commitPoint =
        (type === 'Q' && this.#status === 'T' && COMMIT_SQL.test(msg.toString('utf8', 5, len - 1))) ||
        (type === 'S' && this.#status === 'I' && WRITE_SQL.test(this.#parsed))
      const mode = commitPoint ? this.#proxy.takeArm() : undefined
      if (mode === 'before-commit') {
        this.#proxy.cut()
        return
      }
      this.server.write(msg)
      if (mode === 'after-commit') this.#awaitingAnswer = true
    }
  }

  #onServer(chunk: Buffer): void {
    if (this.#raw) {
      this.client.write(chunk)
      return
    }
    this.#fromServer = Buffer.concat([this.#fromServer, chunk])
    for (;;) {
      const buf = this.#fromServer
      if (buf.length < 5) return
      const len = 1 + buf.readInt32BE(1)
      if (buf.length < len) return
      const msg = buf.subarray(0, len)
      this.#fromServer = buf.subarray(len)
      const type = String.fromCharCode(msg[0] as number)
      if (type === 'Z') this.#status = String.fromCharCode(msg[5] as number)
      if (this.#awaitingAnswer) {
        // The server has answered the commit point: it committed. The client never hears of it.
        if (type === 'Z') {
          this.#proxy.cut()
          return
        }
        continue
      }
      this.client.write(msg)
    }
  }
}

/**
 * A loopback TCP proxy in front of a PostgreSQL server that really drops the database connections of a simulated
 * process at a transaction's commit point. It follows the wire protocol in both directions (typed messages after the
 * startup packet): a commit point is a simple-protocol `COMMIT` sent inside a transaction, or the Sync that ends an
 * extended-protocol write statement sent outside one (an auto-committed INSERT). Once armed with a {@link CutMode},
 * the next commit point on any connection cuts every connection, as the death of the process would; after a cut,
 * new connections are refused until {@link PgCutProxy.revive}.
 *
 * @example
 * ```ts
 * const proxy = await PgCutProxy.start('postgres://tarn:tarn@127.0.0.1:5432/tarn')
 * const backend = PostgresBackend.open(proxy.urlOf('postgres://tarn:tarn@127.0.0.1:5432/tarn?schema=s'))
 * proxy.arm('before-commit')
 * await backend.updateBranch(update).catch(() => undefined) // rolled back by the server
 * await proxy.close()
 * ```
 */
export class PgCutProxy {
  readonly #server: Server
  readonly #target: { host: string; port: number }
  readonly #relays = new Set<Relay>()
  #armed: CutMode | undefined
  #dead = false
  /** Connections cut at a commit point, by mode, since the proxy started. */
  readonly cuts: Record<CutMode, number> = { 'before-commit': 0, 'after-commit': 0 }
  #lastCut: CutMode | undefined
  /** The loopback port the proxy listens on. */
  readonly port: number

  private constructor(server: Server, target: { host: string; port: number }, port: number) {
    this.#server = server
    this.#target = target
    this.port = port
  }

  /** Starts a proxy on 127.0.0.1 (a free port) relaying to the server of `url`. */
  static async start(url: string): Promise<PgCutProxy> {
    const u = new URL(url)
    const target = { host: u.hostname, port: Number(u.port || 5432) }
    let accept: (client: Socket) => void = (client) => client.destroy()
    const server = createServer((client) => accept(client))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address')
    const proxy = new PgCutProxy(server, target, address.port)
    accept = (client) => proxy.#accept(client)
    return proxy
  }

  #accept(client: Socket): void {
    if (this.#dead) {
      client.destroy()
      return
    }
    client.setNoDelay(true)
    const server = connect(this.#target.port, this.#target.host)
    server.setNoDelay(true)
    this.#relays.add(new Relay(client, server, this))
  }

  /** `url` with its host and port replaced by the proxy's. */
  urlOf(url: string): string {
    const u = new URL(url)
    u.hostname = '127.0.0.1'
    u.port = String(this.port)
    return u.toString()
  }

  /** Cuts at the next commit point (see {@link CutMode}); a later `arm` replaces an unused one. */
  arm(mode: CutMode): void {
    this.#armed = mode
    this.#lastCut = undefined
  }

  /** Forgets an unused arm; returns the mode of the cut made since {@link PgCutProxy.arm}, if any. */
  disarm(): CutMode | undefined {
    this.#armed = undefined
    return this.#lastCut
  }

  /** @internal The armed mode, consumed by the commit point that sees it. */
  takeArm(): CutMode | undefined {
    const mode = this.#armed
    this.#armed = undefined
    if (mode !== undefined) {
      this.cuts[mode]++
      this.#lastCut = mode
    }
    return mode
  }

  /** Drops every connection (the simulated process died) and refuses new ones until {@link PgCutProxy.revive}. */
  cut(): void {
    this.#dead = true
    for (const relay of [...this.#relays]) relay.destroy()
  }

  /** Accepts connections again (a new simulated process). */
  revive(): void {
    this.#dead = false
    this.#armed = undefined
  }

  /** @internal */
  forget(relay: Relay): void {
    this.#relays.delete(relay)
  }

  /** Drops every connection and stops listening. */
  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}
