import { readFileSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { format } from 'node:util'
import { type Table, tableFromIPC, tableToIPC } from 'apache-arrow'
import { parquetWritable, writeParquetFile } from './arrow-to-parquet.js'
import { repoPaths } from './repo-paths.js'
import { tableFromRows } from './rows-to-table.js'
import { userFrame } from './user-frame.js'
import { END_OF_OUTPUT, type WorkerMessage, type WorkerTask } from './worker-protocol.js'

/*
 * The entry of a function worker process (forked with an IPC channel, `node dist/runtime/worker-main.js` waiting for
 * one `{ type: 'task' }` message, or `node dist/runtime/worker-main.js <task.json>`): loads Arrow and the SDK before
 * its task arrives (so a process started ahead of need has done most of its start-up), then imports the transpiled project module, reads the inputs from Arrow IPC files, calls the model or
 * expectation, and writes a model's result as a Parquet file when its columns are flat (else as Arrow IPC). Console output is forwarded to the parent tagged
 * with the project file and line that wrote it.
 */

function send(m: WorkerMessage): Promise<void> {
  return new Promise((res) => {
    if (!process.send) return res()
    process.send(m, undefined, undefined, () => res())
  })
}

/**
 * Sends the last message once the function's output is all written: console lines (IPC messages, in order before
 * it) and raw writes to stdout and stderr, which end with {@link END_OF_OUTPUT}. Writes to a pipe are queued, not
 * synchronous: waiting for the mark to be flushed means every byte before it reached the parent, which an exit
 * right after the message would otherwise cut off.
 */
async function finish(pending: readonly Promise<void>[], m: WorkerMessage): Promise<void> {
  await Promise.all(pending)
  const mark = process.send ? END_OF_OUTPUT : ''
  const flushed = (s: NodeJS.WriteStream): Promise<void> =>
    new Promise((res) => {
      s.write(mark, () => res())
    })
  await Promise.all([flushed(process.stdout), flushed(process.stderr)])
  await send(m)
}

function isTable(v: unknown): v is Table {
  return (
    typeof v === 'object' &&
    v !== null &&
    'schema' in v &&
    'batches' in v &&
    'numRows' in v &&
    typeof (v as { getChild?: unknown }).getChild === 'function'
  )
}

function toTable(result: unknown, name: string): Table {
  if (isTable(result)) return result
  if (Array.isArray(result)) {
    if (result.length === 0)
      throw new Error(`model ${name} returned an empty array: return an Arrow table to give columns`)
    return tableFromRows(result as Record<string, unknown>[])
  }
  throw new Error(
    `model ${name} must return an Arrow table or an array of plain objects, got ${typeof result}`,
  )
}

// Listening now (before any await) keeps a task sent early queued for us; a parent that goes away ends a spare. A
// task sent with `inputsLater` comes before its input files are written: the module is imported meanwhile, and the
// inputs are read once the parent says `{ type: 'inputs' }`.
let inputsWritten: () => void = () => undefined
const inputsArrive = new Promise<void>((res) => {
  inputsWritten = res
})
const taskArrives = new Promise<WorkerTask>((res) => {
  const file = process.argv[2]
  if (file) {
    inputsWritten()
    return res(JSON.parse(readFileSync(file, 'utf8')) as WorkerTask)
  }
  process.on('message', (m: { type?: string; task?: WorkerTask; inputsLater?: boolean }) => {
    if (m.type === 'task' && m.task) {
      if (m.inputsLater !== true) inputsWritten()
      res(m.task)
    } else if (m.type === 'inputs') inputsWritten()
  })
  process.on('disconnect', () => process.exit(0))
})

async function main(): Promise<void> {
  // The SDK is what every project module imports first: load it while waiting.
  await import(pathToFileURL(repoPaths().sdk).href).catch(() => undefined)
  const task = await taskArrives
  const pending: Promise<void>[] = []
  const logger =
    (stream: 'stdout' | 'stderr' | 'log') =>
    (...args: unknown[]): void => {
      const frame = userFrame(new Error().stack, task.projectDir)
      pending.push(
        send({
          type: 'log',
          stream,
          text: format(...args),
          file: frame?.file ?? task.file,
          line: frame?.line ?? null,
        }),
      )
    }
  console.log = logger('stdout')
  console.info = logger('stdout')
  console.debug = logger('stdout')
  console.warn = logger('stderr')
  console.error = logger('stderr')
  try {
    // Source maps from here on: the project's modules map their stack frames to its files and lines, while Arrow and
    // the SDK, loaded before, were not made to parse theirs (a good part of a worker's start-up CPU).
    process.setSourceMapsEnabled(true)
    const mod = (await import(task.module)) as Record<string, unknown>
    const desc = mod[task.exportName] as { kind?: string; fn?: unknown } | undefined
    if (!desc || typeof desc.fn !== 'function')
      throw new Error(`${task.file} has no export ${task.exportName} built with model() or expectation()`)
    await inputsArrive
    const inputs: Record<string, Table> = {}
    for (const [alias, path] of Object.entries(task.inputs)) inputs[alias] = tableFromIPC(readFileSync(path))
    const ctx = { params: task.params, log: logger('log') }
    const fn = desc.fn as (i: Record<string, Table>, c: typeof ctx) => unknown
    const result = await fn(inputs, ctx)
    if (task.kind === 'expectation') {
      if (typeof result === 'boolean' || (Array.isArray(result) && result.length === 0)) {
        await finish(pending, { type: 'done', rows: 0, passed: result === true || Array.isArray(result) })
        return
      }
      // Failing rows (an Arrow table or plain objects): none passes; the parent reports their count and a sample.
      if (!isTable(result) && !Array.isArray(result))
        throw new Error(
          `expectation ${task.name} must return true, false or its failing rows (an Arrow table or plain objects), got ${typeof result}`,
        )
      const failing = isTable(result) ? result : tableFromRows(result as Record<string, unknown>[])
      if (task.output && failing.numRows > 0) writeFileSync(task.output, tableToIPC(failing, 'file'))
      await finish(pending, { type: 'done', rows: failing.numRows, passed: failing.numRows === 0 })
      return
    }
    const table = toTable(result, task.name)
    if (table.schema.fields.length === 0)
      throw new Error(`model ${task.name} returned a table without columns`)
    // Flat columns go straight to Parquet, which DuckDB reads as is; other tables travel as Arrow IPC.
    const output = `${task.output as string}.${parquetWritable(table.schema) ? 'parquet' : 'arrow'}`
    if (output.endsWith('.parquet')) writeParquetFile(table, output)
    else writeFileSync(output, tableToIPC(table, 'file'))
    await finish(pending, { type: 'done', rows: table.numRows, passed: null, output })
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e))
    const frame = userFrame(err.stack, task.projectDir)
    await finish(pending, {
      type: 'error',
      message: err.message,
      file: frame?.file ?? null,
      line: frame?.line ?? null,
    })
  }
}

main().then(
  () => process.exit(0),
  () => process.exit(1),
)
