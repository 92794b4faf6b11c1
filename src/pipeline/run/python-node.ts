import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { DuckDBInstance } from '@duckdb/node-api'
import { queryToParquet } from '../../duckdb/arrow-exchange.js'
import { quoteIdent } from '../../duckdb/sql-quote.js'
import { type NamedRelation, withSession } from '../../runtime/duckdb-session.js'
import type { FunctionLogLine } from '../../runtime/function-worker.js'
import { ensurePythonEnv } from '../../runtime/python-env.js'
import { type PythonExpectationResult, runPythonFunction } from '../../runtime/python-function.js'
import { pythonPool } from '../../runtime/python-pool.js'
import { memoryMb, timeoutMs } from '../../runtime/resources.js'
import { TarnError } from '../../util/errors.js'
import type { PythonCall } from '../py-model.js'
import { scratchName } from './scratch-name.js'

/**
 * One Python node of a run: the function, its call, its inputs as DuckDB relations (scans with columns and filter
 * applied, or upstream models' outputs) and where its files go.
 */
export interface PythonNodeJob {
  readonly kind: 'model' | 'expectation'
  readonly name: string
  readonly file: string
  readonly line: number
  readonly projectDir: string
  readonly call: PythonCall
  readonly memory: string | null
  readonly timeout: string | null
  readonly relations: readonly NamedRelation[]
  readonly scratch: string
  readonly cacheRoot: string
  readonly params: Readonly<Record<string, unknown>>
  readonly jobId: string
  /** The run's DuckDB, which writes the inputs (a fresh in-memory one when absent). */
  readonly instance?: DuckDBInstance
  readonly onLog: (line: FunctionLogLine) => void
  readonly onProgress: (line: string) => void
  /** A memory limit in MB instead of the declared one (a remote node's out-of-memory retry). */
  readonly memoryMb?: number
  /** Aborting it stops the function's process (a remote node preempted by the scheduler). */
  readonly signal?: AbortSignal
}

/**
 * What a Python node produced: a model's Parquet output and row count, or an expectation's result.
 */
export interface PythonNodeResult {
  readonly output: string | null
  readonly rows: number | null
  readonly expectation: PythonExpectationResult | null
}

/**
 * Runs a Python model or expectation of a run: DuckDB writes each input as plain Parquet (columns and filter
 * already applied; uncompressed, no dictionaries), the node's environment is built or found (progress on the first build), the function runs in its own
 * process, and a model's Parquet output is counted by DuckDB for the next steps.
 */
export async function runPythonNode(job: PythonNodeJob): Promise<PythonNodeResult> {
  const base = join(job.scratch, `${scratchName(job.name)}.py`)
  const env = await ensurePythonEnv({ python: job.call.version, pip: job.call.pip }, job.cacheRoot, (line) =>
    job.onProgress(`[${job.name}] ${line}`),
  )
  // a spare that has imported pyarrow already, or a process that does so while DuckDB writes the inputs
  const proc = pythonPool.take(env.python)
  const inputs: Record<string, string> = {}
  try {
    await withSession(
      job.relations,
      async (c) => {
        for (const r of job.relations) {
          const path = `${base}.in.${scratchName(r.name)}.parquet`
          await queryToParquet(c, `SELECT * FROM ${quoteIdent(r.name)}`, path, { plain: true })
          inputs[r.name] = path
        }
      },
      job.instance,
    )
  } catch (e) {
    proc.cancel()
    throw e
  }
  const output = job.kind === 'model' ? `${base}.out.parquet` : `${base}.result.json`
  const params: Record<string, unknown> = { ...job.call.paramDefaults, ...job.params }
  const expectation = await runPythonFunction({
    task: {
      kind: job.kind,
      name: job.name,
      file: join(job.projectDir, job.file),
      projectFile: job.file,
      function: job.name,
      inputs,
      params,
      paramArgs: job.call.paramArgs,
      contextArg: job.call.contextArg,
      output,
      jobId: job.jobId,
    },
    python: env.python,
    scratch: job.scratch,
    memoryMb: job.memoryMb ?? memoryMb(job.memory),
    ...(job.signal ? { signal: job.signal } : {}),
    timeoutMs: timeoutMs(job.timeout),
    line: job.line,
    onLog: job.onLog,
    process: proc,
  }).finally(() => {
    // the next Python node of this environment (in this run or the next) finds a started process
    pythonPool.prestart(env.python)
  })
  if (job.kind === 'expectation') return { output: null, rows: null, expectation }
  const rows = await readFile(`${output}.rows`, 'utf8').then(Number, () => Number.NaN)
  if (!Number.isInteger(rows)) {
    throw new TarnError(
      'RUN_FAILED',
      `model ${job.name} at ${job.file}:${job.line} returned no readable table`,
      {
        model: job.name,
        file: job.file,
        line: job.line,
      },
    )
  }
  return { output, rows, expectation: null }
}
