import { readdir, readFile } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import type { DuckDBConnection } from '@duckdb/node-api'
import { TarnError } from '../util/errors.js'
import { buildLogicalPlan } from './logical-plan.js'
import type { ParamEnv } from './param-env.js'
import {
  type ExpectationDef,
  type ModelDef,
  type ParameterValue,
  PROJECT_FILE,
  type Project,
} from './project.js'
import { projectDirectory } from './project-directory.js'
import { projectError } from './project-error.js'
import { parseProjectFile, resolveParams } from './project-file.js'
import { loadPyModels } from './py-model.js'
import { isSqlExpectation, loadSqlExpectation, loadSqlModel } from './sql-model.js'
import { openSqlParser } from './sql-parser.js'
import { loadTsModels } from './ts-model.js'

/**
 * Options of {@link loadProject}.
 *
 * @example
 * ```ts
 * const o: LoadProjectOptions = { params: { min_fare: '2.5' } }
 * ```
 */
export interface LoadProjectOptions {
  /** Parameter values (`--param k=v`); strings are parsed as the declared type. */
  readonly params?: Readonly<Record<string, string | ParameterValue>>
  /** A DuckDB connection whose parser reads the SQL (default: a fresh in-memory DuckDB, closed afterwards). */
  readonly duckdb?: DuckDBConnection
}

const SKIP_DIRS = new Set(['node_modules', 'target', 'dist'])
const SDK_IMPORT = /from\s*['"]tarn['"]|import\s*\(\s*['"]tarn['"]/

async function projectFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true })
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith('.')) continue
      const full = join(d, e.name)
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await walk(full)
      } else if (e.isFile() && /\.(sql|ts|mts|js|mjs|py)$/i.test(e.name) && !/\.d\.m?ts$/i.test(e.name)) {
        out.push(relative(dir, full).split(sep).join('/'))
      }
    }
  }
  await walk(dir)
  return out
}

/**
 * Loads and validates a pipeline project without running any of its code: `tarn_project.yml`, every `.sql` model
 * (parsed by DuckDB's parser) and every `.ts` file — and `.js`/`.mjs` file importing `tarn` — (read statically
 * with the TypeScript compiler API), in
 * sub-folders too. Checks parameters, duplicate names (across `.sql` and `.ts` files), config literals and cycles;
 * errors are `TarnError`s naming the file and line. The checks that need the lake are in `validatePlan`.
 *
 * @example
 * ```ts
 * const project = await loadProject('examples/taxi', { params: { min_fare: '2.5' } })
 * project.models.map((m) => m.name)
 * ```
 */
export async function loadProject(dir: string, options: LoadProjectOptions = {}): Promise<Project> {
  const root = await projectDirectory(dir)
  let text: string
  try {
    text = await readFile(join(root, PROJECT_FILE), 'utf8')
  } catch {
    throw new TarnError('PROJECT_NOT_FOUND', `no ${PROJECT_FILE} in ${root}: not a tarn project`, {
      dir: root,
      file: PROJECT_FILE,
    })
  }
  const file = parseProjectFile(text)
  const values = resolveParams(file.parameters, options.params ?? {})
  const env: ParamEnv = { parameters: file.parameters, values }
  const models: ModelDef[] = []
  const expectations: ExpectationDef[] = []
  const parser = await openSqlParser(options.duckdb)
  try {
    const files = await projectFiles(root)
    for (const f of files) {
      if (/\.py$/i.test(f)) continue
      const source = await readFile(join(root, f), 'utf8')
      if (/\.sql$/i.test(f) && isSqlExpectation(source, f))
        expectations.push(await loadSqlExpectation(parser, env, f, source, file.namespace))
      else if (/\.sql$/i.test(f)) models.push(await loadSqlModel(parser, env, f, source, file.namespace))
      else if (/\.m?js$/i.test(f) && !SDK_IMPORT.test(source)) {
        // A plain script (e.g. a data generator): only JS files that import the SDK declare models.
      } else {
        const defs = await loadTsModels(parser, env, f, source, file.namespace)
        models.push(...defs.models)
        expectations.push(...defs.expectations)
      }
    }
    // every .py file is read by one helper process (Python's ast): never imported, never run
    const py = await loadPyModels(
      parser,
      env,
      root,
      files.filter((f) => /\.py$/i.test(f)),
      file.namespace,
    )
    models.push(...py.models)
    expectations.push(...py.expectations)
  } finally {
    parser.close()
  }
  const seen = new Map<string, { file: string; line: number; kind: string }>()
  const all = [
    ...models.map((m) => ({ name: m.name, file: m.file, line: m.line, kind: 'model' })),
    ...expectations.map((e) => ({ name: e.name, file: e.file, line: e.line, kind: 'expectation' })),
  ]
  for (const d of all) {
    const prior = seen.get(d.name.toLowerCase())
    if (prior) {
      throw projectError(
        'DUPLICATE_MODEL',
        d.file,
        d.line,
        `${d.kind} ${d.name} is already defined at ${prior.file}:${prior.line}: model and expectation names are unique in a project`,
        { model: d.name, otherFile: prior.file, otherLine: prior.line },
      )
    }
    seen.set(d.name.toLowerCase(), d)
  }
  const project: Project = Object.freeze({
    dir: root,
    name: file.name,
    namespace: file.namespace,
    parameters: file.parameters,
    params: values,
    models: Object.freeze(models),
    expectations: Object.freeze(expectations),
  })
  buildLogicalPlan(project)
  return project
}
