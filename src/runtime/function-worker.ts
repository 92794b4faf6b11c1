import { writeFile } from 'node:fs/promises'
import { TarnError } from '../util/errors.js'
import { ProcessWatch } from './process-watch.js'
import { memoryText } from './resources.js'
import { workerPool } from './worker-pool.js'
import { END_OF_OUTPUT, type WorkerMessage, type WorkerTask } from './worker-protocol.js'

/**
 * A line a function wrote (console, `ctx.log`, or raw stdout/stderr), tagged with where it came from.
 */
export interface FunctionLogLine {
  readonly node: string
  readonly stream: 'stdout' | 'stderr' | 'log'
  readonly text: string
  readonly file: string | null
  readonly line: number | null
}

/**
 * How to run one function in a worker process.
 */
export interface FunctionRunOptions {
  readonly task: WorkerTask
  /** Where to write the task document. */
  readonly taskFile: string
  readonly memoryMb: number
  readonly timeoutMs: number
  /** Line of the function's declaration, named when the failure has no frame of its own (timeout, memory). */
  readonly line: number
  readonly onLog: (line: FunctionLogLine) => void
  /** Start a spare worker with the same heap limit once this one has finished (default true). */
  readonly keepSpare?: boolean
  /**
   * Settles once the task's input files are written, when they are written while the function starts: the worker
   * gets its task at once and imports the function's module meanwhile, reading its inputs only after this resolves;
   * a rejection ends the worker and is the function's failure. The time limit counts from then.
   */
  readonly inputs?: Promise<void>
  /** Aborting it stops the function's process (a scheduler's preemption): it fails as `preempted`. */
  readonly signal?: AbortSignal
}

/**
 * What a finished function returned: the rows written (models) or whether it passed (expectations).
 */
export interface FunctionOutcome {
  readonly rows: number
  readonly passed: boolean | null
  /** Models: the file the worker wrote the result to (`.parquet` or `.arrow`). */
  readonly output: string | null
}

function failure(task: WorkerTask, reason: string, file: string, line: number | null): TarnError {
  const where = line === null ? file : `${file}:${line}`
  return new TarnError('RUN_FAILED', `${task.kind} ${task.name} failed at ${where}: ${reason}`, {
    node: task.name,
    model: task.name,
    file,
    line,
    reason,
  })
}

/**
 * Runs a model or expectation in its own `node` process (a spare started ahead of need when the pool has one, see
 * {@link WorkerPool}; never one that ran another function) with a heap limit (`--max-old-space-size`, and a
 * resident-size watchdog for off-heap buffers, where `/proc` exists) and a time limit, forwarding its output to `onLog`. A throw, an out-of-memory crash, a timeout or any other exit fails with
 * `RUN_FAILED` naming the function, its file and line.
 */
export async function runFunction(options: FunctionRunOptions): Promise<FunctionOutcome> {
  const { task } = options
  await writeFile(options.taskFile, JSON.stringify(task))
  const child = workerPool.take(options.memoryMb)
  child.send({ type: 'task', task, inputsLater: options.inputs !== undefined })
  let stderrTail = ''
  // The function is over when its last message has come and both pipes have given their end mark (see
  // END_OF_OUTPUT): the process still has to exit, which takes a while with a big heap, but nothing it does then
  // matters. A process that dies without them is over when it exits.
  let outcome: FunctionOutcome | null = null
  let error: TarnError | null = null
  let marks = 0
  let over: () => void = () => undefined
  const ended = new Promise<void>((res) => {
    over = res
  })
  const check = (): void => {
    if ((outcome !== null || error !== null) && marks === 2) over()
  }
  const pipe = (stream: 'stdout' | 'stderr') => {
    let buf = ''
    let marked = false
    const s = stream === 'stdout' ? child.stdout : child.stderr
    const emit = (text: string): void =>
      options.onLog({ node: task.name, stream, text, file: task.file, line: null })
    s?.setEncoding('utf8')
    s?.resume()
    s?.on('data', (chunk: string) => {
      if (marked) return
      if (stream === 'stderr') stderrTail = (stderrTail + chunk).slice(-8000)
      buf += chunk
      const end = buf.indexOf(END_OF_OUTPUT)
      if (end >= 0) buf = buf.slice(0, end)
      const lines = buf.split('\n')
      buf = lines.pop() ?? ''
      for (const text of lines) emit(text)
      if (end >= 0) {
        if (buf) emit(buf)
        buf = ''
        marked = true
        marks += 1
        check()
      }
    })
    s?.on('end', () => {
      if (buf) emit(buf)
    })
  }
  pipe('stdout')
  pipe('stderr')
  child.on('message', (raw) => {
    const m = raw as WorkerMessage
    if (m.type === 'log')
      options.onLog({ node: task.name, stream: m.stream, text: m.text, file: m.file, line: m.line })
    else if (m.type === 'done') outcome = { rows: m.rows, passed: m.passed, output: m.output ?? null }
    else if (m.type === 'error')
      error = failure(task, m.message, m.file ?? task.file, m.file ? m.line : options.line)
    check()
  })
  if (options.inputs) {
    try {
      await options.inputs
    } catch (e) {
      child.kill('SIGKILL')
      if (options.keepSpare !== false) workerPool.prestartSoon(options.memoryMb)
      throw e
    }
    child.send({ type: 'inputs' })
  }
  if (options.keepSpare !== false) workerPool.prestartSoon(options.memoryMb)
  // The heap limit does not cover Arrow buffers and other off-heap memory: watch the resident size too.
  const watch = new ProcessWatch(child, {
    timeoutMs: options.timeoutMs,
    rssLimitBytes: (options.memoryMb * 1.25 + 256) * 2 ** 20,
    pollMs: 100,
    signal: options.signal,
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.on('exit', (code, signal) => res({ code, signal }))
  })
  const exit = await Promise.race([exited, ended.then(() => null)])
  const verdict = watch.stop()
  // The next function with this heap limit finds a booted process, started once this one is over (one booting while
  // it runs slows it down on a busy machine) and off the path of its result: starting a process blocks the parent for
  // the time of a fork, tens of milliseconds for a run that holds DuckDB's memory.
  if (exit === null) {
    // finished: its process has nothing left to say, so it need not tear down its heap
    child.kill('SIGKILL')
    if (error) throw error
    return outcome as unknown as FunctionOutcome
  }
  await new Promise((r) => setImmediate(r))
  if (error) throw error
  if (outcome && exit.code === 0) return outcome
  if (verdict === 'preempted')
    throw failure(task, 'preempted (stopped by the scheduler)', task.file, options.line)
  if (verdict === 'timed-out') {
    throw failure(task, `timed out after ${formatMs(options.timeoutMs)} (killed)`, task.file, options.line)
  }
  if (
    verdict === 'over-memory' ||
    /heap out of memory|Reached heap limit|Allocation failed/i.test(stderrTail)
  ) {
    throw failure(task, `out of memory (limit ${memoryText(options.memoryMb)})`, task.file, options.line)
  }
  const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`
  const last = stderrTail.trim().split('\n').slice(-1)[0] ?? ''
  throw failure(task, `worker crashed (${how})${last ? `: ${last}` : ''}`, task.file, options.line)
}

function formatMs(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}
