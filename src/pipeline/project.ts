import type { PythonCall } from './py-model.js'
import type { Materialization } from './sdk.js'

/**
 * The name of a project's file.
 */
export const PROJECT_FILE = 'tarn_project.yml'

/**
 * The types a parameter may declare.
 */
export type ParameterType = 'string' | 'number' | 'integer' | 'boolean' | 'date'

/**
 * A parameter value after parsing.
 *
 * @example
 * ```ts
 * const v: ParameterValue = 2.5
 * ```
 */
export type ParameterValue = string | number | boolean

/**
 * A parameter declared in `tarn_project.yml`.
 *
 * @example
 * ```ts
 * const p: ParameterDef = { name: 'min_fare', type: 'number', default: 0, required: false, description: null, line: 4 }
 * ```
 */
export interface ParameterDef {
  readonly name: string
  readonly type: ParameterType
  readonly default?: ParameterValue
  readonly required: boolean
  readonly description: string | null
  /** Line of the declaration in `tarn_project.yml`. */
  readonly line: number
}

/**
 * One field of a model's `partitionedBy`: a source column and an Iceberg transform.
 */
export interface PartitionFieldDef {
  readonly column: string
  /** `identity`, `year`, `month`, `day`, `hour` or `bucket[N]`. */
  readonly transform: string
  /** As written. */
  readonly text: string
}

/**
 * An input of a model or expectation as written in the project (not yet resolved to a model or a lake table).
 *
 * @example
 * ```ts
 * const i: InputDef = { alias: 'trips', table: 'trips', columns: ['fare'], filter: 'fare > 0', filterColumns: ['fare'], line: 7 }
 * ```
 */
export interface InputDef {
  /** The key the input arrives under (TS) or the reference as written (SQL). */
  readonly alias: string
  /** `table`, `namespace.table`, or a model name. */
  readonly table: string
  /** Columns read; `null` means every column. */
  readonly columns: readonly string[] | null
  /** The filter with parameters substituted; `null` when none. */
  readonly filter: string | null
  /** Columns the filter reads. */
  readonly filterColumns: readonly string[]
  /** Line of the reference in the model's file. */
  readonly line: number
  /**
   * SQL models: the `WHERE` clause the query applies directly on this table (its only reference), with the columns
   * it reads; pushed into the scan when those are all columns of the table.
   */
  readonly where?: { readonly filter: string; readonly columns: readonly string[] } | null
}

/**
 * The columns a SQL model's query names anywhere, for scan pruning; `star` when it selects `*`.
 */
export interface ColumnUse {
  readonly star: boolean
  readonly names: readonly string[]
}

/**
 * A model of a project, from a `.sql` file or a TS export.
 *
 * @example
 * ```ts
 * const names = project.models.map((m: ModelDef) => `${m.name} (${m.file}:${m.line})`)
 * ```
 */
export interface ModelDef {
  readonly kind: 'sql' | 'ts' | 'py'
  readonly name: string
  /** Path relative to the project directory, with `/` separators. */
  readonly file: string
  readonly line: number
  /** Namespace of the model's table. */
  readonly namespace: string
  readonly materialize: Materialization
  readonly partitionedBy: readonly PartitionFieldDef[]
  /** With `OVERWRITE_PARTITIONS`: the filter with parameters substituted. */
  readonly overwriteFilter: string | null
  readonly overwriteFilterColumns: readonly string[]
  /** Line of the overwrite filter in the model's file. */
  readonly overwriteFilterLine: number | null
  readonly tags: readonly string[]
  readonly packages: Readonly<Record<string, string>>
  readonly memory: string | null
  readonly timeout: string | null
  readonly inputs: readonly InputDef[]
  /** SQL models: the query with parameters substituted. */
  readonly sql: string | null
  /** SQL models: the columns the query names. */
  readonly columnUse: ColumnUse | null
  /** Parameters the model reads (`$name` or `ctx.params.name`). */
  readonly params: readonly string[]
  /** Python models: the environment and how the function is called. */
  readonly python?: PythonCall
}

/**
 * An expectation of a project: a TS export built with `expectation(...)`, or a `.sql` file headed
 * `-- tarn: expectation=true` whose query returns the failing rows (none passes).
 *
 * @example
 * ```ts
 * const names = project.expectations.map((e: ExpectationDef) => e.name)
 * ```
 */
export interface ExpectationDef {
  readonly name: string
  readonly file: string
  readonly line: number
  readonly inputs: readonly InputDef[]
  readonly tags: readonly string[]
  readonly description: string | null
  readonly params: readonly string[]
  /** Python expectations: the environment and how the function is called (absent for TypeScript ones). */
  readonly python?: PythonCall
  /** The query of a SQL expectation (parameters substituted); absent for TS expectations. */
  readonly sql?: string
}

/**
 * A loaded, validated project: plain, immutable data.
 *
 * @example
 * ```ts
 * const project: Project = await loadProject('examples/taxi')
 * project.models.length
 * ```
 */
export interface Project {
  /** Absolute directory. */
  readonly dir: string
  readonly name: string
  /** The default namespace of models and bare table references. */
  readonly namespace: string
  readonly parameters: readonly ParameterDef[]
  /** Values of every parameter that has one (given or default). */
  readonly params: Readonly<Record<string, ParameterValue>>
  readonly models: readonly ModelDef[]
  readonly expectations: readonly ExpectationDef[]
}
