import { describe, expect, it } from 'vitest'
import type { Assignment, Policy } from '../../src/runtime/scheduler/policy.js'
import { erasePolicy } from '../../src/runtime/scheduler/policy.js'
import { builtinPolicy } from '../../src/runtime/scheduler/registry.js'
import { generateWorkload } from '../../src/sim/generator.js'
import type { SimParams } from '../../src/sim/params.js'
import { DEFAULT_PARAMS } from '../../src/sim/params.js'
import { statsToJson } from '../../src/sim/report.js'
import { runSimulation } from '../../src/sim/run.js'

const base: SimParams = { ...DEFAULT_PARAMS, duration: 120, ticksPerSecond: 100 }

const cases: [string, SimParams][] = [
  ['priority on the defaults', { ...base }],
  [
    'naive on one big pool',
    { ...base, schedulerAlgo: 'naive', numPools: 1, cpusPerPool: 64, ramGbPerPool: 500 },
  ],
  [
    'priority under overload, with preemption',
    { ...base, numPools: 1, waitingSecondsMean: 2, numPipelines: 6, randomSeed: 3 },
  ],
  ['priority-pool on two pools', { ...base, schedulerAlgo: 'priority-pool', numPools: 2, randomSeed: 5 }],
  [
    'right-size on branching DAGs with fixed memory needs',
    {
      ...base,
      schedulerAlgo: 'right-size',
      dagLinearProb: 0.25,
      dagBranchInProb: 0.25,
      dagBranchOutProb: 0.25,
      dagDiamondProb: 0.25,
      fixedMemoryProb: 0.5,
      randomSeed: 11,
    },
  ],
  [
    'priority with one operator per container and timeouts',
    { ...base, multiOperatorContainers: false, maxJobSeconds: 30, waitingSecondsMean: 4, randomSeed: 9 },
  ],
]

describe('event-driven engine', () => {
  for (const [name, params] of cases) {
    it(`equals the every-tick engine: ${name}`, () => {
      const workload = generateWorkload(params)
      const policy = builtinPolicy(params.schedulerAlgo) as Policy
      const event = runSimulation({ params, workload, policy, mode: 'event' })
      const tick = runSimulation({ params, workload, policy, mode: 'tick' })
      expect(statsToJson(event.stats)).toBe(statsToJson(tick.stats))
      expect(event.samples).toEqual(tick.samples)
      expect(event.stats.pipelines_all.completion_count).toBeGreaterThan(0)
      expect(event.ticksVisited).toBeLessThan(tick.ticksVisited)
    })
  }

  it('exercises suspensions and timeouts in the cases above', () => {
    const [, overload] = cases[2] as [string, SimParams]
    const r = runSimulation({
      params: overload,
      workload: generateWorkload(overload),
      policy: builtinPolicy('priority') as Policy,
    })
    expect(r.stats.suspensions).toBeGreaterThan(0)
    const [, timed] = cases[5] as [string, SimParams]
    const t = runSimulation({
      params: timed,
      workload: generateWorkload(timed),
      policy: builtinPolicy('priority') as Policy,
    })
    expect(t.stats.pipelines_all.timeout_count).toBeGreaterThan(0)
  })
})

interface DelayState {
  readonly waiting: readonly string[]
}

/** Holds every pipeline for 5 simulated seconds, then runs it whole in 64 GB: time-based, so it needs wakeAt. */
const delayPolicy: Policy<DelayState> = {
  name: 'delay',
  init: () => ({ waiting: [] }),
  decide(state, view) {
    const waiting = [...state.waiting, ...view.arrivals.map((p) => p.id)]
    const free = view.pools.map((p) => ({ cpu: p.availCpu, ram: p.availRamGb }))
    const keep: string[] = []
    const assignments: Assignment[] = []
    let wakeAt = Number.POSITIVE_INFINITY
    for (const id of waiting) {
      const p = view.pipeline(id)
      const due = p.arrivalTick + 5 * view.ticksPerSecond
      const pool = free.findIndex((f) => f.cpu >= 4 && f.ram >= 64)
      if (view.tick < due || pool === -1) {
        keep.push(id)
        if (view.tick < due) wakeAt = Math.min(wakeAt, due)
        continue
      }
      free[pool]!.cpu -= 4
      free[pool]!.ram -= 64
      const ops = p.operators.map((o) => ({ pipelineId: id, index: o.index }))
      assignments.push({ pool, cpu: 4, ramGb: 64, priority: p.priority, pipelineId: id, ops })
    }
    return {
      state: { waiting: keep },
      suspensions: [],
      assignments,
      ...(Number.isFinite(wakeAt) ? { wakeAt } : {}),
    }
  },
}

describe('time-based policies', () => {
  it('are woken at the tick they ask for, so both engines agree', () => {
    const params = { ...base, randomSeed: 21 }
    const workload = generateWorkload(params)
    const policy = erasePolicy(delayPolicy)
    const event = runSimulation({ params, workload, policy, mode: 'event' })
    const tick = runSimulation({ params, workload, policy, mode: 'tick' })
    expect(statsToJson(event.stats)).toBe(statsToJson(tick.stats))
    expect(event.stats.pipelines_all.completion_count).toBeGreaterThan(0)
    expect(event.stats.pipelines_query.mean_latency_seconds).toBeGreaterThanOrEqual(5)
  })
})
