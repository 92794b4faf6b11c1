import type { DuckDBConnection } from '@duckdb/node-api'
import type { TarnError } from '../util/errors.js'
import type { PlanLakeState } from './lake-state.js'
import { buildLogicalPlan, type LogicalPlan, selectPlan } from './logical-plan.js'
import { buildPhysicalPlan, type PhysicalPlan } from './physical-plan.js'
import type { ParameterValue, Project } from './project.js'
import { loadProject } from './project-loader.js'
import { planWarnings, validatePlan } from './validate.js'

/**
 * Options of {@link planProject}.
 *
 * @example
 * ```ts
 * const o: PlanProjectOptions = { params: { min_fare: '2' }, select: ['trips_clean+'], ref: 'main' }
 * ```
 */
export interface PlanProjectOptions {
  readonly params?: Readonly<Record<string, string | ParameterValue>>
  /** `--select` items (union). */
  readonly select?: readonly string[]
  readonly ref?: string
  /** A DuckDB connection whose parser reads the SQL (default: a fresh in-memory DuckDB, closed afterwards). */
  readonly duckdb?: DuckDBConnection
  /**
   * The lake at the ref: plain data, or a function given the table keys the plan needs (tables read, and tables
   * written with OVERWRITE_PARTITIONS) that returns it. Without it, the lake checks are skipped.
   */
  readonly lake?:
    | PlanLakeState
    | ((tables: readonly string[], namespaces: readonly string[]) => Promise<PlanLakeState>)
}

/**
 * A planned project: what `tarn run --dry-run` shows.
 *
 * @example
 * ```ts
 * const { physical } = await planProject('examples/taxi', { select: ['trips_clean+'] })
 * physical.levels
 * ```
 */
export interface PlannedProject {
  readonly project: Project
  readonly logical: LogicalPlan
  readonly physical: PhysicalPlan
  readonly lake: PlanLakeState | null
  /** See `planWarnings` (over the whole project, whatever the selection). */
  readonly warnings: readonly TarnError[]
  /** Namespaces the run writes that do not exist at the ref yet: the run creates them (empty without a lake). */
  readonly createsNamespaces: readonly string[]
}

/**
 * Tables whose lake state a plan needs: every table read, and the table of every OVERWRITE_PARTITIONS model.
 */
export function tablesNeeded(plan: LogicalPlan): string[] {
  const out = new Set(plan.tables)
  for (const n of plan.nodes) if (n.model?.materialize === 'OVERWRITE_PARTITIONS' && n.table) out.add(n.table)
  return [...out].sort()
}

/**
 * The namespaces of the tables a plan materialises, sorted.
 */
export function namespacesWritten(plan: LogicalPlan): string[] {
  const out = new Set<string>()
  for (const n of plan.nodes)
    if (n.table && n.model && n.model.materialize !== 'NONE') out.add(n.table.slice(0, n.table.indexOf('.')))
  return [...out].sort()
}

/**
 * Loads, selects, validates (against the lake when given) and plans a project, never running its code.
 *
 * @example
 * ```ts
 * const { physical } = await planProject('examples/taxi', { select: ['+zone_stats'], lake: { tables } })
 * ```
 */
export async function planProject(dir: string, options: PlanProjectOptions = {}): Promise<PlannedProject> {
  const project = await loadProject(dir, {
    ...(options.params ? { params: options.params } : {}),
    ...(options.duckdb ? { duckdb: options.duckdb } : {}),
  })
  const full = buildLogicalPlan(project)
  const logical = options.select && options.select.length > 0 ? selectPlan(full, options.select) : full
  let lake: PlanLakeState | null = null
  if (options.lake) {
    lake =
      typeof options.lake === 'function'
        ? await options.lake(tablesNeeded(logical), namespacesWritten(logical))
        : options.lake
    validatePlan(logical, lake, options.ref ? { ref: options.ref } : {})
  }
  const physical = buildPhysicalPlan(logical, {
    ...(options.ref ? { ref: options.ref } : {}),
    ...(lake ? { lake } : {}),
  })
  const warnings = Object.freeze(planWarnings(full, project.parameters))
  const existing = lake?.namespaces
  const createsNamespaces = Object.freeze(
    existing ? namespacesWritten(logical).filter((ns) => !existing.includes(ns)) : [],
  )
  return Object.freeze({ project, logical, physical, lake, warnings, createsNamespaces })
}
