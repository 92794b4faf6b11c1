import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { pythonPackagePath } from '../runtime/python-function.js'
import { TarnError } from '../util/errors.js'
import { analyzeFilter } from './filter-expr.js'
import { type Located, type RawModelOptions, resolveModelOptions } from './model-options.js'
import { applyParams, checkParamRefs, type ParamEnv } from './param-env.js'
import type { ExpectationDef, InputDef, ModelDef } from './project.js'
import { projectError } from './project-error.js'
import { findParams } from './sql-params.js'
import type { SqlParser } from './sql-parser.js'

/**
 * How a Python function is called: its environment (Python version, pip pins), which arguments take parameters
 * (`tarn.Param`) and which one takes the context.
 */
export interface PythonCall {
  readonly version: string | null
  readonly pip: Readonly<Record<string, string>>
  readonly paramArgs: Readonly<Record<string, string>>
  readonly contextArg: string | null
  /** Parameter name → default from `tarn.Param(name, default)`, used when the run does not set it. */
  readonly paramDefaults: Readonly<Record<string, unknown>>
}

/**
 * What a project's `.py` files declare, as the other loaders return it.
 */
export interface PyModuleDefs {
  readonly models: readonly ModelDef[]
  readonly expectations: readonly ExpectationDef[]
}

interface ReaderInput {
  readonly arg: string
  readonly name: string
  readonly columns: string[] | null
  readonly filter: string | null
  readonly line: number
}

interface ReaderFunction {
  readonly kind: 'model' | 'expectation'
  readonly name: string
  readonly line: number
  readonly options: Record<string, unknown>
  readonly option_lines: Record<string, number>
  readonly python: string | null
  readonly pip: Record<string, string>
  readonly inputs: ReaderInput[]
  readonly params: { arg: string; name: string; default: unknown; line: number }[]
  readonly context_arg: string | null
}

interface ReaderFile {
  readonly file: string
  readonly functions: ReaderFunction[]
  readonly errors: { line: number; message: string }[]
}

/**
 * The Python interpreter that reads `.py` project files (`TARN_PYTHON`, else `python3`). Reading needs only the
 * standard library; models run in environments of their own.
 */
export function planningPython(): string {
  return process.env.TARN_PYTHON ?? 'python3'
}

/**
 * Reads the models and expectations of a project's `.py` files without importing them: one helper process
 * (`python -m tarn.static_reader`, Python's own `ast`) reads every file, then each declaration is checked as the
 * TypeScript and SQL loaders check theirs (names, options, filters, parameters). Errors name the file and line.
 */
export async function loadPyModels(
  parser: SqlParser,
  env: ParamEnv,
  dir: string,
  files: readonly string[],
  defaultNamespace: string,
): Promise<PyModuleDefs> {
  const models: ModelDef[] = []
  const expectations: ExpectationDef[] = []
  if (files.length === 0) return { models, expectations }
  const read = await readFiles(files.map((f) => join(dir, f)))
  for (const [i, r] of read.entries()) {
    const file = files[i] as string
    const first = r.errors[0]
    if (first !== undefined) throw projectError('PROJECT_INVALID', file, first.line, first.message)
    for (const f of r.functions) {
      const def = await checkFunction(parser, env, file, f, defaultNamespace)
      if ('materialize' in def) models.push(def)
      else expectations.push(def)
    }
  }
  return Object.freeze({ models: Object.freeze(models), expectations: Object.freeze(expectations) })
}

async function checkFunction(
  parser: SqlParser,
  env: ParamEnv,
  file: string,
  f: ReaderFunction,
  defaultNamespace: string,
): Promise<ModelDef | ExpectationDef> {
  const context = f.kind === 'model' ? { model: f.name } : { expectation: f.name }
  const params: string[] = []
  const inputs: InputDef[] = []
  for (const i of f.inputs) {
    let filter: string | null = null
    let filterColumns: readonly string[] = []
    if (i.filter !== null) {
      if (typeof i.filter !== 'string')
        throw projectError(
          'PROJECT_INVALID',
          file,
          i.line,
          `${f.name}: filter of ${i.arg} must be a string`,
          context,
        )
      const refs = findParams(i.filter).map((r) => ({ name: r.name, line: i.line }))
      checkParamRefs(env, refs, file, { ...context, table: i.name })
      params.push(...refs.map((r) => r.name))
      filter = applyParams(env, i.filter)
      const a = await analyzeFilter(parser, filter)
      if (!a.ok)
        throw projectError(
          'INVALID_FILTER',
          file,
          i.line,
          `${f.name}: input ${i.name}: filter: ${a.problem}`,
          {
            ...context,
            table: i.name,
            filter: i.filter,
          },
        )
      filterColumns = a.columns
    }
    inputs.push(
      Object.freeze({
        alias: i.arg,
        table: i.name,
        columns: i.columns === null ? null : Object.freeze([...i.columns]),
        filter,
        filterColumns,
        line: i.line,
      }),
    )
  }
  const paramArgs: Record<string, string> = {}
  const paramDefaults: Record<string, unknown> = {}
  for (const p of f.params) {
    paramArgs[p.arg] = p.name
    if (p.default !== null && p.default !== undefined) paramDefaults[p.name] = p.default
    params.push(p.name)
  }
  const call: PythonCall = Object.freeze({
    version: f.python,
    pip: Object.freeze({ ...f.pip }),
    paramArgs: Object.freeze(paramArgs),
    contextArg: f.context_arg,
    paramDefaults: Object.freeze(paramDefaults),
  })
  if (f.kind === 'expectation') {
    return Object.freeze({
      name: f.name,
      file,
      line: f.line,
      inputs: Object.freeze(inputs),
      tags: Object.freeze(stringList(f.options.tags)),
      description: null,
      params: Object.freeze([...new Set(params)]),
      python: call,
    })
  }
  const o = await resolveModelOptions(parser, env, file, f.name, defaultNamespace, rawOptions(file, f))
  return Object.freeze({
    kind: 'py' as const,
    name: f.name,
    file,
    line: f.line,
    namespace: o.namespace,
    materialize: o.materialize,
    partitionedBy: o.partitionedBy,
    overwriteFilter: o.overwriteFilter,
    overwriteFilterColumns: o.overwriteFilterColumns,
    overwriteFilterLine: o.overwriteFilterLine,
    tags: o.tags,
    packages: call.pip,
    memory: o.memory,
    timeout: o.timeout,
    inputs: Object.freeze(inputs),
    sql: null,
    columnUse: null,
    params: Object.freeze([...new Set([...params, ...o.params])]),
    python: call,
  })
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

function rawOptions(file: string, f: ReaderFunction): RawModelOptions {
  const o = f.options
  const lineOf = (key: string): number => f.option_lines[key] ?? f.line
  const at = <T>(key: string, value: T): Located<T> => ({ value, line: lineOf(key) })
  const str = (key: string): string | undefined => {
    const v = o[key]
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'string')
      throw projectError('PROJECT_INVALID', file, lineOf(key), `${f.name}: ${key} must be a string`, {
        model: f.name,
      })
    return v
  }
  const list = (key: string): string[] | undefined => {
    const v = o[key]
    if (v === undefined || v === null) return undefined
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
      throw projectError(
        'PROJECT_INVALID',
        file,
        lineOf(key),
        `${f.name}: ${key} must be a list of strings`,
        {
          model: f.name,
        },
      )
    return v as string[]
  }
  const materialize = str('materialize')
  const partitionedBy = list('partitioned_by')
  const overwriteFilter = str('overwrite_filter')
  const tags = list('tags')
  const namespace = str('namespace')
  const memory = str('memory')
  const timeout = str('timeout')
  return {
    ...(materialize !== undefined ? { materialize: at('materialize', materialize) } : {}),
    ...(partitionedBy !== undefined ? { partitionedBy: at('partitioned_by', partitionedBy) } : {}),
    ...(overwriteFilter !== undefined ? { overwriteFilter: at('overwrite_filter', overwriteFilter) } : {}),
    ...(tags !== undefined ? { tags: at('tags', tags) } : {}),
    ...(namespace !== undefined ? { namespace: at('namespace', namespace) } : {}),
    ...(memory !== undefined ? { memory: at('memory', memory) } : {}),
    ...(timeout !== undefined ? { timeout: at('timeout', timeout) } : {}),
  }
}

async function readFiles(paths: readonly string[]): Promise<ReaderFile[]> {
  const python = planningPython()
  const { code, stdout, stderr, spawnError } = await new Promise<{
    code: number | null
    stdout: string
    stderr: string
    spawnError?: string
  }>((res) => {
    const child = spawn(python, ['-m', 'tarn.static_reader', ...paths], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONPATH: pythonPackagePath(), PYTHONDONTWRITEBYTECODE: '1' },
    })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c
    })
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      err = (err + c).slice(-4000)
    })
    child.on('error', (e) => res({ code: null, stdout: '', stderr: '', spawnError: e.message }))
    child.on('exit', (c) => res({ code: c, stdout: out, stderr: err }))
  })
  if (spawnError !== undefined || code !== 0) {
    const why = spawnError ?? stderr.trim().split('\n').slice(-1)[0] ?? `exit code ${code}`
    throw new TarnError(
      'PYTHON_UNAVAILABLE',
      `cannot read the project's Python files with ${python}: ${why} (set TARN_PYTHON to a Python 3.10+ interpreter)`,
      { python },
    )
  }
  return (JSON.parse(stdout) as { files: ReaderFile[] }).files
}
