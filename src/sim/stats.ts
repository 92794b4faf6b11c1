import type { Priority } from '../runtime/scheduler/policy.js'

/**
 * The q-th percentile of values with numpy's default (`linear`) interpolation; NaN when empty.
 */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const a = [...values].sort((x, y) => x - y)
  const q01 = q / 100
  const idx = a.length * q01 + (1 - q01) - 1
  const lo = Math.floor(idx)
  const hi = Math.min(lo + 1, a.length - 1)
  const t = idx - lo
  const x = a[lo] as number
  const y = a[hi] as number
  const d = y - x
  return t >= 0.5 ? y - d * (1 - t) : x + d * t
}

/**
 * Arithmetic mean with pairwise summation (as numpy); NaN when empty.
 */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sum = (lo: number, hi: number): number => {
    if (hi - lo <= 8) {
      let s = 0
      for (let i = lo; i < hi; i++) s += values[i] as number
      return s
    }
    const mid = lo + Math.floor((hi - lo) / 2)
    return sum(lo, mid) + sum(mid, hi)
  }
  return sum(0, values.length) / values.length
}

/**
 * Statistics of one category of pipelines. Latencies are of completed pipelines only.
 */
export interface PipelineStats {
  readonly arrival_count: number
  readonly completion_count: number
  readonly timeout_count: number
  readonly mean_latency_seconds: number
  readonly p99_latency_seconds: number
}

/**
 * Builds pipeline statistics from arrivals, timeouts and latencies in ticks.
 */
export function pipelineStats(
  arrivals: number,
  timeouts: number,
  latencyTicks: readonly number[],
  ticksPerSecond: number,
): PipelineStats {
  return {
    arrival_count: arrivals,
    completion_count: latencyTicks.length,
    timeout_count: timeouts,
    mean_latency_seconds: mean(latencyTicks) / ticksPerSecond,
    p99_latency_seconds: percentile(latencyTicks, 99) / ticksPerSecond,
  }
}

/**
 * Eudoxia's adjusted latency: the mean latency weighted by priority (query 10, interactive 5, batch 1), divided by
 * the overall completion rate. Infinity when nothing completed. Lower is better.
 */
export function adjustedLatency(
  byPriority: Readonly<Record<Priority, PipelineStats>>,
  weights: Readonly<Record<Priority, number>> = { query: 10, interactive: 5, batch: 1 },
): number {
  let wsum = 0
  let wcount = 0
  let arrivals = 0
  let completions = 0
  for (const p of ['query', 'interactive', 'batch'] as const) {
    const s = byPriority[p]
    if (s.completion_count > 0) {
      const w = weights[p] * s.completion_count
      wsum += w * s.mean_latency_seconds
      wcount += w
    }
    arrivals += s.arrival_count
    completions += s.completion_count
  }
  if (completions === 0) return Number.POSITIVE_INFINITY
  return wsum / wcount / (completions / arrivals)
}
