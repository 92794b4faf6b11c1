import { mergeFilters } from './conjuncts.js'
import type { PlanLakeState } from './lake-state.js'
import type { LogicalInput, LogicalNode, LogicalPlan } from './logical-plan.js'
import type { PartitionFieldDef } from './project.js'
import type { Materialization } from './sdk.js'

/**
 * What one node reads of a scanned table: its columns (`null`: all) and its own filter, applied after the merged
 * scan when several nodes share it.
 */
export interface ScanReader {
  readonly node: string
  readonly alias: string
  readonly columns: readonly string[] | null
  readonly filter: string | null
}

/**
 * One scan per lake table, shared by every node that reads it: the union of the columns they need (`null`: all)
 * and the disjunction of their filters (`null` when one reads unfiltered).
 *
 * @example
 * ```ts
 * const s: ScanNode = { id: 'scan:tarn.trips', table: 'tarn.trips', ref: 'main', columns: null, filter: null, readers: [] }
 * ```
 */
export interface ScanNode {
  readonly id: string
  readonly table: string
  readonly ref: string | null
  readonly columns: readonly string[] | null
  readonly filter: string | null
  readonly readers: readonly ScanReader[]
}

/**
 * A step of the physical plan.
 *
 * @example
 * ```ts
 * const s: PlanStep = { id: 'model:trips_clean', kind: 'model', name: 'trips_clean', dependsOn: ['scan:tarn.trips'], level: 1 }
 * ```
 */
export interface PlanStep {
  readonly id: string
  readonly kind: 'scan' | 'model' | 'materialize' | 'expectation'
  /** Table key (scans), model or expectation name. */
  readonly name: string
  readonly dependsOn: readonly string[]
  readonly level: number
  /** Models: `sql` or `ts`. */
  readonly language?: 'sql' | 'ts' | 'py'
  /** Materialisations: the table written, how, and its partitioning. */
  readonly table?: string
  readonly materialize?: Materialization
  readonly partitionedBy?: readonly PartitionFieldDef[]
  readonly overwriteFilter?: string | null
  /**
   * SQL models that are not materialised and are read once, by a TS function: the step of that reader. A run in one
   * process evaluates the model's query inside the reader's input query (no intermediate file, the reader's columns
   * and filter pushed into the model's scans); a node execution on a remote worker runs it on its own.
   */
  readonly fusedInto?: string
}

/**
 * The physical plan: scans with pushed-down columns and filters, model, materialisation and expectation steps, in
 * topological levels (the steps of one level are independent; a run starts each step once the steps it depends on are done).
 *
 * @example
 * ```ts
 * const plan: PhysicalPlan = buildPhysicalPlan(logical, { ref: 'main' })
 * plan.levels[0] // ['scan:tarn.trips', 'scan:tarn.zones']
 * ```
 */
export interface PhysicalPlan {
  readonly project: string
  readonly ref: string | null
  readonly params: LogicalPlan['params']
  readonly selection: readonly string[] | null
  readonly logical: LogicalPlan
  readonly scans: readonly ScanNode[]
  readonly steps: readonly PlanStep[]
  /** Step ids per level. */
  readonly levels: readonly (readonly string[])[]
}

/**
 * Options of {@link buildPhysicalPlan}.
 */
export interface PhysicalPlanOptions {
  readonly ref?: string
  /**
   * When given, SQL models' scans are pruned to the columns their query names that the table has, and take the
   * query's WHERE on the table when it reads only the table's columns.
   */
  readonly lake?: PlanLakeState
}

function readerColumns(
  n: LogicalNode,
  i: LogicalInput,
  lake: PlanLakeState | undefined,
  table: string,
): string[] | null {
  if (n.model?.kind === 'sql') {
    const use = n.model.columnUse
    const columns = lake?.tables[table]?.columns
    if (!use || use.star || !columns) return null
    const names = new Set(use.names.map((c) => c.toLowerCase()))
    const picked = columns.filter((c) => names.has(c.toLowerCase()))
    return picked.length > 0 ? picked : null
  }
  if (i.columns === null) return null
  return [...new Set([...i.columns, ...i.filterColumns])]
}

function readerFilter(
  n: LogicalNode,
  i: LogicalInput,
  lake: PlanLakeState | undefined,
  table: string,
): string | null {
  if (n.model?.kind !== 'sql') return i.filter
  const columns = lake?.tables[table]?.columns
  if (!i.where || !columns) return null
  const have = new Set(columns.map((c) => c.toLowerCase()))
  return i.where.columns.every((c) => have.has(c.toLowerCase())) ? i.where.filter : null
}

function mergeColumns(readers: readonly { columns: readonly string[] | null }[]): string[] | null {
  const out: string[] = []
  for (const r of readers) {
    if (r.columns === null) return null
    for (const c of r.columns) if (!out.includes(c)) out.push(c)
  }
  return out
}

/**
 * Builds the physical plan of a logical plan: one scan per lake table with the readers' columns and filters merged,
 * a step per model, a materialisation step per materialised model and a step per expectation, placed in
 * topological levels.
 *
 * @example
 * ```ts
 * const physical = buildPhysicalPlan(buildLogicalPlan(project), { ref: 'main' })
 * physical.scans.map((s) => `${s.table}: ${s.columns?.join(', ') ?? '*'}`)
 * ```
 */
export function buildPhysicalPlan(logical: LogicalPlan, options: PhysicalPlanOptions = {}): PhysicalPlan {
  const ref = options.ref ?? null
  const readers = new Map<string, ScanReader[]>()
  for (const n of logical.nodes) {
    for (const i of n.inputs) {
      if (i.source.kind !== 'table') continue
      const list = readers.get(i.source.table) ?? []
      list.push(
        Object.freeze({
          node: n.name,
          alias: i.alias,
          columns: freezeOrNull(readerColumns(n, i, options.lake, i.source.table)),
          filter: readerFilter(n, i, options.lake, i.source.table),
        }),
      )
      readers.set(i.source.table, list)
    }
  }
  const scans: ScanNode[] = [...readers.keys()].sort().map((table) => {
    const rs = readers.get(table) as ScanReader[]
    return Object.freeze({
      id: `scan:${table}`,
      table,
      ref,
      columns: freezeOrNull(mergeColumns(rs)),
      filter: mergeFilters(rs.map((r) => r.filter)),
      readers: Object.freeze(rs),
    })
  })

  const level = new Map<string, number>()
  const steps: PlanStep[] = []
  const add = (s: Omit<PlanStep, 'level'>) => {
    const l = s.dependsOn.length === 0 ? 0 : 1 + Math.max(...s.dependsOn.map((d) => level.get(d) ?? 0))
    level.set(s.id, l)
    steps.push(Object.freeze({ ...s, dependsOn: Object.freeze([...s.dependsOn]), level: l }))
  }
  for (const s of scans) add({ id: s.id, kind: 'scan', name: s.table, dependsOn: [] })
  for (const n of logical.nodes) {
    const deps = [
      ...new Set(
        n.inputs.map((i) =>
          i.source.kind === 'model' ? `model:${i.source.model}` : `scan:${i.source.table}`,
        ),
      ),
    ]
    if (n.kind === 'expectation') {
      add({ id: `expectation:${n.name}`, kind: 'expectation', name: n.name, dependsOn: deps })
      continue
    }
    const m = n.model
    if (!m) continue
    const into = fusedReader(logical, n)
    add({
      id: `model:${n.name}`,
      kind: 'model',
      name: n.name,
      dependsOn: deps,
      language: m.kind,
      ...(into !== null ? { fusedInto: into } : {}),
    })
    if (m.materialize !== 'NONE') {
      add({
        id: `materialize:${n.name}`,
        kind: 'materialize',
        name: n.name,
        dependsOn: [`model:${n.name}`],
        table: n.table as string,
        materialize: m.materialize,
        partitionedBy: m.partitionedBy,
        overwriteFilter: m.overwriteFilter,
      })
    }
  }
  const depth = Math.max(-1, ...steps.map((s) => s.level)) + 1
  const levels = Array.from({ length: depth }, (_, l) =>
    Object.freeze(steps.filter((s) => s.level === l).map((s) => s.id)),
  )
  return Object.freeze({
    project: logical.project,
    ref,
    params: logical.params,
    selection: logical.selection,
    logical,
    scans: Object.freeze(scans),
    steps: Object.freeze(steps),
    levels: Object.freeze(levels),
  })
}

/**
 * The step of the one TS function that reads SQL model `n`, when `n` is not materialised and nothing else reads it
 * (and the reader's name for it is none of `n`'s own input names, which share the reader's input session); else null.
 */
function fusedReader(logical: LogicalPlan, n: LogicalNode): string | null {
  const m = n.model
  if (m?.kind !== 'sql' || m.materialize !== 'NONE') return null
  const reads = logical.nodes.flatMap((r) =>
    r.inputs.filter((i) => i.source.kind === 'model' && i.source.model === n.name).map((i) => ({ r, i })),
  )
  if (reads.length !== 1) return null
  const { r, i } = reads[0] as { r: LogicalNode; i: LogicalInput }
  const ts = r.kind === 'model' ? r.model?.kind === 'ts' : !r.expectation?.sql && !r.expectation?.python
  if (!ts) return null
  const alias = i.alias.toLowerCase()
  if (n.inputs.some((own) => own.alias.toLowerCase() === alias)) return null
  return `${r.kind}:${r.name}`
}

function freezeOrNull(xs: string[] | null): readonly string[] | null {
  return xs === null ? null : Object.freeze(xs)
}
