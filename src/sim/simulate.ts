import type {
  Assignment,
  ExecutionResult,
  OperatorRef,
  PipelineView,
  Policy,
  Priority,
  SchedulerView,
  Suspension,
} from '../runtime/scheduler/policy.js'
import { isAssignable } from '../runtime/scheduler/policy.js'
import { TarnError } from '../util/errors.js'
import { Container, memoryAt, Op, Pipe, type Plan, Pool } from './cluster.js'
import { arrivalTicks, operatorTicks, peakMemory } from './operator-timing.js'
import type { EngineMode, RawOutcome, SimulateOptions, UtilisationSample } from './outcome.js'
import type { SimParams } from './params.js'
import { DISK_SCAN_GB_SEC } from './scaling.js'
import type { PipelineSpec } from './workload.js'

const NO_PIPES: Pipe[] = []
const NO_RESULTS: ExecutionResult[] = []

/** What the policy decided at one tick. */
interface Decisions {
  readonly suspensions: readonly Suspension[]
  readonly assignments: readonly Assignment[]
}

const NO_DECISIONS: Decisions = { suspensions: [], assignments: [] }

/** One simulation in progress: the cluster, the pipelines that arrived and the statistics gathered so far. */
class Simulation {
  private readonly mode: EngineMode
  private readonly tps: number
  private readonly tl: number
  private readonly maxTicks: number
  private readonly maxJobTicks: number
  private readonly pools: Pool[] = []
  private readonly totalRam: number
  private readonly totalCpu: number
  private readonly specs: readonly PipelineSpec[]
  private readonly arrTicks: number[]
  private readonly pipes = new Map<string, Pipe>()
  private readonly arrivalsBy = zeroByPriority()
  private readonly timeoutsBy = zeroByPriority()
  private readonly latencies: Record<Priority, number[]> = { query: [], interactive: [], batch: [] }
  private readonly containerTicks: number[] = []
  private readonly failureErrorCounts: Record<string, number> = {}
  private readonly samples: UtilisationSample[] = []
  private readonly justCompleted: Pipe[] = []
  private readonly completions: { pipelineId: string; tick: number }[] = []
  private busyCpuTicks = 0
  private outstanding: Pipe[] = []
  private containersCompleted = 0
  private nAssignments = 0
  private nSuspensions = 0
  private nFailures = 0
  private nextContainer = 1
  private policyCalls = 0
  private ticksVisited = 0
  private policyState: unknown
  /** Index of the next pipeline of the workload to arrive. */
  private ap = 0
  /** The tick at which the policy asked to be called again. */
  private wake = Number.POSITIVE_INFINITY

  constructor(
    private readonly params: SimParams,
    workload: SimulateOptions['workload'],
    private readonly policy: Policy,
    mode: EngineMode | undefined,
  ) {
    this.mode = mode ?? 'event'
    this.tps = params.ticksPerSecond
    this.tl = 1.0 / this.tps
    this.maxTicks = Math.trunc(params.duration * this.tps)
    this.maxJobTicks = Math.trunc(params.maxJobSeconds * this.tps)
    for (let i = 0; i < params.numPools; i++)
      this.pools.push(new Pool(i, params.cpusPerPool, params.ramGbPerPool))
    this.totalRam = params.numPools * params.ramGbPerPool
    this.totalCpu = params.numPools * params.cpusPerPool
    this.specs = workload.pipelines
    this.arrTicks = arrivalTicks(this.specs, this.tps)
    this.policyState = policy.init({
      numPools: params.numPools,
      multiOperatorContainers: params.multiOperatorContainers,
      ticksPerSecond: this.tps,
    })
  }

  /**
   * Per tick, as in Eudoxia: arrivals, then the policy (given the previous tick's results), then each pool in order
   * applies suspensions, starts assigned containers, advances suspending and running containers and reports the
   * containers that finished.
   */
  run(): RawOutcome {
    let results: ExecutionResult[] = NO_RESULTS
    let dirty = false
    let t = 0
    while (t < this.maxTicks) {
      this.ticksVisited++
      const arrivals = this.arrive(t)
      const invoke: boolean =
        this.mode === 'tick' || dirty || arrivals.length > 0 || results.length > 0 || t >= this.wake
      const decisions: Decisions = invoke ? this.decide(t, arrivals, results) : NO_DECISIONS
      let changed: boolean = decisions.suspensions.length > 0 || decisions.assignments.length > 0
      let newResults: ExecutionResult[] = NO_RESULTS
      for (const pool of this.pools) {
        const out = this.executePool(pool, t, decisions)
        if (out.changed) changed = true
        if (out.results.length > 0) {
          if (newResults === NO_RESULTS) newResults = []
          newResults.push(...out.results)
        }
      }
      if (newResults.length > 0) this.recordCompletions(t)
      this.recordTimeouts(t)
      if (t % this.tps === 0) this.sample(t)
      results = newResults
      dirty = changed
      if (this.mode === 'tick' || dirty || results.length > 0) t++
      else t = this.skipToNextEvent(t)
    }
    return {
      arrivals: this.arrivalsBy,
      timeouts: this.timeoutsBy,
      latencyTicks: this.latencies,
      containerTicks: this.containerTicks,
      containersCompleted: this.containersCompleted,
      assignments: this.nAssignments,
      suspensions: this.nSuspensions,
      failures: this.nFailures,
      failureErrorCounts: this.failureErrorCounts,
      samples: this.samples,
      completions: this.completions,
      busyCpuTicks: this.busyCpuTicks,
      policyCalls: this.policyCalls,
      ticksVisited: this.ticksVisited,
    }
  }

  /** Admits the pipelines that arrive at tick `t`. */
  private arrive(t: number): Pipe[] {
    const { specs, arrTicks } = this
    if (!(this.ap < specs.length && (arrTicks[this.ap] as number) <= t)) return NO_PIPES
    const arrivals: Pipe[] = []
    while (this.ap < specs.length && (arrTicks[this.ap] as number) <= t) {
      const spec = specs[this.ap] as PipelineSpec
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
      const deadline = this.maxJobTicks > 0 ? t + this.maxJobTicks : Number.POSITIVE_INFINITY
      const pipe = new Pipe(spec.id, spec.priority, t, ops, deadline)
      if (this.pipes.has(spec.id)) throw new TarnError('INVALID_ARGUMENT', `duplicate pipeline id ${spec.id}`)
      this.pipes.set(spec.id, pipe)
      arrivals.push(pipe)
      this.outstanding.push(pipe)
      this.arrivalsBy[spec.priority]++
      this.ap++
    }
    return arrivals
  }

  /** Calls the policy and checks its assignments before anything is applied. */
  private decide(t: number, arrivals: PipelineView[], results: ExecutionResult[]): Decisions {
    this.policyCalls++
    const d = this.policy.decide(this.policyState, this.view(t, arrivals, results))
    this.policyState = d.state
    this.wake = d.wakeAt !== undefined && d.wakeAt > t ? d.wakeAt : Number.POSITIVE_INFINITY
    this.nSuspensions += d.suspensions.length
    this.nAssignments += d.assignments.length
    for (const a of d.assignments) {
      const pool = this.pools[a.pool]
      if (pool === undefined) this.policyError(t, `no pool ${a.pool}`)
      if (!(a.cpu > 0) || !(a.ramGb > 0)) this.policyError(t, 'assignments need positive CPU and RAM')
      if (a.ops.length === 0) this.policyError(t, 'an assignment needs at least one operator')
      if (!this.params.multiOperatorContainers && a.ops.length > 1) {
        this.policyError(t, 'multi_operator_containers is false but an assignment has several operators')
      }
      for (const r of a.ops) {
        const op = this.getOp(r)
        if (!isAssignable(op.state)) {
          this.policyError(t, `operator ${r.pipelineId}#${r.index} is ${op.state}, not assignable`)
        }
        op.state = 'assigned'
      }
    }
    return { suspensions: d.suspensions, assignments: d.assignments }
  }

  /** One pool's tick: suspensions, new containers, suspending and running containers, finished containers. */
  private executePool(pool: Pool, t: number, d: Decisions): { changed: boolean; results: ExecutionResult[] } {
    const hasDecisions = d.suspensions.length > 0 || d.assignments.length > 0
    if (!hasDecisions && pool.suspending.length === 0 && pool.containers.length === 0) {
      return { changed: false, results: NO_RESULTS }
    }
    for (const s of d.suspensions) if (s.pool === pool.id) this.suspend(pool, s, t)
    this.startContainers(pool, d.assignments, t)
    let changed = this.finishSuspensions(pool, t)
    let anyDone = false
    const active = pool.containers
    for (let ci = 0; ci < active.length; ci++) {
      const c = active[ci] as Container
      if (c.nextTick !== t && c.deadline > t) continue
      changed = true
      this.advance(c, t)
      if (c.done) anyDone = true
    }
    return { changed, results: anyDone ? this.collectFinished(pool) : NO_RESULTS }
  }

  private suspend(pool: Pool, s: Suspension, t: number): void {
    const c = pool.containers.find((x) => x.id === s.containerId)
    if (c === undefined || !c.canSuspend)
      this.policyError(t, `container ${s.containerId} cannot be suspended now`)
    const ticks = Math.trunc(c.ramGb / DISK_SCAN_GB_SEC / this.tl)
    for (let j = c.cur; j < c.plans.length; j++) (c.plans[j] as Plan).op.state = 'suspending'
    c.suspendEnd = ticks >= 1 ? t + ticks - 1 : Number.POSITIVE_INFINITY
    pool.containers = pool.containers.filter((x) => x !== c)
    pool.suspending = [...pool.suspending, c]
  }

  private startContainers(pool: Pool, assignments: readonly Assignment[], t: number): void {
    if (assignments.length === 0) return
    let cpuAsked = 0
    let ramAsked = 0
    for (const a of assignments) {
      if (a.pool !== pool.id) continue
      cpuAsked += a.cpu
      ramAsked += a.ramGb
    }
    if (cpuAsked > pool.availCpu || ramAsked > pool.availRamGb) {
      this.policyError(t, `pool ${pool.id} over-allocated`, { cpu: cpuAsked, ram_gb: ramAsked })
    }
    for (const a of assignments) {
      if (a.pool !== pool.id) continue
      const plans: Plan[] = a.ops.map((r) => {
        const op = this.getOp(r)
        const x = operatorTicks(op.spec, a.cpu, a.ramGb, this.tps)
        return { op, pipe: this.getPipe(r.pipelineId), ioTicks: x.ioTicks, total: x.total, oomAt: x.oomAt }
      })
      const deadline = this.getPipe(a.pipelineId).deadline
      const c = new Container(
        `c${this.nextContainer++}`,
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
  }

  /** Releases the containers whose suspension ends at `t`; true when any did. */
  private finishSuspensions(pool: Pool, t: number): boolean {
    if (pool.suspending.length === 0) return false
    let finished = false
    for (const c of pool.suspending) {
      if (c.suspendEnd !== t) continue
      finished = true
      for (let j = c.cur; j < c.plans.length; j++) (c.plans[j] as Plan).op.state = 'pending'
      pool.availCpu += c.cpu
      pool.availRamGb += c.ramGb
      pool.suspended.push(c.id)
    }
    if (finished) pool.suspending = pool.suspending.filter((c) => c.suspendEnd !== t)
    return finished
  }

  /** Frees the resources of the pool's finished containers and reports them. */
  private collectFinished(pool: Pool): ExecutionResult[] {
    const results: ExecutionResult[] = []
    for (const c of pool.containers) {
      if (!c.done) continue
      pool.availCpu += c.cpu
      pool.availRamGb += c.ramGb
      if (c.error === null) this.containersCompleted++
      else {
        this.nFailures++
        this.failureErrorCounts[c.error] = (this.failureErrorCounts[c.error] ?? 0) + 1
      }
      results.push({
        containerId: c.id,
        pool: pool.id,
        cpu: c.cpu,
        ramGb: c.ramGb,
        priority: c.priority,
        ops: c.ops,
        error: c.error,
      })
      this.containerTicks.push(c.elapsed)
      this.busyCpuTicks += c.elapsed * c.cpu
    }
    pool.containers = pool.containers.filter((c) => !c.done)
    return results
  }

  private failFrom(c: Container): void {
    for (let j = c.cur; j < c.plans.length; j++) (c.plans[j] as Plan).op.state = 'failed'
  }

  /** Moves a container through the phases of its operators that fall on tick `t`. */
  private advance(c: Container, t: number): void {
    if (t >= c.deadline) {
      this.failFrom(c)
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
          this.failFrom(c)
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
        this.failFrom(c)
        c.error = 'OOM'
        c.done = true
        c.elapsed = t - c.startTick + 1
      } else {
        plan.op.state = 'completed'
        plan.pipe.completed++
        if (plan.pipe.completed === plan.pipe.operators.length) this.justCompleted.push(plan.pipe)
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

  /** Records the latency of every pipeline whose last operator completed at `t`. */
  private recordCompletions(t: number): void {
    if (this.justCompleted.length === 0) return
    for (const p of this.justCompleted) {
      if (!p.outstanding || p.recorded) continue
      p.recorded = true
      p.outstanding = false
      this.latencies[p.priority].push(t - p.arrivalTick)
      this.completions.push({ pipelineId: p.id, tick: t })
    }
    this.justCompleted.length = 0
    this.outstanding = this.outstanding.filter((p) => p.outstanding)
  }

  /** Once a second (and at the last tick), counts the pipelines past their deadline as timed out. */
  private recordTimeouts(t: number): void {
    if (!(this.maxJobTicks > 0 && (t % this.tps === 0 || t === this.maxTicks - 1))) return
    let any = false
    for (const p of this.outstanding) {
      if (t >= p.deadline && p.completed < p.operators.length) {
        p.outstanding = false
        this.timeoutsBy[p.priority]++
        any = true
      }
    }
    if (any) this.outstanding = this.outstanding.filter((p) => p.outstanding)
  }

  /**
   * The next tick at which anything can happen; the per-second samples of the ticks skipped are taken without
   * visiting them.
   */
  private skipToNextEvent(t: number): number {
    const { tps, maxTicks } = this
    const nextSample = (Math.floor(t / tps) + 1) * tps
    let next = Math.min(maxTicks, this.wake)
    if (this.ap < this.specs.length) next = Math.min(next, this.arrTicks[this.ap] as number)
    if (this.maxJobTicks > 0) next = Math.min(next, nextSample, Math.max(t + 1, maxTicks - 1))
    for (let pi = 0; pi < this.pools.length; pi++) {
      const pool = this.pools[pi] as Pool
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
    for (let s = nextSample; s < next && s < maxTicks; s += tps) this.sample(s)
    return next
  }

  private sample(at: number): void {
    let allocRam = 0
    let allocCpu = 0
    let consumed = 0
    for (let pi = 0; pi < this.pools.length; pi++) {
      const pool = this.pools[pi] as Pool
      allocRam += pool.totalRamGb - pool.availRamGb
      allocCpu += pool.totalCpu - pool.availCpu
      const active = pool.containers
      for (let ci = 0; ci < active.length; ci++) consumed += memoryAt(active[ci] as Container, at, this.tl)
    }
    this.samples.push({
      seconds: at / this.tps,
      cpuPercent: (100 * allocCpu) / this.totalCpu,
      ramAllocatedPercent: (100 * allocRam) / this.totalRam,
      ramConsumedPercent: (100 * consumed) / this.totalRam,
    })
  }

  private view(t: number, arrivals: PipelineView[], results: ExecutionResult[]): SchedulerView {
    return {
      tick: t,
      ticksPerSecond: this.tps,
      pools: this.pools,
      arrivals,
      results,
      pipeline: (id) => this.getPipe(id),
      operator: (r) => this.getOp(r),
    }
  }

  private getPipe(id: string): Pipe {
    const p = this.pipes.get(id)
    if (p === undefined) throw new TarnError('SIM_POLICY_ERROR', `unknown pipeline ${id}`, { pipeline: id })
    return p
  }

  private getOp(r: OperatorRef): Op {
    const op = this.getPipe(r.pipelineId).operators[r.index]
    if (op === undefined)
      throw new TarnError('SIM_POLICY_ERROR', `unknown operator ${r.pipelineId}#${r.index}`)
    return op
  }

  private policyError(tick: number, message: string, extra: Record<string, unknown> = {}): never {
    throw new TarnError('SIM_POLICY_ERROR', `scheduler ${this.policy.name} at tick ${tick}: ${message}`, {
      scheduler: this.policy.name,
      tick,
      ...extra,
    })
  }
}

function zeroByPriority(): Record<Priority, number> {
  return { query: 0, interactive: 0, batch: 0 }
}

/**
 * Runs a simulation. Per tick, as in Eudoxia: arrivals, then the policy (given the previous tick's results), then
 * each pool in order applies suspensions, starts assigned containers, advances suspending and running containers and
 * reports the containers that finished. In `event` mode only ticks where something can happen are visited and the
 * policy is called only when its inputs changed (see the quiescence rule in `policy.ts`); the outcome is identical.
 */
export function simulate(opts: SimulateOptions): RawOutcome {
  return new Simulation(opts.params, opts.workload, opts.policy, opts.mode).run()
}
