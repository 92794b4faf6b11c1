import type { Table } from 'apache-arrow'

/**
 * How a model's result is kept: in memory only, or written to its table on the run branch.
 *
 * @example
 * ```ts
 * const m: Materialization = 'OVERWRITE_PARTITIONS'
 * ```
 */
export type Materialization = 'NONE' | 'REPLACE' | 'APPEND' | 'OVERWRITE_PARTITIONS'

/**
 * The materialisations a model may declare, in the order the docs list them.
 *
 * @example
 * ```ts
 * MATERIALIZATIONS.includes('APPEND') // true
 * ```
 */
export const MATERIALIZATIONS: readonly Materialization[] = Object.freeze([
  'NONE',
  'REPLACE',
  'APPEND',
  'OVERWRITE_PARTITIONS',
])

/**
 * One declared input of a model or expectation: a lake table or another model, with the columns it needs and a
 * filter; both are pushed down into the scan.
 *
 * @example
 * ```ts
 * const spec: InputSpec = { kind: 'tarn.input', table: 'trips', columns: ['fare'], filter: 'fare > 0' }
 * ```
 */
export interface InputSpec {
  readonly kind: 'tarn.input'
  /** `table`, `namespace.table`, or the name of another model of the project. */
  readonly table: string
  readonly columns?: readonly string[]
  /** A SQL boolean expression over the table's columns; `$name` reads a parameter. */
  readonly filter?: string
}

/**
 * Options of {@link input}.
 *
 * @example
 * ```ts
 * const o: InputOptions = { columns: ['fare'], filter: 'fare > $min_fare' }
 * ```
 */
export interface InputOptions {
  readonly columns?: readonly string[]
  readonly filter?: string
}

/**
 * What a model runs with besides its inputs.
 *
 * @example
 * ```ts
 * const fn = async (_inputs: Record<string, never>, ctx: ModelContext) => {
 *   ctx.log('min fare', ctx.params.min_fare)
 *   return []
 * }
 * ```
 */
export interface ModelContext {
  /** Parameter values of the run (`--param k=v` or the project defaults). */
  readonly params: Readonly<Record<string, string | number | boolean>>
  /** Writes a line to the job's log. */
  log(...args: unknown[]): void
}

/**
 * A model's configuration: its inputs, how it is materialised and what it needs to run.
 *
 * @example
 * ```ts
 * const config: ModelConfig = { inputs: { trips: input('trips') }, materialize: 'REPLACE', tags: ['daily'] }
 * ```
 */
export interface ModelConfig<I extends Record<string, InputSpec> = Record<string, InputSpec>> {
  readonly inputs?: I
  readonly materialize?: Materialization
  /** Iceberg partition fields: `column`, `day(ts)`, `bucket[16](id)` (identity, year, month, day, hour, bucket[N]). */
  readonly partitionedBy?: readonly string[]
  /** With `OVERWRITE_PARTITIONS`: the partitions replaced, a filter over partition columns. */
  readonly overwriteFilter?: string
  /** npm dependencies of the model (name → version range), installed once into a cached environment. */
  readonly packages?: Readonly<Record<string, string>>
  /** Memory limit of the worker, e.g. `512MB`, `1GB`. */
  readonly memory?: string
  /** Time limit, e.g. `30s`, `5m`. */
  readonly timeout?: string
  readonly tags?: readonly string[]
  /** Namespace of the model's table (default: the project's). */
  readonly namespace?: string
}

/**
 * The Arrow tables a model receives, one per declared input.
 *
 * @example
 * ```ts
 * const rows = (inputs: ModelInputs<{ trips: InputSpec }>) => inputs.trips.numRows
 * ```
 */
export type ModelInputs<I extends Record<string, InputSpec>> = { readonly [K in keyof I]: Table }

/**
 * What a model returns: an Arrow table or plain row objects (converted).
 *
 * @example
 * ```ts
 * const r: ModelResult = [{ zone: 1, fare: 2.5 }]
 * ```
 */
export type ModelResult = Table | readonly Record<string, unknown>[]

/**
 * The function of a TS model.
 *
 * @example
 * ```ts
 * const fn: ModelFunction<{ trips: InputSpec }> = async ({ trips }) => trips
 * ```
 */
export type ModelFunction<I extends Record<string, InputSpec>> = (
  inputs: ModelInputs<I>,
  ctx: ModelContext,
) => ModelResult | Promise<ModelResult>

/**
 * A TS model as the SDK returns it: plain data plus the function, which only the isolated worker calls.
 *
 * @example
 * ```ts
 * const m: ModelDescriptor = model({}, () => [])
 * m.kind // 'tarn.model'
 * ```
 */
export interface ModelDescriptor<I extends Record<string, InputSpec> = Record<string, InputSpec>> {
  readonly kind: 'tarn.model'
  readonly config: ModelConfig<I>
  readonly fn: ModelFunction<I>
}

/**
 * An expectation's configuration.
 *
 * @example
 * ```ts
 * const config: ExpectationConfig = { inputs: { fares: input('zone_fares', { columns: ['fare'] }) } }
 * ```
 */
export interface ExpectationConfig<I extends Record<string, InputSpec> = Record<string, InputSpec>> {
  readonly inputs?: I
  readonly tags?: readonly string[]
  readonly description?: string
}

/**
 * What an expectation returns: `true` passes and `false` fails; or the failing rows (an Arrow table or plain objects,
 * as the `expect.*` helpers return them), which pass when there are none and otherwise fail the run with their count
 * and a sample.
 *
 * @example
 * ```ts
 * const r: ExpectationResult = expect.noNulls(table, 'zone')
 * ```
 */
export type ExpectationResult = boolean | Table | readonly Record<string, unknown>[]

/**
 * The function of an expectation: `true` (or no failing rows) passes; `false`, failing rows or a throw fails the run.
 *
 * @example
 * ```ts
 * const fn: ExpectationFunction<{ t: InputSpec }> = ({ t }) => t.numRows > 0
 * ```
 */
export type ExpectationFunction<I extends Record<string, InputSpec>> = (
  inputs: ModelInputs<I>,
  ctx: ModelContext,
) => ExpectationResult | Promise<ExpectationResult>

/**
 * An expectation as the SDK returns it.
 *
 * @example
 * ```ts
 * const e: ExpectationDescriptor = expectation({}, () => true)
 * e.kind // 'tarn.expectation'
 * ```
 */
export interface ExpectationDescriptor<I extends Record<string, InputSpec> = Record<string, InputSpec>> {
  readonly kind: 'tarn.expectation'
  readonly config: ExpectationConfig<I>
  readonly fn: ExpectationFunction<I>
}

/**
 * Declares an input: a lake table (or another model) with the columns and filter pushed down into its scan.
 *
 * @example
 * ```ts
 * input('trips', { columns: ['zone', 'fare'], filter: 'fare > $min_fare' })
 * ```
 */
export function input(table: string, options: InputOptions = {}): InputSpec {
  return Object.freeze({
    kind: 'tarn.input' as const,
    table,
    ...(options.columns ? { columns: Object.freeze([...options.columns]) } : {}),
    ...(options.filter !== undefined ? { filter: options.filter } : {}),
  })
}

/**
 * Declares a TS model; its name is the name it is exported under. The planner reads the config statically and never
 * calls `fn`; the worker does.
 *
 * @example
 * ```ts
 * export const zoneFares = model(
 *   { inputs: { trips: input('trips', { columns: ['zone', 'fare'] }) }, materialize: 'REPLACE' },
 *   async ({ trips }) => trips,
 * )
 * ```
 */
export function model<I extends Record<string, InputSpec> = Record<string, never>>(
  config: ModelConfig<I>,
  fn: ModelFunction<I>,
): ModelDescriptor<I> {
  return Object.freeze({ kind: 'tarn.model' as const, config: Object.freeze({ ...config }), fn })
}

/**
 * Declares an expectation: a check over tables that passes (`true`) or fails the run.
 *
 * @example
 * ```ts
 * export const faresArePositive = expectation(
 *   { inputs: { fares: input('zoneFares', { columns: ['fare'] }) } },
 *   async ({ fares }) => fares.numRows > 0,
 * )
 * ```
 */
export function expectation<I extends Record<string, InputSpec> = Record<string, never>>(
  config: ExpectationConfig<I>,
  fn: ExpectationFunction<I>,
): ExpectationDescriptor<I> {
  return Object.freeze({ kind: 'tarn.expectation' as const, config: Object.freeze({ ...config }), fn })
}

/** The rows of `table` at `indexes` (ascending), as one table with its schema: contiguous runs are sliced once. */
function rowsAt(table: Table, indexes: readonly number[]): Table {
  const parts: Table[] = []
  let i = 0
  while (i < indexes.length) {
    const start = indexes[i] as number
    let end = start + 1
    while (indexes[i + 1] === end) {
      end++
      i++
    }
    parts.push(table.slice(start, end))
    i++
  }
  const [first, ...rest] = parts
  return first ? first.concat(...rest) : table.slice(0, 0)
}

function columnOf(table: Table, column: string): { get(i: number): unknown } {
  const c = table.getChild(column)
  if (!c)
    throw new Error(
      `column ${column} is not in the table (columns: ${table.schema.fields.map((f) => f.name).join(', ')})`,
    )
  return c
}

function keyOf(v: unknown): string {
  if (typeof v === 'bigint') return `n${v}`
  if (v instanceof Date) return `d${v.getTime()}`
  return `${typeof v}:${String(v)}`
}

/**
 * Helpers for expectations that return the failing rows (an empty table passes), so a failed run reports how many
 * rows failed and a sample of them, as dbt tests do.
 *
 * @example
 * ```ts
 * export const zonesAreNamed = expectation(
 *   { inputs: { zones: input('zones', { columns: ['zone_id', 'zone_name'] }) } },
 *   async ({ zones }) => expect.noNulls(zones, 'zone_name'),
 * )
 * ```
 */
export const expect = Object.freeze({
  /**
   * The rows where any of `columns` is null.
   */
  noNulls(table: Table, ...columns: string[]): Table {
    const cols = columns.map((c) => columnOf(table, c))
    const bad: number[] = []
    for (let i = 0; i < table.numRows; i++) if (cols.some((c) => c.get(i) == null)) bad.push(i)
    return rowsAt(table, bad)
  },
  /**
   * The rows whose value of `column` occurs more than once (nulls are not compared).
   */
  unique(table: Table, column: string): Table {
    const col = columnOf(table, column)
    const seen = new Map<string, number>()
    for (let i = 0; i < table.numRows; i++) {
      const v = col.get(i)
      if (v != null) seen.set(keyOf(v), (seen.get(keyOf(v)) ?? 0) + 1)
    }
    const bad: number[] = []
    for (let i = 0; i < table.numRows; i++) {
      const v = col.get(i)
      if (v != null && (seen.get(keyOf(v)) ?? 0) > 1) bad.push(i)
    }
    return rowsAt(table, bad)
  },
  /**
   * The rows for which `check` is false.
   */
  rows(table: Table, check: (row: Record<string, unknown>, index: number) => boolean): Table {
    const bad: number[] = []
    for (let i = 0; i < table.numRows; i++) {
      const row = table.get(i)
      if (!check((row?.toJSON() ?? {}) as Record<string, unknown>, i)) bad.push(i)
    }
    return rowsAt(table, bad)
  },
})
