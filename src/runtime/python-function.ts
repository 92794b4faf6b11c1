import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { TarnError } from '../util/errors.js'
import type { FunctionLogLine } from './function-worker.js'
import { ProcessWatch } from './process-watch.js'
import { repoPaths } from './repo-paths.js'
import { memoryText } from './resources.js'

/**
 * One Python model or expectation to run, as tarn's Python runner (`python -m tarn.runner`) reads it: the file and
 * function, the exchanged input files (Parquet) by argument, the parameters and where the result goes.
 */
export interface PythonTask {
  readonly kind: 'model' | 'expectation'
  readonly name: string
  /** Absolute path of the model's file. */
  readonly file: string
  /** The file as the project names it (relative, `/` separators), for messages and log prefixes. */
  readonly projectFile: string
  readonly function: string
  readonly inputs: Readonly<Record<string, string>>
  readonly params: Readonly<Record<string, unknown>>
  /** Argument name → parameter name, for arguments declared with `tarn.Param`. */
  readonly paramArgs: Readonly<Record<string, string>>
  readonly contextArg: string | null
  /** A `.parquet` file for models, a `.json` result document for expectations. */
  readonly output: string
  readonly jobId: string
}

/**
 * How to run a Python task: the environment's interpreter, the scratch directory, limits and the log sink.
 */
export interface PythonRunOptions {
  readonly task: PythonTask
  readonly python: string
  readonly scratch: string
  readonly memoryMb: number
  readonly timeoutMs: number
  /** Line of the function's declaration, named when the failure has no frame of its own (timeout, memory). */
  readonly line: number
  readonly onLog: (line: FunctionLogLine) => void
  /** A process started ahead with {@link PythonProcess.start} (its imports done while the inputs were written). */
  readonly process?: PythonProcess
  /** Aborting it stops the function's process (a scheduler's preemption): it fails as `preempted`. */
  readonly signal?: AbortSignal
}

/**
 * A Python process of tarn's runner, started before its task is known: it imports pyarrow and tarn's package while
 * the caller prepares the inputs, then reads the task's path from standard input. Output lines are kept until a
 * sink is attached; the exit is watched from the start.
 */
export class PythonProcess {
  readonly child: ChildProcessWithoutNullStreams
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: string }>
  #sink: ((stream: 'stdout' | 'stderr', text: string) => void) | null = null
  readonly #pending: ['stdout' | 'stderr', string][] = []

  private constructor(python: string) {
    this.child = spawn(python, ['-m', 'tarn.runner', '-'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PYTHONPATH: pythonPackagePath(),
        PYTHONUNBUFFERED: '1',
        PYTHONDONTWRITEBYTECODE: '1',
      },
    })
    this.exited = new Promise((res) => {
      this.child.on('error', (e) => res({ code: null, signal: null, spawnError: e.message }))
      this.child.on('exit', (code, signal) => res({ code, signal }))
    })
    this.child.stdin.on('error', () => undefined)
    for (const stream of ['stdout', 'stderr'] as const) {
      let buf = ''
      const s = stream === 'stdout' ? this.child.stdout : this.child.stderr
      s.setEncoding('utf8')
      s.on('data', (chunk: string) => {
        buf += chunk
        const lines = buf.split('\n')
        buf = lines.pop() ?? ''
        for (const text of lines) this.#emit(stream, text)
      })
      s.on('end', () => {
        if (buf) this.#emit(stream, buf)
      })
    }
  }

  /** Starts tarn's Python runner with `python` (an environment's interpreter), waiting for its task. */
  static start(python: string): PythonProcess {
    return new PythonProcess(python)
  }

  /** Sends the output lines (those kept so far, then each as it comes) to `sink`. */
  forward(sink: (stream: 'stdout' | 'stderr', text: string) => void): void {
    this.#sink = sink
    for (const [stream, text] of this.#pending.splice(0)) sink(stream, text)
  }

  /** Gives the process its task file. */
  send(taskFile: string): void {
    this.child.stdin.end(`${taskFile}\n`)
  }

  /** Whether the process is still running and has not been given a task. */
  waiting(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && !this.child.stdin.writableEnded
  }

  /** Whether the process (and its pipes) keep the parent's event loop alive: not while it is a spare. */
  hold(on: boolean): void {
    const handles = [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as unknown as {
      ref?: () => void
      unref?: () => void
    }[]
    for (const h of handles) {
      if (on) h.ref?.()
      else h.unref?.()
    }
  }

  /** Stops a process whose task will not come (e.g. its inputs failed). */
  cancel(): void {
    this.child.stdin.end()
    this.child.kill('SIGKILL')
  }

  #emit(stream: 'stdout' | 'stderr', text: string): void {
    if (this.#sink) this.#sink(stream, text)
    else this.#pending.push([stream, text])
  }
}

/**
 * What an expectation reported: passed or not, how many rows failed and a sample of them.
 */
export interface PythonExpectationResult {
  readonly passed: boolean
  readonly failedRows: number | null
  readonly sample: readonly Record<string, unknown>[]
  readonly message: string
}

interface RunnerError {
  readonly type: string
  readonly message: string
  readonly file: string
  readonly line: number | null
}

const EXIT_OUT_OF_MEMORY = 3

function failure(task: PythonTask, reason: string, line: number | null): TarnError {
  const where = line === null ? task.projectFile : `${task.projectFile}:${line}`
  return new TarnError('RUN_FAILED', `${task.kind} ${task.name} failed at ${where}: ${reason}`, {
    node: task.name,
    model: task.name,
    file: task.projectFile,
    line,
    reason,
  })
}

/**
 * Runs one Python model or expectation in a process of its own, in its environment: tarn's Python package on the
 * path, an address-space limit (`RLIMIT_AS`) plus a resident-size watchdog, a time limit, stdout and stderr
 * forwarded line by line to `onLog`. A raise, an out-of-memory, a timeout or a crash fails with `RUN_FAILED` naming
 * the function's file and the user's line. Returns the expectation's result (models: `null`; their table is in
 * `task.output`).
 */
export async function runPythonFunction(options: PythonRunOptions): Promise<PythonExpectationResult | null> {
  const { task } = options
  const taskFile = join(options.scratch, `${task.name}.py-task.json`)
  const errorFile = join(options.scratch, `${task.name}.py-error.json`)
  const memoryBytes = options.memoryMb * 2 ** 20
  await writeFile(
    taskFile,
    JSON.stringify({
      file: task.file,
      function: task.function,
      kind: task.kind,
      inputs: task.inputs,
      params: task.params,
      param_args: task.paramArgs,
      context_arg: task.contextArg,
      output: task.output,
      error_file: errorFile,
      job_id: task.jobId,
      // the address space of a Python process with pyarrow loaded is far above what it touches: limit it loosely
      // and let the resident-size watchdog hold the declared limit
      memory_bytes: memoryBytes * 4 + 2 ** 30,
      // and the runner checks the peak resident size the watchdog's samples may have missed
      resident_limit_bytes: memoryBytes,
    }),
  )
  const proc = options.process ?? PythonProcess.start(options.python)
  const child = proc.child
  proc.forward((stream, text) =>
    options.onLog({ node: task.name, stream, text, file: task.projectFile, line: null }),
  )
  proc.send(taskFile)
  const watch = new ProcessWatch(child, {
    timeoutMs: options.timeoutMs,
    rssLimitBytes: memoryBytes,
    pollMs: 50,
    signal: options.signal,
  })
  const exit = await proc.exited
  const verdict = watch.stop()
  if (exit.spawnError !== undefined) {
    throw new TarnError('PYTHON_UNAVAILABLE', `cannot start ${options.python}: ${exit.spawnError}`, {
      python: options.python,
      model: task.name,
    })
  }
  if (verdict === 'preempted') throw failure(task, 'preempted (stopped by the scheduler)', options.line)
  if (verdict === 'timed-out')
    throw failure(task, `timed out after ${options.timeoutMs} ms (killed)`, options.line)
  if (verdict === 'over-memory' || exit.code === EXIT_OUT_OF_MEMORY) {
    throw failure(task, `out of memory (limit ${memoryText(options.memoryMb)})`, options.line)
  }
  if (exit.code !== 0) {
    const err = await readRunnerError(errorFile)
    if (err !== null) throw failure(task, `${err.type}: ${err.message}`, err.line ?? options.line)
    const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`
    throw failure(task, `the Python process crashed (${how})`, options.line)
  }
  if (task.kind === 'model') return null
  const doc = JSON.parse(await readFile(task.output, 'utf8')) as {
    passed: boolean
    failed_rows: number | null
    sample: Record<string, unknown>[]
    message: string
  }
  return { passed: doc.passed, failedRows: doc.failed_rows, sample: doc.sample, message: doc.message }
}

/**
 * Where tarn's Python package lives (`python/src` of the installed tarn), put on `PYTHONPATH` of every model
 * process, so that environments need only `pyarrow` and the model's own pins.
 */
export function pythonPackagePath(): string {
  return join(repoPaths().root, 'python', 'src')
}

async function readRunnerError(file: string): Promise<RunnerError | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as RunnerError
  } catch {
    return null
  }
}
