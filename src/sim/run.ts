import type { Policy } from '../runtime/scheduler/policy.js'
import type { EngineMode } from './outcome.js'
import type { SimParams } from './params.js'
import type { SimReport } from './report.js'
import { buildStats } from './report.js'
import { simulate } from './simulate.js'
import type { Workload } from './workload.js'

/**
 * Simulates a workload under a policy and derives the report (statistics, latencies by priority, utilisation).
 */
export function runSimulation(opts: {
  params: SimParams
  workload: Workload
  policy: Policy
  mode?: EngineMode
}): SimReport {
  const raw = simulate({
    params: opts.params,
    workload: opts.workload,
    policy: opts.policy,
    mode: opts.mode ?? 'event',
  })
  const tps = opts.params.ticksPerSecond
  return {
    stats: buildStats(raw, opts.params, opts.policy.name),
    latencySeconds: {
      query: raw.latencyTicks.query.map((x) => x / tps),
      interactive: raw.latencyTicks.interactive.map((x) => x / tps),
      batch: raw.latencyTicks.batch.map((x) => x / tps),
    },
    samples: raw.samples,
    policyCalls: raw.policyCalls,
    ticksVisited: raw.ticksVisited,
  }
}
