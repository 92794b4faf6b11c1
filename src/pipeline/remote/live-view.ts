import { DEFAULT_MEMORY_MB } from '../../runtime/resources.js'
import type {
  ContainerView,
  ExecutionResult,
  OperatorRef,
  OperatorState,
  OperatorView,
  PipelineView,
  PoolView,
  Priority,
  SchedulerView,
} from '../../runtime/scheduler/policy.js'

/** A live worker of a pool, from its row (what it registered and renews with its heartbeats). */
export interface LiveWorker {
  readonly id: string
  readonly cpus: number
  readonly memoryMb: number
}

/** A node of a running remote run, from `tarn_tasks`. */
export interface LiveTask {
  readonly task: string
  readonly dependsOn: readonly string[]
  /** `waiting` (inputs not done), `queued`, `running`, `done` or `failed`. */
  readonly state: string
  /** Its memory: declared by the model, or the size of its out-of-memory retry; null for the default. */
  readonly memoryMb: number | null
  /** The pg-boss job that delivers it while `queued`. */
  readonly queueJob: string | null
  /** How its latest finished execution ended when it did not succeed (`oom`, `preempted`, `lost`), with its memory. */
  readonly lastFailure: { readonly outcome: string; readonly memoryMb: number } | null
}

/** A running remote run of a pool, with its nodes. */
export interface LiveRun {
  readonly jobId: string
  readonly priority: Priority
  /** Submission time in ms. */
  readonly submittedAt: number
  readonly tasks: readonly LiveTask[]
}

/** A node execution in progress on a worker. */
export interface LiveExecution {
  readonly jobId: string
  readonly task: string
  readonly attempt: number
  readonly worker: string
  readonly priority: Priority
  readonly memoryMb: number
}

/** The queue state of one pool, as plain data: what a scheduling step decides on. */
export interface LiveState {
  /** Time of the step in ms. */
  readonly now: number
  readonly workers: readonly LiveWorker[]
  readonly runs: readonly LiveRun[]
  readonly running: readonly LiveExecution[]
}

/**
 * The queue state with the queued nodes of `jobIds` shown as taken (running, on no worker): another worker holds
 * those runs this moment, so a step leaves them to it. Their running executions still use their workers' capacity.
 */
export function withRunsTaken(state: LiveState, jobIds: ReadonlySet<string>): LiveState {
  if (jobIds.size === 0) return state
  return {
    ...state,
    runs: state.runs.map((r) =>
      jobIds.has(r.jobId)
        ? {
            ...r,
            tasks: r.tasks.map((t) =>
              t.state === 'queued' ? { ...t, state: 'running', lastFailure: null } : t,
            ),
          }
        : r,
    ),
  }
}

/** A scheduler view of the queue state, with the maps back from the policy's indexes to workers and nodes. */
export interface LiveView {
  readonly view: SchedulerView
  /** Worker ids by pool index. */
  readonly workers: readonly LiveWorker[]
  /** The task name of an operator. */
  task(ref: OperatorRef): LiveTask
  /** The execution of a container id. */
  execution(containerId: string): LiveExecution | undefined
}

/** The container id of a node execution (`job/task/attempt`). */
export function containerId(e: { jobId: string; task: string; attempt: number }): string {
  return `${e.jobId}/${e.task}/${e.attempt}`
}

/** A node's memory in MB (its declared or retry size, else the default). */
export function taskMemoryMb(t: LiveTask): number {
  return t.memoryMb ?? DEFAULT_MEMORY_MB
}

const OPERATOR_STATE: Readonly<Record<string, OperatorState>> = {
  waiting: 'pending',
  queued: 'pending',
  running: 'running',
  done: 'completed',
  failed: 'failed',
}

/** The tasks of a run in topological order (inputs first; ties by name), so operator indexes are stable. */
function topological(tasks: readonly LiveTask[]): LiveTask[] {
  const out: LiveTask[] = []
  const placed = new Set<string>()
  const names = new Set(tasks.map((t) => t.task))
  const rest = [...tasks].sort((a, b) => a.task.localeCompare(b.task))
  while (rest.length > 0) {
    const i = rest.findIndex((t) => t.dependsOn.every((d) => placed.has(d) || !names.has(d)))
    const next = rest.splice(i === -1 ? 0 : i, 1)[0] as LiveTask
    out.push(next)
    placed.add(next.task)
  }
  return out
}

/**
 * Builds the policy's snapshot of one pool from its queue state: pools are the live workers (`self`, the worker that
 * steps, first, so that on ties the policy keeps a node on the worker asking for one; then by id) with
 * their CPUs and memory, less what their running executions use (one CPU and the execution's memory each);
 * containers are the running executions; every running run is an arrival (a step is decided from scratch, so every
 * worker computes the same decisions from the same state) with its nodes as operators in topological order; results
 * are the failed executions (out of memory, preempted) of the nodes waiting to run again, which size their retry
 * (a node queued again after running out of memory is a `failed` operator, as the contract's retry path has it).
 */
export function buildLiveView(state: LiveState, self?: string): LiveView {
  const workers = [...state.workers].sort(
    (a, b) => Number(b.id === self) - Number(a.id === self) || a.id.localeCompare(b.id),
  )
  const poolOf = new Map(workers.map((w, i) => [w.id, i]))
  const pipelines = new Map<string, PipelineView>()
  const taskByRef = new Map<string, LiveTask>()
  const indexOf = new Map<string, number>()
  for (const run of [...state.runs].sort(
    (a, b) => a.submittedAt - b.submittedAt || a.jobId.localeCompare(b.jobId),
  )) {
    const ordered = topological(run.tasks)
    const index = new Map(ordered.map((t, i) => [t.task, i]))
    const operators: OperatorView[] = ordered.map((t, i) => {
      taskByRef.set(`${run.jobId}#${i}`, t)
      indexOf.set(`${run.jobId}#${t.task}`, i)
      return {
        index: i,
        name: t.task,
        parents: t.dependsOn.flatMap((d) => (index.has(d) ? [index.get(d) as number] : [])),
        state: t.lastFailure?.outcome === 'oom' ? 'failed' : (OPERATOR_STATE[t.state] ?? 'pending'),
        estimate: {
          memoryGb: taskMemoryMb(t) / 1024,
          storageReadGb: 0,
          baselineCpuSeconds: 1,
          cpuScaling: 'const',
        },
      }
    })
    pipelines.set(run.jobId, {
      id: run.jobId,
      priority: run.priority,
      arrivalTick: run.submittedAt,
      operators,
    })
  }
  const executions = new Map<string, LiveExecution>()
  const containers = new Map<number, ContainerView[]>()
  for (const e of state.running) {
    const pool = poolOf.get(e.worker)
    const index = indexOf.get(`${e.jobId}#${e.task}`)
    if (pool === undefined || index === undefined) continue
    const id = containerId(e)
    executions.set(id, e)
    const list = containers.get(pool) ?? []
    list.push({
      id,
      pool,
      cpu: 1,
      ramGb: e.memoryMb / 1024,
      priority: e.priority,
      ops: [{ pipelineId: e.jobId, index }],
      canSuspend: true,
    })
    containers.set(pool, list)
  }
  const pools: PoolView[] = workers.map((w, i) => {
    const list = containers.get(i) ?? []
    return {
      id: i,
      totalCpu: w.cpus,
      totalRamGb: w.memoryMb / 1024,
      availCpu: Math.max(0, w.cpus - list.length),
      availRamGb: Math.max(0, w.memoryMb / 1024 - list.reduce((s, c) => s + c.ramGb, 0)),
      containers: list,
      suspending: [],
      suspended: [],
    }
  })
  const results: ExecutionResult[] = []
  for (const p of pipelines.values()) {
    for (const op of p.operators) {
      const t = taskByRef.get(`${p.id}#${op.index}`) as LiveTask
      if (t.state !== 'queued' || t.lastFailure === null) continue
      results.push({
        containerId: `${p.id}/${t.task}/failed`,
        pool: 0,
        cpu: 1,
        ramGb: t.lastFailure.memoryMb / 1024,
        priority: p.priority,
        ops: [{ pipelineId: p.id, index: op.index }],
        error: t.lastFailure.outcome === 'oom' ? 'OOM' : null,
      })
    }
  }
  const view: SchedulerView = {
    tick: state.now,
    ticksPerSecond: 1000,
    pools,
    arrivals: [...pipelines.values()],
    results,
    pipeline: (id) => {
      const p = pipelines.get(id)
      if (!p) throw new Error(`unknown pipeline ${id}`)
      return p
    },
    operator: (ref) => {
      const op = pipelines.get(ref.pipelineId)?.operators[ref.index]
      if (!op) throw new Error(`unknown operator ${ref.pipelineId}#${ref.index}`)
      return op
    },
  }
  return {
    view,
    workers,
    task: (ref) => {
      const t = taskByRef.get(`${ref.pipelineId}#${ref.index}`)
      if (!t) throw new Error(`unknown operator ${ref.pipelineId}#${ref.index}`)
      return t
    },
    execution: (id) => executions.get(id),
  }
}
