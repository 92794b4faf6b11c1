import type { CpuScaling, Priority } from '../runtime/scheduler/policy.js'

/**
 * One operator of a pipeline: an IO phase reading `storageReadGb` from storage, then a CPU phase.
 */
export interface OperatorSpec {
  readonly name: string
  /** Indexes of parent operators in the pipeline's operator list (which is topological). */
  readonly parents: readonly number[]
  readonly baselineCpuSeconds: number
  readonly cpuScaling: CpuScaling
  /** Fixed memory use in GB, or null when memory grows with the data read (up to `storageReadGb`). */
  readonly memoryGb: number | null
  readonly storageReadGb: number
}

/**
 * A pipeline: a DAG of operators arriving at some time with a priority.
 */
export interface PipelineSpec {
  readonly id: string
  readonly priority: Priority
  /** Arrival time in seconds (a trace replays it with Eudoxia's tick rounding). */
  readonly arrivalSeconds: number
  /** Exact arrival tick when known (generated workloads); else derived from `arrivalSeconds`. */
  readonly arrivalTick?: number
  /** Operators in topological (breadth-first from the roots) order. */
  readonly operators: readonly OperatorSpec[]
}

/**
 * A workload: pipelines in arrival order.
 */
export interface Workload {
  readonly source: 'trace' | 'generated'
  readonly pipelines: readonly PipelineSpec[]
}

/**
 * Reorders a DAG's nodes breadth-first from its roots (in insertion order), a node coming only after all its
 * parents: the order Eudoxia iterates a pipeline's operators in. Returns the permutation (new position → old index).
 */
export function topologicalOrder(parents: readonly (readonly number[])[]): number[] {
  const n = parents.length
  const children: number[][] = Array.from({ length: n }, () => [])
  const roots: number[] = []
  parents.forEach((ps, i) => {
    if (ps.length === 0) roots.push(i)
    for (const p of ps) children[p]?.push(i)
  })
  const returned = new Set<number>()
  const queue = [...roots]
  const order: number[] = []
  while (queue.length > 0) {
    const cur = queue.shift() as number
    returned.add(cur)
    order.push(cur)
    for (const c of children[cur] ?? []) {
      if (!returned.has(c) && (parents[c] ?? []).every((p) => returned.has(p))) queue.push(c)
    }
  }
  return order
}

/**
 * Rebuilds operators in topological order, remapping parent indexes.
 */
export function inTopologicalOrder(ops: readonly OperatorSpec[]): OperatorSpec[] {
  const order = topologicalOrder(ops.map((o) => o.parents))
  const newIndex = new Map<number, number>()
  order.forEach((old, i) => {
    newIndex.set(old, i)
  })
  return order.map((old) => {
    const o = ops[old] as OperatorSpec
    return { ...o, parents: o.parents.map((p) => newIndex.get(p) as number) }
  })
}
