import { createWriteStream } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import type { TextSink } from '../lake/query-output.js'
import type { RunObserver, RunOutcome } from '../pipeline/run/index.js'
import { type ErrorCode, isErrorCode, oneLine, TarnError } from '../util/errors.js'
import { readRunEvents } from './run-events.js'

/** The media type of an Arrow IPC stream, what `/query` answers with. */
export const ARROW_STREAM = 'application/vnd.apache.arrow.stream'

/** The error code of an HTTP status that came without an error document. */
const STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  400: 'USAGE',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'ROUTE_NOT_FOUND',
  408: 'SERVER_UNREACHABLE',
  413: 'PAYLOAD_TOO_LARGE',
  429: 'TOO_MANY_REQUESTS',
  502: 'SERVER_UNREACHABLE',
  503: 'SERVER_UNREACHABLE',
  504: 'SERVER_UNREACHABLE',
}

/** What a request sends besides its method and path: query parameters, a JSON body, the media type it accepts. */
export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>
  readonly body?: unknown
  readonly accept?: string
  readonly signal?: AbortSignal
}

/** A path segment, escaped. */
export function seg(name: string): string {
  return encodeURIComponent(name)
}

/**
 * The HTTP side of a remote lake: builds requests to `<url>/api/v1`, sends the API key as a bearer token, reads
 * JSON, text, NDJSON run progress and downloads, and turns an error document (or a bare HTTP status) into the
 * `TarnError` it stands for.
 */
export class HttpTransport {
  readonly url: string
  readonly #apiKey: string | undefined

  constructor(url: string, apiKey: string | undefined) {
    this.url = url.replace(/\/+$/, '')
    this.#apiKey = apiKey
  }

  /** Sends a request; an answer that is not 2xx throws the `TarnError` it carries. */
  async request(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
    const qs = new URLSearchParams()
    for (const [k, v] of Object.entries(o.query ?? {})) if (v !== undefined) qs.set(k, String(v))
    const url = `${this.url}/api/v1${path}${qs.size > 0 ? `?${qs}` : ''}`
    const headers: Record<string, string> = { accept: o.accept ?? 'application/json' }
    if (this.#apiKey !== undefined) headers.authorization = `Bearer ${this.#apiKey}`
    if (o.body !== undefined) headers['content-type'] = 'application/json'
    let res: Response
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      })
    } catch (e) {
      throw new TarnError(
        'SERVER_UNREACHABLE',
        `cannot reach the tarn server at ${this.url}: ${(e as Error).message}`,
        { url: this.url },
        { cause: e },
      )
    }
    if (res.ok) return res
    throw errorOf(res, await res.text(), method, path)
  }

  /** Sends a request and reads its JSON answer. */
  async json<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    return (await (await this.request(method, path, o)).json()) as T
  }

  /** Sends a request and passes its text answer to `sink` as it arrives; returns the response (for its headers). */
  async text(method: string, path: string, o: RequestOptions, sink: TextSink): Promise<Response> {
    const res = await this.request(method, path, { ...o, accept: 'text/plain' })
    const decoder = new TextDecoder()
    if (res.body !== null) {
      for await (const chunk of res.body) {
        const text = decoder.decode(chunk as Uint8Array, { stream: true })
        if (text.length > 0) sink.out(text)
      }
    }
    const rest = decoder.decode()
    if (rest.length > 0) sink.out(rest)
    return res
  }

  /** Sends a request and writes its binary answer to the file `temporary`; returns the response (for its headers). */
  async download(method: string, path: string, o: RequestOptions, temporary: string): Promise<Response> {
    const res = await this.request(method, path, { ...o, accept: 'application/octet-stream' })
    if (res.body === null) throw new TarnError('INTERNAL', 'the server sent no export', {})
    await pipeline(
      Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>),
      createWriteStream(temporary),
    )
    return res
  }

  /** Posts a run and replays its NDJSON progress into `observer`. */
  async run(path: string, body: unknown, observer: RunObserver | undefined): Promise<RunOutcome> {
    const res = await this.request('POST', path, { body, accept: 'application/x-ndjson' })
    if (res.body === null) throw new TarnError('INTERNAL', 'the server sent no run progress', {})
    return readRunEvents(res.body, observer)
  }
}

/** The `TarnError` of a failed answer: its error document's, or the one its status stands for. */
function errorOf(res: Response, text: string, method: string, path: string): TarnError {
  let doc: { error?: { code?: string; message?: string; context?: Record<string, unknown> } } | undefined
  try {
    doc = JSON.parse(text) as typeof doc
  } catch {
    doc = undefined
  }
  const err = doc?.error
  if (err?.code !== undefined) {
    if (isErrorCode(err.code)) return new TarnError(err.code, err.message ?? err.code, err.context ?? {})
    return new TarnError('INTERNAL', err.message ?? err.code, {
      ...(err.context ?? {}),
      serverCode: err.code,
    })
  }
  // an answer without tarn's error document (a proxy, a timeout): the code its status stands for
  const code = STATUS_CODES[res.status] ?? 'INTERNAL'
  const retry = res.headers.get('retry-after')
  return new TarnError(code, `HTTP ${res.status} from ${method} ${path}: ${oneLine(text).slice(0, 200)}`, {
    status: res.status,
    ...(retry !== null && /^\d+$/.test(retry) ? { retryAfterSeconds: Number(retry) } : {}),
  })
}
