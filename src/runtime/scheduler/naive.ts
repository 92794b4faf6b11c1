import type {
  Assignment,
  Decision,
  OperatorRef,
  PipelineView,
  Policy,
  PolicyConfig,
  SchedulerView,
} from './policy.js'
import { isAssignable } from './policy.js'

/**
 * State of the naive policy: the FIFO of pipeline ids still waiting for work.
 */
export interface NaiveState {
  readonly queue: readonly string[]
  readonly multi: boolean
}

function parentsComplete(p: PipelineView, index: number): boolean {
  const op = p.operators[index]
  return op?.parents.every((i) => p.operators[i]?.state === 'completed') === true
}

/**
 * The assignable operators of a pipeline: all of them when containers may hold several operators, else the first
 * one whose parents are complete.
 */
export function assignableOps(p: PipelineView, multi: boolean, requireParents = !multi): OperatorRef[] {
  const out: OperatorRef[] = []
  for (const op of p.operators) {
    if (!isAssignable(op.state)) continue
    if (requireParents && !parentsComplete(p, op.index)) continue
    out.push({ pipelineId: p.id, index: op.index })
  }
  return out
}

/**
 * Eudoxia's `naive` policy: one pipeline at a time per pool, given the whole pool, in FIFO order; no retry (a
 * pipeline with a failed operator is dropped), no preemption.
 */
export const naivePolicy: Policy<NaiveState> = {
  name: 'naive',
  description: 'FIFO, one pipeline per pool with all its resources, no retry',
  init: (config: PolicyConfig): NaiveState => ({ queue: [], multi: config.multiOperatorContainers }),
  decide(state: NaiveState, view: SchedulerView): Decision<NaiveState> {
    const queue = [...state.queue]
    for (const p of view.arrivals) queue.push(p.id)
    const assignments: Assignment[] = []
    const requeue: string[] = []
    let head = 0
    for (const pool of view.pools) {
      if (pool.availCpu <= 0 || pool.availRamGb <= 0) continue
      while (head < queue.length) {
        const id = queue[head++] as string
        const p = view.pipeline(id)
        const failed = p.operators.some((o) => o.state === 'failed')
        const done = p.operators.every((o) => o.state === 'completed')
        if (done || failed) continue
        requeue.push(id)
        const ops = state.multi ? assignableOps(p, true, false) : assignableOps(p, false, true).slice(0, 1)
        if (ops.length === 0) continue
        assignments.push({
          pool: pool.id,
          cpu: pool.availCpu,
          ramGb: pool.availRamGb,
          priority: p.priority,
          pipelineId: id,
          ops,
        })
        break
      }
    }
    const next = queue.slice(head).concat(requeue)
    return { state: { queue: next, multi: state.multi }, suspensions: [], assignments }
  },
}
