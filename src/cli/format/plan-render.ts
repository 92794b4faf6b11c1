import type { LogicalNode, PhysicalPlan, PlanStep, ScanNode } from '../../lake/lake-types.js'

function nodeLabel(n: LogicalNode): string {
  if (n.kind === 'expectation') return `${n.name} [expectation]`
  const m = n.model
  if (!m) return n.name
  const how = m.materialize === 'NONE' ? 'in memory' : `${m.materialize} -> ${n.table}`
  const parts = [`${m.kind} model`, how]
  if (m.partitionedBy.length > 0)
    parts.push(`partitioned by ${m.partitionedBy.map((p) => p.text).join(', ')}`)
  if (m.tags.length > 0) parts.push(`tags ${m.tags.join(', ')}`)
  return `${n.name} [${parts.join(', ')}]`
}

/**
 * Draws the DAG as an ASCII tree from its roots (lake tables, and nodes that read nothing): each node under what it
 * reads; a node reached again is shown once more as `(see above)`.
 */
export function renderDag(plan: PhysicalPlan): string {
  const logical = plan.logical
  const byName = new Map(logical.nodes.map((n) => [n.name, n]))
  const children = new Map<string, string[]>()
  for (const e of logical.edges) children.set(e.from, [...(children.get(e.from) ?? []), e.to])
  for (const [k, v] of children) children.set(k, [...new Set(v)].sort())
  const lines: string[] = []
  const shown = new Set<string>()
  const draw = (name: string, prefix: string, last: boolean) => {
    const n = byName.get(name)
    const label = n ? nodeLabel(n) : name
    const again = shown.has(name)
    lines.push(`${prefix}${last ? '\\-> ' : '+-> '}${again ? `${name} (see above)` : label}`)
    if (again) return
    shown.add(name)
    const kids = children.get(name) ?? []
    kids.forEach((k, i) => {
      draw(k, `${prefix}${last ? '    ' : '|   '}`, i === kids.length - 1)
    })
  }
  const roots = [
    ...logical.tables.map((t) => ({ name: t, label: `${t} [lake table${tableNote(plan, t)}]` })),
    ...logical.nodes.filter((n) => n.inputs.length === 0).map((n) => ({ name: n.name, label: nodeLabel(n) })),
  ]
  for (const r of roots) {
    lines.push(r.label)
    shown.add(r.name)
    const kids = children.get(r.name) ?? []
    kids.forEach((k, i) => {
      draw(k, '', i === kids.length - 1)
    })
  }
  return lines.join('\n')
}

function tableNote(plan: PhysicalPlan, table: string): string {
  const from = plan.logical.nodes
    .flatMap((n) => n.inputs)
    .find((i) => i.source.kind === 'table' && i.source.table === table && i.source.fromModel)
  return from?.source.kind === 'table' && from.source.fromModel
    ? `, written by unselected ${from.source.fromModel}`
    : ''
}

/**
 * Lists the scans: per lake table, the merged columns and filter pushed down, and what each reader takes.
 */
export function renderScans(plan: PhysicalPlan): string {
  return plan.scans.map((s) => renderScan(s)).join('\n')
}

function renderScan(s: ScanNode): string {
  const lines = [
    `scan ${s.table}${s.ref ? ` at ${s.ref}` : ''}`,
    `  columns  ${s.columns?.join(', ') ?? '* (all)'}`,
    `  filter   ${s.filter ?? '(none)'}`,
  ]
  if (s.readers.length > 1) lines.push(`  merged for ${s.readers.length} readers:`)
  for (const r of s.readers) {
    const cols = r.columns?.join(', ') ?? '*'
    lines.push(
      `  -> ${r.node}${r.alias !== s.table && r.alias !== s.table.split('.').pop() ? ` as ${r.alias}` : ''}: ${cols}${r.filter ? ` where ${r.filter}` : ''}`,
    )
  }
  return lines.join('\n')
}

function stepLabel(s: PlanStep): string {
  switch (s.kind) {
    case 'scan':
      return `scan ${s.name}`
    case 'model':
      return `run ${s.name} (${s.language}${s.fusedInto ? `, inside the input of ${s.fusedInto}` : ''})`
    case 'materialize':
      return `write ${s.table} (${s.materialize}${s.partitionedBy && s.partitionedBy.length > 0 ? `, ${s.partitionedBy.map((p) => p.text).join(', ')}` : ''}${s.overwriteFilter ? `, where ${s.overwriteFilter}` : ''})`
    case 'expectation':
      return `check ${s.name}`
  }
}

/**
 * Lists the steps by level: levels run in order, the steps of one level in parallel.
 */
export function renderLevels(plan: PhysicalPlan): string {
  const byId = new Map(plan.steps.map((s) => [s.id, s]))
  return plan.levels
    .map((ids, l) => `level ${l}  ${ids.map((id) => stepLabel(byId.get(id) as PlanStep)).join(' | ')}`)
    .join('\n')
}

/**
 * The text `tarn run --dry-run` prints: a header, the ASCII DAG, the scans and the steps by level.
 *
 * @example
 * ```ts
 * io.out(renderPlan(plan))
 * ```
 */
export function renderPlan(plan: PhysicalPlan): string {
  const l = plan.logical
  const models = l.nodes.filter((n) => n.kind === 'model').length
  const expectations = l.nodes.length - models
  const params = Object.entries(plan.params)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ')
  const head = [
    `plan of project ${plan.project}${plan.ref ? ` on ${plan.ref}` : ''} (dry run: nothing is materialised)`,
    `${models} model(s), ${expectations} expectation(s), ${l.tables.length} lake table(s) read, ${plan.levels.length} level(s)`,
  ]
  if (params) head.push(`params: ${params}`)
  if (plan.selection) head.push(`selection: ${plan.selection.join(' ')}`)
  return [
    ...head,
    '',
    'DAG',
    renderDag(plan) || '(empty)',
    '',
    'scans (columns and filters pushed down)',
    renderScans(plan) || '(none)',
    '',
    'steps (levels run in order; the steps of a level run in parallel)',
    renderLevels(plan) || '(none)',
    '',
  ].join('\n')
}

/**
 * The JSON form of a plan (`tarn run --dry-run --json`): plain data, no functions.
 *
 * @example
 * ```ts
 * JSON.stringify(pipelinePlanJson(plan))
 * ```
 */
export function pipelinePlanJson(plan: PhysicalPlan): Record<string, unknown> {
  const l = plan.logical
  return {
    project: plan.project,
    ref: plan.ref,
    params: plan.params,
    selection: plan.selection,
    nodes: l.nodes.map((n) => ({
      kind: n.kind,
      name: n.name,
      file: n.file,
      line: n.line,
      tags: n.tags,
      table: n.table,
      language: n.model?.kind ?? null,
      materialize: n.model?.materialize ?? null,
      partitionedBy: n.model?.partitionedBy.map((p) => p.text) ?? [],
      overwriteFilter: n.model?.overwriteFilter ?? null,
      inputs: n.inputs.map((i) => ({
        alias: i.alias,
        table: i.table,
        source: i.source,
        columns: i.columns,
        filter: i.filter,
        line: i.line,
      })),
      upstream: n.upstream,
    })),
    tables: l.tables,
    edges: l.edges,
    scans: plan.scans,
    steps: plan.steps,
    levels: plan.levels,
  }
}
