import { PythonProcess } from './python-function.js'

/*
 * Python processes started ahead of need, one spare per environment interpreter. A spare has started Python and
 * imported pyarrow and tarn's runner (most of a Python node's fixed cost) and waits for one task on standard input;
 * it runs it and exits. A process is handed out once and never reused, so every model still runs in a process of
 * its own (its own module state, memory limit, timeout and output). Spares do not keep the parent alive, and a
 * spare whose parent goes away exits (its standard input closes).
 */

/**
 * Spare Python runner processes, keyed by interpreter path (one environment each).
 */
export class PythonPool {
  private readonly spares = new Map<string, PythonProcess>()

  /** Starts a spare runner for this interpreter unless one is already waiting. */
  prestart(python: string): void {
    const spare = this.spares.get(python)
    if (spare?.waiting()) return
    const proc = PythonProcess.start(python)
    proc.hold(false)
    this.spares.set(python, proc)
  }

  /** The process id of the spare waiting for this interpreter, or `null`. */
  waitingPid(python: string): number | null {
    const spare = this.spares.get(python)
    return spare?.waiting() ? (spare.child.pid ?? null) : null
  }

  /** A runner process for one task: the waiting spare when there is one, else a freshly started one. */
  take(python: string): PythonProcess {
    const spare = this.spares.get(python)
    this.spares.delete(python)
    const proc = spare?.waiting() ? spare : PythonProcess.start(python)
    proc.hold(true)
    return proc
  }

  /** Stops every waiting spare. */
  close(): void {
    for (const p of this.spares.values()) if (p.waiting()) p.cancel()
    this.spares.clear()
  }
}

/**
 * The process-wide pool Python nodes share.
 */
export const pythonPool = new PythonPool()
