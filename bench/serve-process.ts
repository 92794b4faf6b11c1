import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

/** A `tarn serve` process a benchmark started. */
export interface ServeProcess {
  readonly url: string
  readonly pid: number
  /** SIGTERM, and resolves once the process has exited. */
  stop(): Promise<void>
}

/** The `tarn.js` of this checkout's build (dist/ must be built). */
export const TARN_BIN = join(import.meta.dirname, '..', '..', 'bin', 'tarn.js')

/**
 * Starts `tarn serve --port 0 --json` (plus `args`) from `bin` as its own process with `env` over the benchmark's
 * environment; resolves with its URL once it has printed it.
 */
export async function startServe(
  env: Record<string, string>,
  args: readonly string[] = [],
  bin: string = TARN_BIN,
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--json', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  let out = ''
  for await (const line of createInterface({ input: child.stdout })) {
    out += line
    try {
      const url = (JSON.parse(out) as { url: string }).url
      return {
        url,
        pid: child.pid as number,
        stop: async () => {
          child.kill('SIGTERM')
          await exited
        },
      }
    } catch {}
  }
  throw new Error('tarn serve exited before printing its URL (run `npm run build` first)')
}
