import type { TarnError } from '../util/errors.js'
import type { PlanLakeState } from './lake-state.js'
import type { LogicalPlan } from './logical-plan.js'
import { PROJECT_FILE } from './project.js'
import { projectError } from './project-error.js'

/**
 * Options of {@link validatePlan}.
 */
export interface ValidateOptions {
  /** The ref the run reads, for messages. */
  readonly ref?: string
}

function lookup(lake: PlanLakeState, key: string): [string, PlanLakeState['tables'][string]] | undefined {
  const exact = lake.tables[key]
  if (exact) return [key, exact]
  const found = Object.entries(lake.tables).find(([k]) => k.toLowerCase() === key.toLowerCase())
  return found
}

/**
 * The checks that need the lake, as a list of errors (empty when the plan is valid), each naming the file and line:
 * `TABLE_NOT_FOUND` for an input table missing at the ref, `MODEL_SHADOWS_TABLE` for a model that reads the lake
 * table it writes, `COLUMN_NOT_FOUND` for declared input columns the table lacks, and `INVALID_OVERWRITE_FILTER`
 * for an overwrite filter over non-partition columns (the model's `partitionedBy`, else the existing table's spec).
 *
 * @example
 * ```ts
 * const problems = planProblems(plan, { tables: { 'tarn.trips': { columns: ['fare'], partitionColumns: [] } } })
 * ```
 */
export function planProblems(
  plan: LogicalPlan,
  lake: PlanLakeState,
  options: ValidateOptions = {},
): TarnError[] {
  const at = options.ref ? ` at ${options.ref}` : ''
  const problems: TarnError[] = []
  for (const n of plan.nodes) {
    const what = `${n.kind} ${n.name}`
    const ctx = n.kind === 'model' ? { model: n.name } : { expectation: n.name }
    for (const i of n.inputs) {
      if (i.source.kind !== 'table') continue
      const found = lookup(lake, i.source.table)
      if (i.source.self && found) {
        problems.push(
          projectError(
            'MODEL_SHADOWS_TABLE',
            n.file,
            i.line,
            `${what} reads lake table ${i.source.table}, which it also writes: the model shadows the table it reads (rename the model or read another table)`,
            { ...ctx, table: i.source.table },
          ),
        )
        continue
      }
      if (!found) {
        const why = i.source.self
          ? ' (a model cannot read its own output)'
          : i.source.fromModel
            ? ` (model ${i.source.fromModel} is left out by --select and has not been materialised)`
            : ''
        const others = lake.elsewhere?.[i.source.table] ?? []
        const hint =
          others.length > 0
            ? ` (did you mean ${others.join(' or ')}? an unqualified name is a model of the project, else a table of the project's namespace ${i.source.table.slice(0, i.source.table.indexOf('.'))})`
            : ''
        problems.push(
          projectError(
            'TABLE_NOT_FOUND',
            n.file,
            i.line,
            `${what} reads table ${i.source.table}, which does not exist${at}${why}${hint}`,
            {
              ...ctx,
              table: i.source.table,
              ...(options.ref ? { ref: options.ref } : {}),
              ...(others.length > 0 ? { suggestions: others } : {}),
            },
          ),
        )
        continue
      }
      const have = new Set(found[1].columns.map((c) => c.toLowerCase()))
      const missing = [...(i.columns ?? []), ...i.filterColumns].filter((c) => !have.has(c.toLowerCase()))
      if (missing.length > 0) {
        problems.push(
          projectError(
            'COLUMN_NOT_FOUND',
            n.file,
            i.line,
            `${what} reads column(s) ${[...new Set(missing)].join(', ')} of ${i.source.table}, which has ${found[1].columns.join(', ')}`,
            { ...ctx, table: i.source.table, columns: [...new Set(missing)] },
          ),
        )
      }
    }
    const m = n.model
    if (m?.materialize === 'OVERWRITE_PARTITIONS' && m.overwriteFilter !== null) {
      const line = m.overwriteFilterLine ?? m.line
      const existing = n.table ? lookup(lake, n.table)?.[1] : undefined
      const partitionColumns =
        m.partitionedBy.length > 0 ? m.partitionedBy.map((p) => p.column) : (existing?.partitionColumns ?? [])
      const allowed = new Set(partitionColumns.map((c) => c.toLowerCase()))
      const bad = m.overwriteFilterColumns.filter((c) => !allowed.has(c.toLowerCase()))
      if (partitionColumns.length === 0) {
        problems.push(
          projectError(
            'INVALID_OVERWRITE_FILTER',
            n.file,
            line,
            `model ${m.name}: OVERWRITE_PARTITIONS needs a partitioned table: declare partitionedBy`,
            { model: m.name, filter: m.overwriteFilter },
          ),
        )
      } else if (bad.length > 0 || m.overwriteFilterColumns.length === 0) {
        problems.push(
          projectError(
            'INVALID_OVERWRITE_FILTER',
            n.file,
            line,
            bad.length > 0
              ? `model ${m.name}: overwriteFilter ${JSON.stringify(m.overwriteFilter)} uses non-partition column(s) ${bad.join(', ')} (partition columns: ${partitionColumns.join(', ')})`
              : `model ${m.name}: overwriteFilter ${JSON.stringify(m.overwriteFilter)} reads no partition column`,
            { model: m.name, filter: m.overwriteFilter, columns: bad, partitionColumns },
          ),
        )
      }
    }
  }
  return problems
}

/**
 * Runs {@link planProblems} and throws the first problem.
 *
 * @example
 * ```ts
 * validatePlan(plan, lakeState, { ref: 'main' })
 * ```
 */
export function validatePlan(plan: LogicalPlan, lake: PlanLakeState, options: ValidateOptions = {}): void {
  const [first] = planProblems(plan, lake, options)
  if (first) throw first
}

/**
 * Warnings about a plan (`tarn run --strict` turns them into errors): a declared parameter no model reads
 * (`UNUSED_PARAMETER`), and a model kept in memory that nothing reads (`UNUSED_MODEL`: its result is discarded).
 *
 * @example
 * ```ts
 * planWarnings(plan, project.parameters).map((w) => w.message)
 * ```
 */
export function planWarnings(
  plan: LogicalPlan,
  parameters: readonly { readonly name: string; readonly line: number }[] = [],
): TarnError[] {
  const warnings: TarnError[] = []
  const used = new Set(plan.nodes.flatMap((n) => n.model?.params ?? n.expectation?.params ?? []))
  for (const p of parameters) {
    if (!used.has(p.name))
      warnings.push(
        projectError('UNUSED_PARAMETER', PROJECT_FILE, p.line, `parameter ${p.name} is read by no model`, {
          parameter: p.name,
        }),
      )
  }
  const read = new Set(plan.nodes.flatMap((n) => n.upstream))
  for (const n of plan.nodes) {
    if (n.model?.materialize === 'NONE' && !read.has(n.name))
      warnings.push(
        projectError(
          'UNUSED_MODEL',
          n.file,
          n.line,
          `model ${n.name} is kept in memory (materialize NONE) and nothing reads it: its result is discarded`,
          { model: n.name },
        ),
      )
  }
  return warnings
}
