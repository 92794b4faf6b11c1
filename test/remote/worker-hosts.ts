import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from '../helpers/build.js'

/** A `tarn worker` child process of the real CLI. */
export interface WorkerProcess {
  readonly child: ChildProcess
  readonly pid: number
  /** Everything it wrote to stderr so far. */
  stderr(): string
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>
}

/**
 * Starts `tarn worker` (from dist/) with `env` (catalog, warehouse, S3 endpoint, its own TARN_HOME) and `args`.
 * `prefix` runs it inside another command (e.g. `ip netns exec NS`).
 */
export function startWorker(
  env: Record<string, string>,
  args: readonly string[],
  prefix: readonly string[] = [],
): WorkerProcess {
  const command = [...prefix, process.execPath, join(ROOT, 'bin', 'tarn.js'), 'worker', ...args]
  const child = spawn(command[0] as string, command.slice(1), {
    env: { ...process.env, TARN_USER: 'tester', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString()
  })
  child.stdout?.resume()
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  )
  return { child, pid: child.pid as number, stderr: () => err, exited }
}

/** Runs the real CLI (from dist/) to its end. */
export function tarnCli(
  env: Record<string, string>,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'tarn.js'), ...args], {
      env: { ...process.env, TARN_USER: 'tester', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}
