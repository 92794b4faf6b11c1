import { analyzeFilter } from './filter-expr.js'
import { applyParams, checkParamRefs, type ParamEnv } from './param-env.js'
import { parsePartitionField } from './partition-fields.js'
import type { PartitionFieldDef } from './project.js'
import { projectError } from './project-error.js'
import { MATERIALIZATIONS, type Materialization } from './sdk.js'
import { findParams } from './sql-params.js'
import type { SqlParser } from './sql-parser.js'

/**
 * A value read from a model file, with the line it was written on.
 */
export interface Located<T> {
  readonly value: T
  readonly line: number
}

/**
 * Model options as written (SQL header lines or a TS config literal), before validation.
 */
export interface RawModelOptions {
  readonly materialize?: Located<string>
  readonly partitionedBy?: Located<readonly string[]>
  readonly overwriteFilter?: Located<string>
  readonly tags?: Located<readonly string[]>
  readonly namespace?: Located<string>
  readonly packages?: Located<Readonly<Record<string, string>>>
  readonly memory?: Located<string>
  readonly timeout?: Located<string>
}

/**
 * Model options after validation, parameters substituted.
 */
export interface ModelOptions {
  readonly materialize: Materialization
  readonly partitionedBy: readonly PartitionFieldDef[]
  readonly overwriteFilter: string | null
  readonly overwriteFilterColumns: readonly string[]
  readonly overwriteFilterLine: number | null
  readonly tags: readonly string[]
  readonly namespace: string
  readonly packages: Readonly<Record<string, string>>
  readonly memory: string | null
  readonly timeout: string | null
  readonly params: readonly string[]
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/
const TAG = /^[A-Za-z0-9_.-]+$/
const MEMORY = /^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i
const DURATION = /^\d+(\.\d+)?\s*(ms|s|m|h)$/

/**
 * Validates a model's options: materialisation, partition transforms, the overwrite filter (parsed with DuckDB,
 * parameters checked and substituted), tags, namespace and resources. Errors name the file and line.
 */
export async function resolveModelOptions(
  parser: SqlParser,
  env: ParamEnv,
  file: string,
  model: string,
  defaultNamespace: string,
  raw: RawModelOptions,
): Promise<ModelOptions> {
  const fail = (line: number, message: string) =>
    projectError('PROJECT_INVALID', file, line, `model ${model}: ${message}`, { model })
  const materialize = (raw.materialize?.value.toUpperCase() ?? 'NONE') as Materialization
  if (!MATERIALIZATIONS.includes(materialize))
    throw fail(
      raw.materialize?.line ?? 1,
      `unknown materialization ${JSON.stringify(raw.materialize?.value)} (use ${MATERIALIZATIONS.join(', ')})`,
    )
  const partitionedBy = (raw.partitionedBy?.value ?? []).map((text) => {
    const f = parsePartitionField(text)
    if (typeof f === 'string') throw fail(raw.partitionedBy?.line ?? 1, f)
    return f
  })
  if (partitionedBy.length > 0 && materialize === 'NONE')
    throw fail(
      raw.partitionedBy?.line ?? 1,
      'partitionedBy needs a materialization (REPLACE, APPEND or OVERWRITE_PARTITIONS)',
    )
  const params: string[] = []
  let overwriteFilter: string | null = null
  let overwriteFilterColumns: readonly string[] = []
  if (raw.overwriteFilter !== undefined) {
    const { value, line } = raw.overwriteFilter
    if (materialize !== 'OVERWRITE_PARTITIONS')
      throw fail(line, 'overwriteFilter is only used with materialize OVERWRITE_PARTITIONS')
    const refs = findParams(value).map((r) => ({ name: r.name, line }))
    checkParamRefs(env, refs, file, { model })
    params.push(...refs.map((r) => r.name))
    overwriteFilter = applyParams(env, value)
    const a = await analyzeFilter(parser, overwriteFilter)
    if (!a.ok)
      throw projectError(
        'INVALID_OVERWRITE_FILTER',
        file,
        line,
        `model ${model}: overwriteFilter: ${a.problem}`,
        {
          model,
          filter: value,
        },
      )
    overwriteFilterColumns = a.columns
  } else if (materialize === 'OVERWRITE_PARTITIONS') {
    throw fail(
      raw.materialize?.line ?? 1,
      'OVERWRITE_PARTITIONS needs an overwriteFilter over partition columns (the partitions it replaces)',
    )
  }
  const tags = raw.tags?.value ?? []
  for (const t of tags) if (!TAG.test(t)) throw fail(raw.tags?.line ?? 1, `invalid tag ${JSON.stringify(t)}`)
  const namespace = raw.namespace?.value ?? defaultNamespace
  if (!IDENT.test(namespace))
    throw fail(raw.namespace?.line ?? 1, `invalid namespace ${JSON.stringify(namespace)}`)
  if (raw.memory && !MEMORY.test(raw.memory.value))
    throw fail(raw.memory.line, `invalid memory ${JSON.stringify(raw.memory.value)} (e.g. 512MB, 1GB)`)
  if (raw.timeout && !DURATION.test(raw.timeout.value))
    throw fail(raw.timeout.line, `invalid timeout ${JSON.stringify(raw.timeout.value)} (e.g. 30s, 5m, 1h)`)
  return Object.freeze({
    materialize,
    partitionedBy: Object.freeze(partitionedBy),
    overwriteFilter,
    overwriteFilterColumns: Object.freeze([...overwriteFilterColumns]),
    overwriteFilterLine: raw.overwriteFilter?.line ?? null,
    tags: Object.freeze([...tags]),
    namespace,
    packages: Object.freeze({ ...(raw.packages?.value ?? {}) }),
    memory: raw.memory?.value ?? null,
    timeout: raw.timeout?.value ?? null,
    params: Object.freeze(params),
  })
}
