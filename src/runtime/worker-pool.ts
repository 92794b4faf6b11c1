import { type ChildProcess, fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { Socket } from 'node:net'
import { TarnError } from '../util/errors.js'
import { repoPaths } from './repo-paths.js'

/*
 * Function workers started ahead of need. A worker process boots Node and loads Arrow and the SDK before it knows
 * its task, which is most of its start-up time; a spare process that has done so waits for one task on its IPC
 * channel, runs it and exits. A process is handed out once and never reused, so every model execution still gets
 * its own process (its own module state, heap limit, timeout and log capture). Spares do not keep the parent alive,
 * and a spare whose parent goes away exits (its IPC channel closes).
 */

function setRef(child: ChildProcess, on: boolean): void {
  const handles = [child, child.channel, child.stdout, child.stderr] as (
    | { ref?: () => void; unref?: () => void }
    | null
    | undefined
  )[]
  for (const h of handles) {
    if (on) h?.ref?.()
    else h?.unref?.()
  }
}

function startWorker(memoryMb: number): ChildProcess {
  const worker = repoPaths().worker
  if (!existsSync(worker))
    throw new TarnError(
      'INTERNAL',
      `the function worker ${worker} is missing: build tarn first (npm run build)`,
      { worker },
    )
  const child = fork(worker, [], {
    // no --enable-source-maps: the worker turns source maps on for the project's modules only
    execArgv: [`--max-old-space-size=${memoryMb}`],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json',
  })
  // A spare's output is read once it is taken; until then, the pipes only buffer.
  ;(child.stdout as Socket | null)?.pause()
  ;(child.stderr as Socket | null)?.pause()
  child.on('error', () => undefined)
  return child
}

function usable(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null && child.connected
}

/**
 * Spare function worker processes, keyed by heap limit (a Node heap limit is fixed when the process starts).
 */
export class WorkerPool {
  private readonly spares = new Map<number, ChildProcess[]>()

  /** Starts a spare worker for this heap limit unless one is already waiting. */
  prestart(memoryMb: number): void {
    const list = (this.spares.get(memoryMb) ?? []).filter(usable)
    if (list.length === 0) {
      const child = startWorker(memoryMb)
      setRef(child, false)
      list.push(child)
    }
    this.spares.set(memoryMb, list)
  }

  /**
   * Starts a spare worker for this heap limit once the current turn of the event loop is over (see {@link prestart}).
   * Starting a process blocks the parent for as long as the kernel takes to fork it, tens of milliseconds for a run's
   * process that holds DuckDB's memory: a step that is finishing hands its result on first, and the fork overlaps
   * the work DuckDB's threads go on with. A pending start does not keep the process alive.
   */
  prestartSoon(memoryMb: number): void {
    setTimeout(() => this.prestart(memoryMb), 0).unref()
  }

  /**
   * A worker process for one task: a waiting spare when there is one, else a freshly started one. The caller sends
   * it one task (and may {@link prestart} the next spare once the task is done, so it does not compete for CPU).
   */
  take(memoryMb: number): ChildProcess {
    const list = (this.spares.get(memoryMb) ?? []).filter(usable)
    const spare = list.shift()
    this.spares.set(memoryMb, list)
    const child = spare ?? startWorker(memoryMb)
    setRef(child, true)
    return child
  }

  /** Stops every waiting spare. */
  close(): void {
    for (const list of this.spares.values()) for (const c of list) if (usable(c)) c.kill('SIGKILL')
    this.spares.clear()
  }
}

/**
 * The process-wide pool the pipeline runner and {@link runFunction} share.
 */
export const workerPool = new WorkerPool()
