import type { Server } from 'node:http'
import type { Socket } from 'node:net'

/**
 * The connections of an HTTP server and how many requests each has in flight, so that a server that stops can close
 * every connection with none: keep-alive connections between requests, and connections that never sent one (a
 * browser's or a pool's spare socket). Node's own `closeIdleConnections` leaves the latter open until the request
 * timeout, which held a stopping server for a minute.
 */
export class OpenConnections {
  readonly #inFlight = new Map<Socket, number>()

  constructor(server: Server) {
    server.on('connection', (socket: Socket) => {
      this.#inFlight.set(socket, 0)
      socket.once('close', () => this.#inFlight.delete(socket))
    })
    server.on('request', (req, res) => {
      const socket = req.socket
      this.#inFlight.set(socket, (this.#inFlight.get(socket) ?? 0) + 1)
      res.once('close', () => {
        const n = this.#inFlight.get(socket)
        if (n !== undefined) this.#inFlight.set(socket, Math.max(0, n - 1))
      })
    })
  }

  /** Closes every connection with no request in flight. */
  closeIdle(): void {
    for (const [socket, n] of this.#inFlight) if (n === 0) socket.destroy()
  }
}
