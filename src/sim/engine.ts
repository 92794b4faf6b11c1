import type {
  Assignment,
  ContainerView,
  ExecutionResult,
  OperatorEstimate,
  OperatorRef,
  OperatorState,
  OperatorView,
  PipelineView,
  Policy,
  PoolView,
  Priority,
  SchedulerView,
  Suspension,
} from '../runtime/scheduler/policy.js'
import { isAssignable } from '../runtime/scheduler/policy.js'
import { TarnError } from '../util/errors.js'
import type { SimParams } from './params.js'
import { cpuSeconds, DISK_SCAN_GB_SEC } from './scaling.js'
import type { OperatorSpec, PipelineSpec, Workload } from './workload.js'

/**
 * How the engine advances time: `event` jumps from event to event (the default, fast); `tick` visits every tick and
 * calls the policy at each one, as Eudoxia does (slow, for verification).
 *
 * @example
 * ```ts
 * const mode: EngineMode = 'event'
 * ```
 */
export type EngineMode = 'event' | 'tick'

/**
 * One sample of cluster utilisation (taken every simulated second).
 *
 * @example
 * ```ts
 * const s: UtilisationSample = { seconds: 1, cpuPercent: 10, ramAllocatedPercent: 20, ramConsumedPercent: 5 }
 * ```
 */
export interface UtilisationSample {
  readonly seconds: number
  readonly cpuPercent: number
  readonly ramAllocatedPercent: number
  readonly ramConsumedPercent: number
}

/**
 * Raw outcome of an engine run, before statistics are derived.
 *
 * @example
 * ```ts
 * const raw = simulate({ params, workload, policy })
 * raw.latencyTicks.query.length
 * ```
 */
export interface RawOutcome {
  readonly arrivals: Record<Priority, number>
  readonly timeouts: Record<Priority, number>
  readonly latencyTicks: Record<Priority, number[]>
  readonly containerTicks: number[]
  readonly containersCompleted: number
  readonly assignments: number
  readonly suspensions: number
  readonly failures: number
  readonly failureErrorCounts: Record<string, number>
  readonly samples: UtilisationSample[]
  /** Number of times the policy was called. */
  readonly policyCalls: number
  /** Number of ticks the engine visited. */
  readonly ticksVisited: number
}

/**
 * What to simulate.
 *
 * @example
 * ```ts
 * simulate({ params: DEFAULT_PARAMS, workload, policy: priorityPolicy, mode: 'event' })
 * ```
 */
export interface SimulateOptions {
  readonly params: SimParams
  readonly workload: Workload
  readonly policy: Policy
  readonly mode?: EngineMode
}

class Op implements OperatorView {
  state: OperatorState = 'pending'
  constructor(
    readonly index: number,
    readonly name: string,
    readonly parents: readonly number[],
    readonly estimate: OperatorEstimate,
    readonly spec: OperatorSpec,
  ) {}
}

class Pipe implements PipelineView {
  completed = 0
  outstanding = true
  recorded = false
  constructor(
    readonly id: string,
    readonly priority: Priority,
    readonly arrivalTick: number,
    readonly operators: Op[],
    readonly deadline: number,
  ) {}
}

interface Plan {
  readonly op: Op
  readonly pipe: Pipe
  readonly ioTicks: number
  readonly total: number
  /** Offset (from the op's first tick) of the tick it runs out of memory at, or -1. */
  readonly oomAt: number
}

type Phase = 'start' | 'end' | 'oom'

class Container implements ContainerView {
  canSuspend = false
  cur = 0
  curStart: number
  phase: Phase = 'start'
  nextTick: number
  done = false
  error: string | null = null
  elapsed = 0
  suspendEnd = Number.POSITIVE_INFINITY
  constructor(
    readonly id: string,
    readonly pool: number,
    readonly cpu: number,
    readonly ramGb: number,
    readonly priority: Priority,
    readonly ops: readonly OperatorRef[],
    readonly plans: readonly Plan[],
    readonly startTick: number,
    readonly deadline: number,
  ) {
    this.curStart = startTick
    this.nextTick = startTick
  }
}

class Pool implements PoolView {
  availCpu: number
  availRamGb: number
  containers: Container[] = []
  suspending: Container[] = []
  suspended: string[] = []
  constructor(
    readonly id: number,
    readonly totalCpu: number,
    readonly totalRamGb: number,
  ) {
    this.availCpu = totalCpu
    this.availRamGb = totalRamGb
  }
}

/**
 * Eudoxia's arrival tick of each trace pipeline: the first tick at or after `arrival_seconds / tick_length` (computed
 * in floating point exactly as Eudoxia does), never before the previous pipeline of the file.
 *
 * @example
 * ```ts
 * arrivalTicks([{ id: 'p1', priority: 'batch', arrivalSeconds: 9.96, operators: [] }], 100) // [997]
 * ```
 */
export function arrivalTicks(pipelines: readonly PipelineSpec[], ticksPerSecond: number): number[] {
  const tickLength = 1.0 / ticksPerSecond
  const out: number[] = []
  let prev = 0
  for (const p of pipelines) {
    const t = p.arrivalTick ?? Math.max(0, Math.ceil(p.arrivalSeconds / tickLength))
    prev = Math.max(prev, t)
    out.push(prev)
  }
  return out
}

function peakMemory(o: OperatorSpec): number {
  return o.memoryGb ?? o.storageReadGb
}

/**
 * The execution plan of one operator in a container with `cpu` CPUs and `ramGb` RAM at `ticksPerSecond`: ticks of IO,
 * total ticks (at least 1), and the offset of the tick that runs out of memory (-1 if none). Memory grows by
 * 20 GB/s while reading (unless the operator has a fixed need) and sits at the peak during the CPU phase.
 *
 * @example
 * ```ts
 * operatorTicks(op, 6, 25, 100) // { ioTicks: 275, total: 375, oomAt: 125 }
 * ```
 */
export function operatorTicks(
  o: OperatorSpec,
  cpu: number,
  ramGb: number,
  ticksPerSecond: number,
): { ioTicks: number; total: number; oomAt: number } {
  const tl = 1.0 / ticksPerSecond
  const ioTicks = Math.trunc(o.storageReadGb / DISK_SCAN_GB_SEC / tl)
  const cpuTicks = Math.trunc(cpuSeconds(o.cpuScaling, cpu, o.baselineCpuSeconds) / tl)
  const total = Math.max(1, ioTicks + cpuTicks)
  let oomAt = -1
  if (o.memoryGb !== null) {
    if (o.memoryGb > ramGb) oomAt = 0
  } else {
    const mem = (i: number): number => (i + 1) * tl * DISK_SCAN_GB_SEC
    if (ioTicks > 0 && mem(ioTicks - 1) > ramGb) {
      let lo = 0
      let hi = ioTicks - 1
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (mem(mid) > ramGb) hi = mid
        else lo = mid + 1
      }
      oomAt = lo
    } else if (o.storageReadGb > ramGb && ioTicks < total) {
      oomAt = ioTicks
    }
  }
  return { ioTicks, total, oomAt }
}

function memoryAt(c: Container, t: number, tl: number): number {
  if (c.phase === 'start') {
    const prev = c.plans[c.cur - 1]
    return prev === undefined ? 0 : peakMemory(prev.op.spec)
  }
  const plan = c.plans[c.cur] as Plan
  const i = t - c.curStart
  if (i < plan.ioTicks) return plan.op.spec.memoryGb ?? (i + 1) * tl * DISK_SCAN_GB_SEC
  return peakMemory(plan.op.spec)
}

const NO_PIPES: Pipe[] = []
const NO_RESULTS: ExecutionResult[] = []

function policyError(
  policy: Policy,
  tick: number,
  message: string,
  extra: Record<string, unknown> = {},
): never {
  throw new TarnError('SIM_POLICY_ERROR', `scheduler ${policy.name} at tick ${tick}: ${message}`, {
    scheduler: policy.name,
    tick,
    ...extra,
  })
}

/**
 * Runs a simulation. Per tick, as in Eudoxia: arrivals, then the policy (given the previous tick's results), then
 * each pool in order applies suspensions, starts assigned containers, advances suspending and running containers and
 * reports the containers that finished. In `event` mode only ticks where something can happen are visited and the
 * policy is called only when its inputs changed (see the quiescence rule in `policy.ts`); the outcome is identical.
 *
 * @example
 * ```ts
 * const raw = simulate({ params: DEFAULT_PARAMS, workload: generateWorkload(DEFAULT_PARAMS), policy: priorityPolicy })
 * ```
 */
export function simulate(opts: SimulateOptions): RawOutcome {
  const { params, workload, policy } = opts
  const mode = opts.mode ?? 'event'
  const tps = params.ticksPerSecond
  const tl = 1.0 / tps
  const maxTicks = Math.trunc(params.duration * tps)
  const maxJobTicks = Math.trunc(params.maxJobSeconds * tps)
  const pools: Pool[] = []
  for (let i = 0; i < params.numPools; i++) pools.push(new Pool(i, params.cpusPerPool, params.ramGbPerPool))
  const totalRam = params.numPools * params.ramGbPerPool
  const totalCpu = params.numPools * params.cpusPerPool

  const specs = workload.pipelines
  const arrTicks = arrivalTicks(specs, tps)
  const pipes = new Map<string, Pipe>()
  const zero = (): Record<Priority, number> => ({ query: 0, interactive: 0, batch: 0 })
  const arrivalsBy = zero()
  const timeoutsBy = zero()
  const latencies: Record<Priority, number[]> = { query: [], interactive: [], batch: [] }
  const containerTicks: number[] = []
  const failureErrorCounts: Record<string, number> = {}
  const samples: UtilisationSample[] = []
  const justCompleted: Pipe[] = []
  let outstanding: Pipe[] = []
  let containersCompleted = 0
  let nAssignments = 0
  let nSuspensions = 0
  let nFailures = 0
  let nextContainer = 1
  let policyCalls = 0
  let ticksVisited = 0
  let state = policy.init({
    numPools: params.numPools,
    multiOperatorContainers: params.multiOperatorContainers,
    ticksPerSecond: tps,
  })

  const getPipe = (id: string): Pipe => {
    const p = pipes.get(id)
    if (p === undefined) throw new TarnError('SIM_POLICY_ERROR', `unknown pipeline ${id}`, { pipeline: id })
    return p
  }
  const getOp = (r: OperatorRef): Op => {
    const op = getPipe(r.pipelineId).operators[r.index]
    if (op === undefined)
      throw new TarnError('SIM_POLICY_ERROR', `unknown operator ${r.pipelineId}#${r.index}`)
    return op
  }
  const failFrom = (c: Container): void => {
    for (let j = c.cur; j < c.plans.length; j++) (c.plans[j] as Plan).op.state = 'failed'
  }

  const advance = (c: Container, t: number): void => {
    if (t >= c.deadline) {
      failFrom(c)
      c.error = 'TIMEOUT'
      c.done = true
      c.elapsed = t - c.startTick
      return
    }
    while (!c.done && c.nextTick === t) {
      const plan = c.plans[c.cur] as Plan
      if (c.phase === 'start') {
        const ops = plan.pipe.operators
        if (!plan.op.parents.every((p) => ops[p]?.state === 'completed')) {
          failFrom(c)
          c.error = 'DEPENDENCY'
          c.done = true
          c.elapsed = t - c.startTick + 1
          return
        }
        plan.op.state = 'running'
        c.canSuspend = false
        if (plan.oomAt >= 0) {
          c.phase = 'oom'
          c.nextTick = c.curStart + plan.oomAt
        } else {
          c.phase = 'end'
          c.nextTick = c.curStart + plan.total - 1
        }
      } else if (c.phase === 'oom') {
        failFrom(c)
        c.error = 'OOM'
        c.done = true
        c.elapsed = t - c.startTick + 1
      } else {
        plan.op.state = 'completed'
        plan.pipe.completed++
        if (plan.pipe.completed === plan.pipe.operators.length) justCompleted.push(plan.pipe)
        if (c.cur === c.plans.length - 1) {
          c.done = true
          c.elapsed = t - c.startTick + 1
        } else {
          c.canSuspend = true
          c.cur++
          c.curStart = t + 1
          c.phase = 'start'
          c.nextTick = t + 1
        }
      }
    }
  }

  const view = (t: number, arrivals: PipelineView[], results: ExecutionResult[]): SchedulerView => ({
    tick: t,
    ticksPerSecond: tps,
    pools,
    arrivals,
    results,
    pipeline: getPipe,
    operator: getOp,
  })

  const sample = (at: number): void => {
    let allocRam = 0
    let allocCpu = 0
    let consumed = 0
    for (let pi = 0; pi < pools.length; pi++) {
      const pool = pools[pi] as Pool
      allocRam += pool.totalRamGb - pool.availRamGb
      allocCpu += pool.totalCpu - pool.availCpu
      const active = pool.containers
      for (let ci = 0; ci < active.length; ci++) consumed += memoryAt(active[ci] as Container, at, tl)
    }
    samples.push({
      seconds: at / tps,
      cpuPercent: (100 * allocCpu) / totalCpu,
      ramAllocatedPercent: (100 * allocRam) / totalRam,
      ramConsumedPercent: (100 * consumed) / totalRam,
    })
  }

  let results: ExecutionResult[] = NO_RESULTS
  let dirty = false
  let wake = Number.POSITIVE_INFINITY
  let ap = 0
  let t = 0
  while (t < maxTicks) {
    ticksVisited++
    let arrivals: Pipe[] = NO_PIPES
    if (ap < specs.length && (arrTicks[ap] as number) <= t) arrivals = []
    while (ap < specs.length && (arrTicks[ap] as number) <= t) {
      const spec = specs[ap] as PipelineSpec
      const ops = spec.operators.map(
        (o, i) =>
          new Op(
            i,
            o.name,
            o.parents,
            {
              memoryGb: peakMemory(o),
              storageReadGb: o.storageReadGb,
              baselineCpuSeconds: o.baselineCpuSeconds,
              cpuScaling: o.cpuScaling,
            },
            o,
          ),
      )
      const deadline = maxJobTicks > 0 ? t + maxJobTicks : Number.POSITIVE_INFINITY
      const pipe = new Pipe(spec.id, spec.priority, t, ops, deadline)
      if (pipes.has(spec.id)) throw new TarnError('INVALID_ARGUMENT', `duplicate pipeline id ${spec.id}`)
      pipes.set(spec.id, pipe)
      arrivals.push(pipe)
      outstanding.push(pipe)
      arrivalsBy[spec.priority]++
      ap++
    }
    const invoke = mode === 'tick' || dirty || arrivals.length > 0 || results.length > 0 || t >= wake
    let changed = false
    let suspensions: readonly Suspension[] = []
    let assignments: readonly Assignment[] = []
    if (invoke) {
      policyCalls++
      const d = policy.decide(state, view(t, arrivals, results))
      state = d.state
      wake = d.wakeAt !== undefined && d.wakeAt > t ? d.wakeAt : Number.POSITIVE_INFINITY
      suspensions = d.suspensions
      assignments = d.assignments
      nSuspensions += suspensions.length
      nAssignments += assignments.length
      if (suspensions.length > 0 || assignments.length > 0) changed = true
      for (const a of assignments) {
        const pool = pools[a.pool]
        if (pool === undefined) policyError(policy, t, `no pool ${a.pool}`)
        if (!(a.cpu > 0) || !(a.ramGb > 0)) policyError(policy, t, 'assignments need positive CPU and RAM')
        if (a.ops.length === 0) policyError(policy, t, 'an assignment needs at least one operator')
        if (!params.multiOperatorContainers && a.ops.length > 1) {
          policyError(policy, t, 'multi_operator_containers is false but an assignment has several operators')
        }
        for (const r of a.ops) {
          const op = getOp(r)
          if (!isAssignable(op.state)) {
            policyError(policy, t, `operator ${r.pipelineId}#${r.index} is ${op.state}, not assignable`)
          }
          op.state = 'assigned'
        }
      }
    }

    // executor
    let newResults: ExecutionResult[] = NO_RESULTS
    const hasDecisions = suspensions.length > 0 || assignments.length > 0
    for (let pi = 0; pi < pools.length; pi++) {
      const pool = pools[pi] as Pool
      if (!hasDecisions && pool.suspending.length === 0 && pool.containers.length === 0) continue
      if (suspensions.length > 0)
        for (const s of suspensions) {
          if (s.pool !== pool.id) continue
          const c = pool.containers.find((x) => x.id === s.containerId)
          if (c === undefined || !c.canSuspend)
            policyError(policy, t, `container ${s.containerId} cannot be suspended now`)
          const ticks = Math.trunc(c.ramGb / DISK_SCAN_GB_SEC / tl)
          for (let j = c.cur; j < c.plans.length; j++) (c.plans[j] as Plan).op.state = 'suspending'
          c.suspendEnd = ticks >= 1 ? t + ticks - 1 : Number.POSITIVE_INFINITY
          pool.containers = pool.containers.filter((x) => x !== c)
          pool.suspending = [...pool.suspending, c]
        }
      let cpuAsked = 0
      let ramAsked = 0
      if (assignments.length > 0)
        for (const a of assignments) {
          if (a.pool !== pool.id) continue
          cpuAsked += a.cpu
          ramAsked += a.ramGb
        }
      if (cpuAsked > pool.availCpu || ramAsked > pool.availRamGb) {
        policyError(policy, t, `pool ${pool.id} over-allocated`, { cpu: cpuAsked, ram_gb: ramAsked })
      }
      if (assignments.length > 0)
        for (const a of assignments) {
          if (a.pool !== pool.id) continue
          const plans: Plan[] = a.ops.map((r) => {
            const op = getOp(r)
            const x = operatorTicks(op.spec, a.cpu, a.ramGb, tps)
            return { op, pipe: getPipe(r.pipelineId), ioTicks: x.ioTicks, total: x.total, oomAt: x.oomAt }
          })
          const deadline = getPipe(a.pipelineId).deadline
          const c = new Container(
            `c${nextContainer++}`,
            pool.id,
            a.cpu,
            a.ramGb,
            a.priority,
            a.ops,
            plans,
            t,
            deadline,
          )
          pool.availCpu -= a.cpu
          pool.availRamGb -= a.ramGb
          pool.containers.push(c)
        }
      if (pool.suspending.length > 0) {
        let finished = false
        for (const c of pool.suspending) {
          if (c.suspendEnd !== t) continue
          finished = true
          changed = true
          for (let j = c.cur; j < c.plans.length; j++) (c.plans[j] as Plan).op.state = 'pending'
          pool.availCpu += c.cpu
          pool.availRamGb += c.ramGb
          pool.suspended.push(c.id)
        }
        if (finished) pool.suspending = pool.suspending.filter((c) => c.suspendEnd !== t)
      }
      let anyDone = false
      const active = pool.containers
      for (let ci = 0; ci < active.length; ci++) {
        const c = active[ci] as Container
        if (c.nextTick !== t && c.deadline > t) continue
        changed = true
        advance(c, t)
        if (c.done) anyDone = true
      }
      if (anyDone) {
        if (newResults === NO_RESULTS) newResults = []
        for (const c of pool.containers) {
          if (!c.done) continue
          pool.availCpu += c.cpu
          pool.availRamGb += c.ramGb
          if (c.error === null) containersCompleted++
          else {
            nFailures++
            failureErrorCounts[c.error] = (failureErrorCounts[c.error] ?? 0) + 1
          }
          newResults.push({
            containerId: c.id,
            pool: pool.id,
            cpu: c.cpu,
            ramGb: c.ramGb,
            priority: c.priority,
            ops: c.ops,
            error: c.error,
          })
          containerTicks.push(c.elapsed)
        }
        pool.containers = pool.containers.filter((c) => !c.done)
      }
    }

    if (newResults.length > 0 && justCompleted.length > 0) {
      for (const p of justCompleted) {
        if (!p.outstanding || p.recorded) continue
        p.recorded = true
        p.outstanding = false
        latencies[p.priority].push(t - p.arrivalTick)
      }
      justCompleted.length = 0
      outstanding = outstanding.filter((p) => p.outstanding)
    }
    if (maxJobTicks > 0 && (t % tps === 0 || t === maxTicks - 1)) {
      let any = false
      for (const p of outstanding) {
        if (t >= p.deadline && p.completed < p.operators.length) {
          p.outstanding = false
          timeoutsBy[p.priority]++
          any = true
        }
      }
      if (any) outstanding = outstanding.filter((p) => p.outstanding)
    }
    if (t % tps === 0) sample(t)
    results = newResults
    dirty = changed
    if (mode === 'tick' || dirty || results.length > 0) {
      t++
      continue
    }
    const nextSample = (Math.floor(t / tps) + 1) * tps
    let next = Math.min(maxTicks, wake)
    if (ap < specs.length) next = Math.min(next, arrTicks[ap] as number)
    if (maxJobTicks > 0) next = Math.min(next, nextSample, Math.max(t + 1, maxTicks - 1))
    for (let pi = 0; pi < pools.length; pi++) {
      const pool = pools[pi] as Pool
      const active = pool.containers
      for (let ci = 0; ci < active.length; ci++) {
        const c = active[ci] as Container
        if (c.nextTick < next) next = c.nextTick
        if (c.deadline < next) next = c.deadline
      }
      const susp = pool.suspending
      for (let ci = 0; ci < susp.length; ci++) {
        const c = susp[ci] as Container
        if (c.suspendEnd < next) next = c.suspendEnd
      }
    }
    next = Math.max(t + 1, next)
    // nothing changes before `next`: take the per-second samples of the skipped ticks without visiting them
    for (let s = nextSample; s < next && s < maxTicks; s += tps) sample(s)
    t = next
  }

  return {
    arrivals: arrivalsBy,
    timeouts: timeoutsBy,
    latencyTicks: latencies,
    containerTicks,
    containersCompleted,
    assignments: nAssignments,
    suspensions: nSuspensions,
    failures: nFailures,
    failureErrorCounts,
    samples,
    policyCalls,
    ticksVisited,
  }
}
