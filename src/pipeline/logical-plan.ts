import { TarnError } from '../util/errors.js'
import type { ExpectationDef, InputDef, ModelDef, ParameterValue, Project } from './project.js'
import { projectError } from './project-error.js'

/**
 * Where an input's rows come from: another model of the run, or a lake table at the run's ref. `self` marks a
 * model reading its own table; `fromModel` a model left out by `--select`, read from its materialised table.
 */
export type InputSource =
  | { readonly kind: 'model'; readonly model: string }
  | {
      readonly kind: 'table'
      readonly table: string
      readonly self: boolean
      readonly fromModel: string | null
    }

/**
 * An input resolved to its source.
 */
export interface LogicalInput extends InputDef {
  readonly source: InputSource
}

/**
 * A node of the logical plan: a model or an expectation, with its inputs resolved.
 *
 * @example
 * ```ts
 * plan.nodes.filter((n: LogicalNode) => n.kind === 'model').map((n) => n.name)
 * ```
 */
export interface LogicalNode {
  readonly kind: 'model' | 'expectation'
  readonly name: string
  readonly file: string
  readonly line: number
  readonly tags: readonly string[]
  readonly inputs: readonly LogicalInput[]
  /** Models this node reads, in input order. */
  readonly upstream: readonly string[]
  /** Table key the model writes (`namespace.name`); `null` for expectations. */
  readonly table: string | null
  readonly model: ModelDef | null
  readonly expectation: ExpectationDef | null
}

/**
 * An edge of the DAG: from a lake table key (holds a dot) or a model name, to a node.
 */
export interface LogicalEdge {
  readonly from: string
  readonly to: string
  readonly kind: 'table' | 'model'
}

/**
 * The logical plan of a project: nodes in topological order, the lake tables read and the edges.
 *
 * @example
 * ```ts
 * const plan: LogicalPlan = buildLogicalPlan(project)
 * plan.tables // ['tarn.trips', 'tarn.zones']
 * ```
 */
export interface LogicalPlan {
  readonly project: string
  readonly dir: string
  readonly namespace: string
  readonly params: Readonly<Record<string, ParameterValue>>
  readonly nodes: readonly LogicalNode[]
  /** Lake tables read, sorted. */
  readonly tables: readonly string[]
  readonly edges: readonly LogicalEdge[]
  /** The `--select` it was narrowed by, if any. */
  readonly selection: readonly string[] | null
}

function resolveInput(project: Project, owner: string, ownerTable: string | null, i: InputDef): InputSource {
  const parts = i.table.split('.')
  const ns = parts.length === 2 ? (parts[0] as string) : null
  const name = parts[parts.length - 1] as string
  const model = project.models.find((m) => m.name.toLowerCase() === name.toLowerCase())
  const key = `${ns ?? project.namespace}.${name}`
  if (model && (ns === null || ns === model.namespace)) {
    // A model cannot read itself: its own name means the lake table (the shadowing check reports it when that is
    // the very table the model writes).
    if (model.name === owner) return { kind: 'table', table: key, self: key === ownerTable, fromModel: null }
    return { kind: 'model', model: model.name }
  }
  return { kind: 'table', table: key, self: ownerTable !== null && key === ownerTable, fromModel: null }
}

/**
 * Builds the logical plan: resolves every input to a model or a lake table (a bare name is a model when one has
 * that name, else a table of the project's namespace), checks expectations read no expectation, and orders the
 * nodes topologically. A cycle is a `MODEL_CYCLE` error naming every model on it.
 *
 * @example
 * ```ts
 * const plan = buildLogicalPlan(await loadProject('examples/taxi'))
 * plan.nodes.map((n) => n.name)
 * ```
 */
export function buildLogicalPlan(project: Project): LogicalPlan {
  const expectationNames = new Set(project.expectations.map((e) => e.name.toLowerCase()))
  const nodes: LogicalNode[] = []
  const checkInputs = (owner: string, file: string, inputs: readonly InputDef[]) => {
    for (const i of inputs) {
      const name = i.table.split('.').pop() as string
      if (!i.table.includes('.') && expectationNames.has(name.toLowerCase()))
        throw projectError(
          'PROJECT_INVALID',
          file,
          i.line,
          `${owner} reads ${i.table}, which is an expectation: expectations produce no table`,
          { model: owner, table: i.table },
        )
      if (
        i.table.split('.').length > 2 ||
        !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(i.table)
      )
        throw projectError(
          'PROJECT_INVALID',
          file,
          i.line,
          `${owner}: invalid table name ${JSON.stringify(i.table)}`,
          {
            model: owner,
            table: i.table,
          },
        )
    }
  }
  for (const m of project.models) {
    checkInputs(m.name, m.file, m.inputs)
    const table = `${m.namespace}.${m.name}`
    const inputs = m.inputs.map((i) =>
      Object.freeze({ ...i, source: resolveInput(project, m.name, table, i) }),
    )
    nodes.push(node('model', m.name, m.file, m.line, m.tags, inputs, table, m, null))
  }
  for (const e of project.expectations) {
    checkInputs(e.name, e.file, e.inputs)
    const inputs = e.inputs.map((i) =>
      Object.freeze({ ...i, source: resolveInput(project, e.name, null, i) }),
    )
    nodes.push(node('expectation', e.name, e.file, e.line, e.tags, inputs, null, null, e))
  }
  return finish(project, nodes, null)
}

function node(
  kind: 'model' | 'expectation',
  name: string,
  file: string,
  line: number,
  tags: readonly string[],
  inputs: readonly LogicalInput[],
  table: string | null,
  model: ModelDef | null,
  expectation: ExpectationDef | null,
): LogicalNode {
  const upstream = [...new Set(inputs.flatMap((i) => (i.source.kind === 'model' ? [i.source.model] : [])))]
  return Object.freeze({
    kind,
    name,
    file,
    line,
    tags,
    inputs: Object.freeze(inputs),
    upstream: Object.freeze(upstream),
    table,
    model,
    expectation,
  })
}

function finish(
  project: Pick<Project, 'name' | 'dir' | 'namespace' | 'params'>,
  nodes: readonly LogicalNode[],
  selection: readonly string[] | null,
): LogicalPlan {
  const ordered = topologicalOrder(nodes)
  const tables = [
    ...new Set(
      ordered.flatMap((n) => n.inputs.flatMap((i) => (i.source.kind === 'table' ? [i.source.table] : []))),
    ),
  ].sort()
  const edges: LogicalEdge[] = []
  for (const n of ordered) {
    const seen = new Set<string>()
    for (const i of n.inputs) {
      const from = i.source.kind === 'model' ? i.source.model : i.source.table
      if (seen.has(from)) continue
      seen.add(from)
      edges.push(Object.freeze({ from, to: n.name, kind: i.source.kind }))
    }
  }
  return Object.freeze({
    project: project.name,
    dir: project.dir,
    namespace: project.namespace,
    params: project.params,
    nodes: Object.freeze(ordered),
    tables: Object.freeze(tables),
    edges: Object.freeze(edges),
    selection: selection && Object.freeze([...selection]),
  })
}

/**
 * Finds a cycle among models, as the list of model names on it (first one not repeated), or `null`.
 */
export function findCycle(nodes: readonly LogicalNode[]): string[] | null {
  const byName = new Map(nodes.map((n) => [n.name, n]))
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (name: string): string[] | null => {
    state.set(name, 'open')
    stack.push(name)
    for (const up of [...(byName.get(name)?.upstream ?? [])].sort()) {
      const s = state.get(up)
      if (s === 'open') return stack.slice(stack.indexOf(up)).reverse()
      if (s === undefined) {
        const c = visit(up)
        if (c) return c
      }
    }
    stack.pop()
    state.set(name, 'done')
    return null
  }
  for (const n of [...byName.keys()].sort()) {
    if (state.has(n)) continue
    const c = visit(n)
    if (c) {
      // Start at the smallest name so the message is stable; the order is "reads" order reversed: a feeds b.
      const i = c.indexOf([...c].sort()[0] as string)
      return [...c.slice(i), ...c.slice(0, i)]
    }
  }
  return null
}

function topologicalOrder(nodes: readonly LogicalNode[]): LogicalNode[] {
  const cycle = findCycle(nodes)
  if (cycle) {
    const byName = new Map(nodes.map((n) => [n.name, n]))
    const steps = cycle.map((name, k) => {
      const next = cycle[(k + 1) % cycle.length] as string
      const n = byName.get(next) as LogicalNode
      const input = n.inputs.find((i) => i.source.kind === 'model' && i.source.model === name)
      return { model: next, reads: name, file: n.file, line: input?.line ?? n.line }
    })
    const first = steps[0] as (typeof steps)[number]
    throw new TarnError(
      'MODEL_CYCLE',
      `${first.file}:${first.line}: models form a cycle: ${[...cycle, cycle[0]].join(' -> ')} (${steps
        .map((s) => `${s.model} reads ${s.reads} at ${s.file}:${s.line}`)
        .join('; ')})`,
      { file: first.file, line: first.line, model: first.model, cycle, references: steps },
    )
  }
  const byName = new Map(nodes.map((n) => [n.name, n]))
  const done = new Set<string>()
  const out: LogicalNode[] = []
  const remaining = [...nodes].sort((a, b) => a.name.localeCompare(b.name))
  while (remaining.length > 0) {
    const k = remaining.findIndex((n) => n.upstream.every((u) => done.has(u) || !byName.has(u)))
    const n = remaining.splice(Math.max(k, 0), 1)[0] as LogicalNode
    done.add(n.name)
    out.push(n)
  }
  return out
}

/**
 * Narrows a plan to a `--select`ion (the union of its items): `name`, `name+` (and descendants), `+name` (and
 * ancestors), `+name+`, `tag:daily` (also with `+`). Items may be separated by spaces or commas. An expectation is
 * kept when selected itself or when every model it reads is selected. A selected model reading a model left out
 * reads that model's materialised table instead (an error when that model is not materialised).
 *
 * @example
 * ```ts
 * selectPlan(plan, ['trips_clean+']).nodes.map((n) => n.name)
 * ```
 */
export function selectPlan(plan: LogicalPlan, selectors: readonly string[]): LogicalPlan {
  const items = selectors.flatMap((s) => s.split(/[\s,]+/)).filter((s) => s.length > 0)
  if (items.length === 0) return plan
  const byName = new Map(plan.nodes.map((n) => [n.name.toLowerCase(), n]))
  const downstream = new Map<string, string[]>()
  for (const n of plan.nodes)
    for (const u of n.upstream) downstream.set(u, [...(downstream.get(u) ?? []), n.name])
  const picked = new Set<string>()
  const walk = (start: string, next: (n: string) => readonly string[]) => {
    const todo = [start]
    while (todo.length > 0) {
      const x = todo.pop() as string
      for (const y of next(x)) {
        const yn = byName.get(y.toLowerCase())
        if (yn?.kind === 'expectation' || picked.has(y)) continue
        picked.add(y)
        todo.push(y)
      }
    }
  }
  for (const item of items) {
    const m = /^(\+?)(.+?)(\+?)$/.exec(item) as RegExpExecArray
    const [, up, body, down] = m as unknown as [string, string, string, string]
    let roots: LogicalNode[]
    if (body.startsWith('tag:')) {
      const tag = body.slice(4)
      roots = plan.nodes.filter((n) => n.tags.includes(tag))
      if (roots.length === 0)
        throw new TarnError('INVALID_SELECTION', `--select ${item}: no model or expectation has tag ${tag}`, {
          selector: item,
        })
    } else {
      const n = byName.get(body.toLowerCase())
      if (!n)
        throw new TarnError(
          'INVALID_SELECTION',
          `--select ${item}: no model or expectation named ${body} (known: ${plan.nodes.map((x) => x.name).join(', ')})`,
          { selector: item },
        )
      roots = [n]
    }
    for (const r of roots) {
      picked.add(r.name)
      if (up) walk(r.name, (x) => byName.get(x.toLowerCase())?.upstream ?? [])
      if (down) walk(r.name, (x) => downstream.get(x) ?? [])
    }
  }
  for (const n of plan.nodes) {
    if (n.kind !== 'expectation' || picked.has(n.name)) continue
    const models = n.upstream
    if (models.length > 0 && models.every((u) => picked.has(u))) picked.add(n.name)
  }
  const nodes = plan.nodes
    .filter((n) => picked.has(n.name))
    .map((n) => {
      if (n.upstream.every((u) => picked.has(u))) return n
      const inputs = n.inputs.map((i): LogicalInput => {
        if (i.source.kind !== 'model' || picked.has(i.source.model)) return i
        const up = byName.get(i.source.model.toLowerCase()) as LogicalNode
        if (up.model?.materialize === 'NONE')
          throw projectError(
            'INVALID_SELECTION',
            n.file,
            i.line,
            `--select leaves out ${up.name}, which ${n.name} reads, and ${up.name} is not materialised: select it too (e.g. +${n.name})`,
            { model: n.name, reads: up.name },
          )
        return Object.freeze({
          ...i,
          source: { kind: 'table' as const, table: up.table as string, self: false, fromModel: up.name },
        })
      })
      return node(n.kind, n.name, n.file, n.line, n.tags, inputs, n.table, n.model, n.expectation)
    })
  return finish(
    { name: plan.project, dir: plan.dir, namespace: plan.namespace, params: plan.params },
    nodes,
    items,
  )
}
