import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { ROOT } from '../helpers/build.js'

/** A `tarn serve` child process: its URL, its stderr so far, and how it ended. */
export interface ServedProcess {
  readonly url: string
  readonly child: ChildProcess
  readonly pid: number
  /** Everything the server wrote to stderr so far. */
  stderr(): string
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>
  /** SIGTERM if still running, then waits for the exit. */
  stop(): Promise<number | string>
}

/**
 * Starts the real `tarn serve --port 0 --json` (from dist/) on the lake that `env` names and resolves once it printed
 * its URL.
 *
 * @example
 * ```ts
 * const server = await startServe({ TARN_HOME: home })
 * await fetch(`${server.url}/api/v1/info`)
 * ```
 */
export async function startServe(
  env: Record<string, string>,
  args: readonly string[] = [],
): Promise<ServedProcess> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'tarn.js'), 'serve', '--port', '0', '--json', ...args],
    {
      env: { ...process.env, TARN_USER: 'tester', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let err = ''
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString()
  })
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  )
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  let out = ''
  let url: string | undefined
  for await (const line of lines) {
    out += line
    try {
      url = (JSON.parse(out) as { url: string }).url
      break
    } catch {}
  }
  if (url === undefined) {
    throw new Error(`tarn serve exited (${await exited}) before printing its URL:\n${err}`)
  }
  const pid = child.pid as number
  return {
    url,
    child,
    pid,
    stderr: () => err,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return exited
    },
  }
}

/**
 * The resident set size of a process in bytes (Linux `/proc/<pid>/status`), or undefined once it is gone.
 *
 * @example
 * ```ts
 * const rss = residentBytesOf(server.pid)
 * ```
 */
export function residentBytesOf(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

/**
 * CPU time (user + system, in clock ticks of 10 ms) a process has used so far, from `/proc/<pid>/stat`.
 *
 * @example
 * ```ts
 * const before = cpuTicksOf(server.pid)
 * ```
 */
export function cpuTicksOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}
