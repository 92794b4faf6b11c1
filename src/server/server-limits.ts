import { TarnError } from '../util/errors.js'

/**
 * The bounds a server keeps: request body size, uploaded projects, query results, request timeout, and how many
 * runs and imports run at once (one more is refused with `TOO_MANY_REQUESTS`, HTTP 429 and `Retry-After`, rather
 * than queued: the client decides whether to wait).
 *
 * @example
 * ```ts
 * const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, maxConcurrentRuns: 2 }
 * ```
 */
export interface ServerLimits {
  /** Largest request body, in bytes (project uploads included); more is `PAYLOAD_TOO_LARGE` (413). */
  readonly bodyBytes: number
  /** Most files of an uploaded project. */
  readonly maxProjectFiles: number
  /** Largest file of an uploaded project, in bytes. */
  readonly maxProjectFileBytes: number
  /** Most rows a query result may send; the body ends with `RESULT_TOO_LARGE` past it (0: no bound). */
  readonly maxResultRows: number
  /** Most bytes a query result or export may send (0: no bound). */
  readonly maxResultBytes: number
  /** Time to receive a whole request (headers and body), in ms; a slower client gets 408 and is disconnected. */
  readonly requestTimeoutMs: number
  /** Pipeline runs and reruns at once. */
  readonly maxConcurrentRuns: number
  /** Table creates and imports at once. */
  readonly maxConcurrentImports: number
  /** The `Retry-After` (seconds) sent with a refused run or import. */
  readonly retryAfterSeconds: number
}

/**
 * The limits of `tarn serve` unless configured otherwise.
 *
 * @example
 * ```ts
 * createServer({ lake, openWithoutKeys: true, limits: { ...DEFAULT_SERVER_LIMITS, maxResultRows: 1e6 } })
 * ```
 */
export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  bodyBytes: 32 * 1024 * 1024,
  maxProjectFiles: 2000,
  maxProjectFileBytes: 1 << 20,
  maxResultRows: 0,
  maxResultBytes: 0,
  requestTimeoutMs: 60_000,
  maxConcurrentRuns: 4,
  maxConcurrentImports: 4,
  retryAfterSeconds: 5,
}

/**
 * Work whose concurrency the server bounds.
 */
export type AdmittedWork = 'run' | 'import'

/**
 * Counts the runs and imports in flight: `admit` returns a release function, or throws `TOO_MANY_REQUESTS` (with
 * `retryAfterSeconds` in its context) when the bound is reached; `idle` waits until none is in flight.
 */
export class ConcurrencyGate {
  readonly #limits: ServerLimits
  readonly #running: Record<AdmittedWork, number> = { run: 0, import: 0 }
  #idle: (() => void)[] = []

  constructor(limits: ServerLimits) {
    this.#limits = limits
  }

  /** Takes a slot for `kind` or refuses; the returned function gives it back (once). */
  admit(kind: AdmittedWork): () => void {
    const max = kind === 'run' ? this.#limits.maxConcurrentRuns : this.#limits.maxConcurrentImports
    if (this.#running[kind] >= max) {
      throw new TarnError(
        'TOO_MANY_REQUESTS',
        `the server is already running ${max} ${kind}${max === 1 ? '' : 's'}; retry in ${this.#limits.retryAfterSeconds}s`,
        { kind, max, retryAfterSeconds: this.#limits.retryAfterSeconds },
      )
    }
    this.#running[kind]++
    let released = false
    return () => {
      if (released) return
      released = true
      this.#running[kind]--
      if (this.#running.run + this.#running.import > 0) return
      const waiting = this.#idle
      this.#idle = []
      for (const resolve of waiting) resolve()
    }
  }

  /**
   * Resolves once no run or import is in flight: a server that stops waits for them even when their clients went
   * away (a run lands whole or is sealed, an import commits whole or not at all, before the lake closes).
   */
  idle(): Promise<void> {
    if (this.#running.run + this.#running.import === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }
}
