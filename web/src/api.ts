// Calls to tarn's HTTP API with the API key of this browser session (if any), and its error documents as ApiError.

const KEY = 'tarn.apiKey'

/** An error document `{"error":{code,message,context}}` from the server, or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message)
  }
}

const keyListeners = new Set<(error: ApiError) => void>()

/** Called when the server asks for a key (401), so the app can show its key form with the server's reason. */
export function onKeyNeeded(listener: (error: ApiError) => void): () => void {
  keyListeners.add(listener)
  return () => keyListeners.delete(listener)
}

export function apiKey(): string | null {
  return sessionStorage.getItem(KEY)
}

export function setApiKey(key: string | null): void {
  if (key === null || key === '') sessionStorage.removeItem(KEY)
  else sessionStorage.setItem(KEY, key)
}

function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = {}
  const key = apiKey()
  if (key !== null) h.authorization = `Bearer ${key}`
  if (json) h['content-type'] = 'application/json'
  return h
}

async function failure(res: Response): Promise<ApiError> {
  let error = new ApiError('HTTP', `${res.status} ${res.statusText}`, res.status)
  try {
    const doc = (await res.json()) as { error?: { code?: string; message?: string } }
    if (doc.error?.code !== undefined) {
      error = new ApiError(doc.error.code, doc.error.message ?? res.statusText, res.status)
    }
  } catch {}
  if (res.status === 401) for (const l of keyListeners) l(error)
  return error
}

/** `fetch` of `/api/v1<path>` that throws ApiError unless the response is 2xx. */
export async function call(
  method: string,
  path: string,
  body?: unknown,
  query?: Record<string, string | number | boolean | undefined>,
  signal?: AbortSignal,
): Promise<Response> {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v))
  const qs = params.size > 0 ? `?${params.toString()}` : ''
  let res: Response
  try {
    res = await fetch(`/api/v1${path}${qs}`, {
      method,
      headers: headers(body !== undefined),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(signal ? { signal } : {}),
    })
  } catch (e) {
    if (signal?.aborted) throw e
    throw new ApiError(
      'NETWORK',
      `the server did not answer: ${e instanceof Error ? e.message : String(e)}`,
      0,
    )
  }
  if (!res.ok) throw await failure(res)
  return res
}

/**
 * The answers to the first page's GETs that a server open without keys writes into index.html (path under `/api/v1`
 * -> JSON body), so that page shows in its first render. They describe the lake as the page loaded: each is taken
 * once, and all are dropped when the route changes.
 */
const firstAnswers = new Map<string, unknown>(
  Object.entries(
    JSON.parse(document.getElementById('tarn-answers')?.textContent ?? '{}') as Record<string, unknown>,
  ),
)
addEventListener('hashchange', () => firstAnswers.clear(), { once: true })

/** The server's answer to `GET /api/v1<path>` written into the page it loaded with, if any (taken once). */
export function takeFirstAnswer<T>(path: string): T | undefined {
  const answer = firstAnswers.get(path) as T | undefined
  firstAnswers.delete(path)
  return answer
}

/** A JSON call. */
export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  query?: Record<string, string | number | boolean | undefined>,
): Promise<T> {
  return (await (await call(method, path, body, query)).json()) as T
}

/** A path segment: names such as `feature/x` travel URL-encoded. */
export function seg(name: string): string {
  return encodeURIComponent(name)
}

/**
 * Reads a server-sent event stream (`text/event-stream`) with fetch, so the API key goes in a header as for every
 * other call; calls `onData` with each event's parsed JSON data until the stream ends or `signal` aborts.
 */
export async function readEvents(
  path: string,
  onData: (data: unknown) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await call('GET', path, undefined, undefined, signal)
  if (!res.body) return
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return
    buffer += value
    let end = buffer.indexOf('\n\n')
    while (end >= 0) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n')
      if (data !== '') onData(JSON.parse(data))
      end = buffer.indexOf('\n\n')
    }
  }
}

/** Lines of a JSON-lines response (`application/x-ndjson`), each parsed. */
export async function readLines(res: Response, onLine: (doc: unknown) => void): Promise<void> {
  if (!res.body) return
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (value !== undefined) buffer += value
    let nl = buffer.indexOf('\n')
    while (nl >= 0) {
      const line = buffer.slice(0, nl).trim()
      buffer = buffer.slice(nl + 1)
      if (line !== '') onLine(JSON.parse(line))
      nl = buffer.indexOf('\n')
    }
    if (done) {
      if (buffer.trim() !== '') onLine(JSON.parse(buffer))
      return
    }
  }
}
