import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

/**
 * Runs `fn` with a `globalThis.fetch` that also serves `file://` URLs (HEAD with content-length, GET with Range),
 * because icebird fetches every file and Node 20's fetch cannot read local files.
 */
export async function withLocalFetch<T>(fn: () => Promise<T>): Promise<T> {
  const original = globalThis.fetch
  const local = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    if (!url.startsWith('file://')) return original(input, init)
    let bytes: Buffer
    try {
      bytes = await readFile(fileURLToPath(url))
    } catch {
      return new Response(null, { status: 404, statusText: 'Not Found' })
    }
    if (init?.method === 'HEAD') {
      return new Response(null, { status: 200, headers: { 'content-length': String(bytes.length) } })
    }
    const headers = new Headers(init?.headers)
    const range = headers.get('range') ?? headers.get('Range')
    const m = range ? /bytes=(\d+)-(\d*)/.exec(range) : null
    if (m) {
      const start = Number(m[1])
      const end = m[2] ? Number(m[2]) + 1 : bytes.length
      return new Response(new Uint8Array(bytes.subarray(start, end)), {
        status: 206,
        headers: { 'content-length': String(end - start) },
      })
    }
    return new Response(new Uint8Array(bytes), {
      status: 200,
      headers: { 'content-length': String(bytes.length) },
    })
  }
  globalThis.fetch = local as typeof fetch
  try {
    return await fn()
  } finally {
    globalThis.fetch = original
  }
}
