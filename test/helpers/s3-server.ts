import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'

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
  /** The region to use with the server. */
  readonly region: string
  /** Stops the server (its objects live in memory and go with it). Safe to call twice. */
  close(): Promise<void>
}

/** The command that runs moto's S3 server: `TARN_TEST_MOTO_SERVER`, else `moto_server` on PATH. */
const COMMAND = process.env.TARN_TEST_MOTO_SERVER ?? 'moto_server'

let found: boolean | undefined

/**
 * True when moto's server (`pip install 'moto[server]'`, as `.ci/run` does) can be started. Outside CI a missing
 * server prints why the S3 tests are skipped; in CI (`CI=true`) it is an error, never a skip.
 *
 * @example
 * ```ts
 * describe.skipIf(!haveS3Server())('S3 tests', () => { ... })
 * ```
 */
export function haveS3Server(): boolean {
  if (found !== undefined) return found
  const r = spawnSync(COMMAND, ['--help'], { stdio: 'ignore' })
  found = r.status === 0
  if (!found) {
    const why = `${COMMAND} is not runnable (${r.error?.message ?? `exit ${r.status}`}); install it with: pip install 'moto[server]'`
    if (process.env.CI === 'true') throw new Error(`an S3 server is required in CI: ${why}`)
    console.warn(`[skip] S3 tests skipped: ${why}, or set TARN_TEST_MOTO_SERVER`)
  }
  return found
}

const STARTUP_TIMEOUT_MS = 30_000

/** Waits for werkzeug's `Running on http://127.0.0.1:PORT` line on the child's stderr. */
function readPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = ''
    const timer = setTimeout(
      () => fail(new Error('moto_server did not start within 30 s')),
      STARTUP_TIMEOUT_MS,
    )
    const cleanup = (): void => {
      clearTimeout(timer)
      child.stderr?.off('data', onData)
      child.stdout?.off('data', onData)
      child.off('exit', onExit)
      child.off('error', fail)
    }
    function fail(e: Error): void {
      cleanup()
      reject(e)
    }
    function onExit(code: number | null): void {
      fail(new Error(`moto_server exited during start-up with code ${code}: ${buffered.trim()}`))
    }
    function onData(chunk: Buffer): void {
      buffered += chunk.toString('utf8')
      const m = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(buffered)
      if (!m) return
      cleanup()
      resolve(Number(m[1]))
    }
    child.stderr?.on('data', onData)
    child.stdout?.on('data', onData)
    child.once('exit', onExit)
    child.once('error', fail)
  })
}

/**
 * Starts a real S3-protocol server for tests: moto's server on 127.0.0.1 on a port chosen by the OS, with one bucket
 * already created. moto enforces conditional writes (`If-None-Match: *` on an existing key is 412), lists keys in
 * S3's byte order and pages like S3. No mocks, no network beyond loopback. Call `close()` in `afterAll`; guard the
 * suite with {@link haveS3Server}.
 *
 * @param options.bucket the bucket to pre-create (default `tarn-test`)
 * @example
 * ```ts
 * let s3: TestS3Server
 * beforeAll(async () => { s3 = await startS3Server() })
 * afterAll(async () => { await s3.close() })
 * ```
 */
export async function startS3Server(options: { bucket?: string } = {}): Promise<TestS3Server> {
  const bucket = options.bucket ?? 'tarn-test'
  const child = spawn(COMMAND, ['-H', '127.0.0.1', '-p', '0'], {
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
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
    throw e
  }
  // Keep draining its request log, and never keep the test process alive for the server's sake.
  child.stdout?.resume()
  child.stderr?.resume()
  child.unref()
  const endpoint = `http://127.0.0.1:${port}`
  const created = await fetch(`${endpoint}/${bucket}`, { method: 'PUT' })
  if (!created.ok) throw new Error(`cannot create bucket ${bucket} on moto: ${created.status}`)
  let closed = false
  const key = `test${randomBytes(4).toString('hex')}`
  return {
    endpoint,
    bucket,
    credentials: { accessKeyId: key, secretAccessKey: key },
    region: 'us-east-1',
    async close() {
      if (closed) return
      closed = true
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(killer)
    },
  }
}
