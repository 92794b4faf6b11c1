import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A running local S3 server, from {@link startS3Server}.
 *
 * @example
 * ```ts
 * const s3: TestS3Server = await startS3Server()
 * const client = new S3Client({ endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials, forcePathStyle: true })
 * ```
 */
export interface TestS3Server {
  /** The endpoint URL, e.g. `http://127.0.0.1:41234` (use it with `forcePathStyle: true`). */
  readonly endpoint: string
  /** A bucket that already exists on the server. */
  readonly bucket: string
  /** Any credentials work; pass these explicitly so that the environment does not matter. */
  readonly credentials: { accessKeyId: string; secretAccessKey: string }
  /** The region to use with the server (s3rver ignores it, but the SDK needs one). */
  readonly region: string
  /** Stops the server and deletes its data directory. Safe to call twice. */
  close(): Promise<void>
}

/**
 * The server process: s3rver (with its listing order fixed) on 127.0.0.1, port 0, silent; prints `{"port":N}` once listening and exits when its
 * stdin closes (so it dies with the test process even if `close()` is never called).
 */
const CHILD_SCRIPT = `
const path = require('node:path')
// s3rver lists keys in directory-walk order, not S3's byte order, and then pages with 'key <= startAfter': a key like
// 'a-b' ('-' < '/') that the walk yields after 'a/...' is silently lost across pages. Sort the walk by key instead.
const utils = require(path.join(path.dirname(process.env.TARN_S3RVER_MODULE), 'utils.js'))
const walk = utils.walk
const keyOf = (p) => Buffer.from(p.replace(/\\._S3rver_[^/]*$/, ''), 'utf8')
utils.walk = function* sortedWalk(dir, recurseFilter) {
  const paths = [...walk(dir, recurseFilter)]
  paths.sort((a, b) => Buffer.compare(keyOf(a), keyOf(b)))
  yield* paths
}
const S3rver = require(process.env.TARN_S3RVER_MODULE)
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: process.env.TARN_S3RVER_DIRECTORY,
  configureBuckets: [{ name: process.env.TARN_S3RVER_BUCKET }],
})
server.run().then(
  (address) => process.stdout.write(JSON.stringify({ port: address.port }) + '\\n'),
  (err) => { console.error(err); process.exit(1) },
)
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
`

const STARTUP_TIMEOUT_MS = 20_000

/** Waits for the child's `{"port":N}` line. */
function readPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = ''
    const timer = setTimeout(() => fail(new Error('s3rver did not start within 20 s')), STARTUP_TIMEOUT_MS)
    const cleanup = (): void => {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.off('exit', onExit)
      child.off('error', fail)
    }
    function fail(e: Error): void {
      cleanup()
      reject(e)
    }
    function onExit(code: number | null): void {
      fail(new Error(`s3rver exited during start-up with code ${code}`))
    }
    function onData(chunk: Buffer): void {
      buffered += chunk.toString('utf8')
      const newline = buffered.indexOf('\n')
      if (newline < 0) return
      cleanup()
      try {
        const { port } = JSON.parse(buffered.slice(0, newline)) as { port: number }
        resolve(port)
      } catch (e) {
        reject(e)
      }
    }
    child.stdout?.on('data', onData)
    child.once('exit', onExit)
    child.once('error', fail)
  })
}

/**
 * Starts a real S3-protocol server (`s3rver`) for tests: listening on 127.0.0.1 on a free port chosen by the OS,
 * silent, storing objects in a fresh temp directory, with one bucket already created. No mocks, no network beyond
 * loopback. Call `close()` in `afterAll` (destroy your S3 clients first or not: open connections are dropped).
 *
 * The server runs in a child Node process started with `--openssl-legacy-provider`: s3rver encrypts ListObjectsV2
 * continuation tokens with DES, which Node 20's OpenSSL 3 refuses by default (every truncated listing would fail with
 * 500 InternalError). Running it out of process also keeps its work off the test's event loop.
 *
 * The child also patches s3rver's listing to return keys in S3's byte order (s3rver walks directories instead, which
 * loses keys such as `a-b` next to `a/...` when a listing spans several pages).
 *
 * Known limits of s3rver: it does not enforce conditional writes (`If-None-Match: *` is accepted and overwrites), and
 * it needs path-style addressing (`forcePathStyle: true`) with any credentials.
 *
 * @param options.bucket the bucket to pre-create (default `tarn-test`)
 * @example
 * ```ts
 * let s3: TestS3Server
 * beforeAll(async () => { s3 = await startS3Server() })
 * afterAll(async () => { await s3.close() })
 *
 * it('writes to S3', async () => {
 *   const store = S3ObjectStore.create({
 *     bucket: s3.bucket, prefix: 'my-test', endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials,
 *   })
 *   await store.put('a.txt', new Uint8Array([1]))
 *   await store.close()
 * })
 * ```
 */
export async function startS3Server(options: { bucket?: string } = {}): Promise<TestS3Server> {
  const bucket = options.bucket ?? 'tarn-test'
  const directory = await mkdtemp(join(tmpdir(), 'tarn-s3rver-'))
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD_SCRIPT], {
    env: {
      ...process.env,
      TARN_S3RVER_MODULE: createRequire(import.meta.url).resolve('s3rver'),
      TARN_S3RVER_DIRECTORY: directory,
      TARN_S3RVER_BUCKET: bucket,
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  let port: number
  try {
    port = await readPort(child)
  } catch (e) {
    child.kill('SIGKILL')
    await exited
    await rm(directory, { recursive: true, force: true })
    throw e
  }
  // Never keep the test process alive for the server's sake.
  child.unref()
  let closed = false
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    region: 'us-east-1',
    async close() {
      if (closed) return
      closed = true
      child.stdin?.end()
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(killer)
      await rm(directory, { recursive: true, force: true })
    },
  }
}
