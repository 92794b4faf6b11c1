import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { priorityPolicy } from '../src/runtime/scheduler/priority.js'
import { builtinPolicy } from '../src/runtime/scheduler/registry.js'
import { rightSizePolicy } from '../src/runtime/scheduler/right-size.js'
import { generateWorkload } from '../src/sim/generator.js'
import { DEFAULT_PARAMS, loadParams } from '../src/sim/params.js'
import { runSimulation } from '../src/sim/run.js'
import { loadTrace } from '../src/sim/trace.js'

/**
 * One benchmark figure.
 *
 * @example
 * ```ts
 * const r: BenchResult = { name: 'sim default', value: 12, unit: 'ms' }
 * ```
 */
export interface BenchResult {
  name: string
  value: number
  unit: string
  baseline?: string
  /** value / baseline value. */
  ratio?: number
  note?: string
}

function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y)
  return a[Math.floor(a.length / 2)] as number
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/** Eudoxia's own wall time for its default configuration on this machine (measured once, about 8 s). */
const EUDOXIA_DEFAULT_MS = 8000

/**
 * Benchmarks the simulator: Eudoxia's default configuration (600 s at 1000 ticks/s, 8 pools, `priority`) cold (first
 * run in the process, workload generation included) and warm (median of 15), tarn's `right-size` policy on the same
 * workload, and the two Eudoxia regression traces with the event engine and the every-tick engine.
 *
 * @example
 * ```ts
 * for (const r of await benchSim()) console.log(r.name, r.value, r.unit)
 * ```
 */
export async function benchSim(): Promise<BenchResult[]> {
  const out: BenchResult[] = []
  const params = DEFAULT_PARAMS
  const t0 = performance.now()
  const workload = generateWorkload(params)
  const first = runSimulation({ params, workload, policy: priorityPolicy })
  const cold = performance.now() - t0
  out.push({
    name: 'sim: Eudoxia defaults (600 s, 1000 ticks/s, priority), cold',
    value: round(cold),
    unit: 'ms',
    baseline: 'Eudoxia (Python) ~8 s',
    ratio: round(cold / EUDOXIA_DEFAULT_MS, 5),
    note: `${round(EUDOXIA_DEFAULT_MS / cold)}x faster than Eudoxia; ${first.stats.pipelines_created} pipelines, ${first.ticksVisited} of ${params.duration * params.ticksPerSecond} ticks visited, ${first.policyCalls} policy calls; target < 100 ms`,
  })
  const warm: number[] = []
  for (let i = 0; i < 15; i++) {
    const s = performance.now()
    runSimulation({ params, workload, policy: priorityPolicy })
    warm.push(performance.now() - s)
  }
  const w = median(warm)
  out.push({
    name: 'sim: Eudoxia defaults (600 s, 1000 ticks/s, priority), warm median',
    value: round(w, 2),
    unit: 'ms',
    baseline: 'Eudoxia (Python) ~8 s',
    ratio: round(w / EUDOXIA_DEFAULT_MS, 5),
    note: `${round(EUDOXIA_DEFAULT_MS / w)}x faster than Eudoxia`,
  })
  const rs = runSimulation({ params, workload, policy: rightSizePolicy })
  out.push({
    name: 'sim: adjusted latency on the default workload, right-size vs priority',
    value: round(rs.stats.adjusted_latency, 3),
    unit: 's',
    baseline: `priority ${round(first.stats.adjusted_latency, 3)} s`,
    ratio: round(rs.stats.adjusted_latency / first.stats.adjusted_latency, 3),
    note: 'lower is better',
  })
  const ref =
    process.env.TARN_EUDOXIA_REFERENCE ??
    join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'reference', 'eudoxia')
  for (const c of ['naive_defaults_10m', 'priority_defaults_10m']) {
    const dir = `${ref}/${c}`
    if (!existsSync(`${dir}/trace.csv`)) continue
    const p = loadParams(`${dir}/params.toml`)
    const trace = loadTrace(`${dir}/trace.csv`)
    const policy = builtinPolicy(p.schedulerAlgo) ?? priorityPolicy
    const times: number[] = []
    for (let i = 0; i < 5; i++) {
      const s = performance.now()
      runSimulation({ params: p, workload: trace, policy })
      times.push(performance.now() - s)
    }
    const s = performance.now()
    runSimulation({ params: p, workload: trace, policy, mode: 'tick' })
    const tick = performance.now() - s
    out.push({
      name: `sim: Eudoxia regression ${c}, event engine`,
      value: round(median(times), 2),
      unit: 'ms',
      baseline: `tarn every-tick engine ${round(tick)} ms`,
      ratio: round(median(times) / tick, 4),
      note: `${round(tick / median(times))}x fewer milliseconds than visiting every tick; same statistics`,
    })
  }
  return out
}
