import { describe, expect, it } from 'vitest'
import type { Policy } from '../../src/runtime/scheduler/policy.js'
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
