import type { Priority } from '../runtime/scheduler/policy.js'
import type { RawOutcome, UtilisationSample } from './outcome.js'
import type { SimParams } from './params.js'
import type { PipelineStats } from './stats.js'
import { adjustedLatency, mean, percentile, pipelineStats } from './stats.js'

/**
 * The statistics of a run. The first twelve keys are Eudoxia's (`expected.json`), with the same meaning; the others
 * are tarn's additions.
 */
export interface SimStats {
  readonly pipelines_created: number
  /** Containers that finished without error. */
  readonly containers_completed: number
  /** Successful containers per simulated second. */
  readonly throughput: number
  /** 99th percentile of the run time of every finished container (successful or not), in seconds. */
  readonly p99_latency: number
  readonly assignments: number
  readonly suspensions: number
  /** Containers that finished with an error. */
  readonly failures: number
  readonly failure_error_counts: Readonly<Record<string, number>>
  readonly pipelines_all: PipelineStats
  readonly pipelines_query: PipelineStats
  readonly pipelines_interactive: PipelineStats
  readonly pipelines_batch: PipelineStats
  /** Priority-weighted mean latency divided by the completion rate (lower is better). */
  readonly adjusted_latency: number
  /** Mean over per-second samples of RAM allocated to containers, percent of the cluster. */
  readonly mean_memory_allocated_percent: number
  /** Mean over per-second samples of RAM actually used by containers, percent of the cluster. */
  readonly mean_memory_consumed_percent: number
  readonly scheduler: string
  readonly duration: number
  readonly ticks_per_second: number
}

/**
 * A full simulation report: statistics plus what the plot needs.
 */
export interface SimReport {
  readonly stats: SimStats
  readonly latencySeconds: Readonly<Record<Priority, readonly number[]>>
  readonly samples: readonly UtilisationSample[]
  readonly policyCalls: number
  readonly ticksVisited: number
}

/**
 * Derives Eudoxia's statistics (and tarn's extras) from a raw engine outcome.
 */
export function buildStats(raw: RawOutcome, params: SimParams, scheduler: string): SimStats {
  const tps = params.ticksPerSecond
  const by = (p: Priority): PipelineStats =>
    pipelineStats(raw.arrivals[p], raw.timeouts[p], raw.latencyTicks[p], tps)
  const q = by('query')
  const i = by('interactive')
  const b = by('batch')
  const all = pipelineStats(
    raw.arrivals.query + raw.arrivals.interactive + raw.arrivals.batch,
    raw.timeouts.query + raw.timeouts.interactive + raw.timeouts.batch,
    [...raw.latencyTicks.query, ...raw.latencyTicks.interactive, ...raw.latencyTicks.batch],
    tps,
  )
  const errors: Record<string, number> = {}
  for (const k of Object.keys(raw.failureErrorCounts).sort()) errors[k] = raw.failureErrorCounts[k] as number
  return {
    pipelines_created: all.arrival_count,
    containers_completed: raw.containersCompleted,
    throughput: raw.containersCompleted / params.duration,
    p99_latency: percentile(raw.containerTicks, 99) / tps,
    assignments: raw.assignments,
    suspensions: raw.suspensions,
    failures: raw.failures,
    failure_error_counts: errors,
    pipelines_all: all,
    pipelines_query: q,
    pipelines_interactive: i,
    pipelines_batch: b,
    adjusted_latency: adjustedLatency({ query: q, interactive: i, batch: b }),
    mean_memory_allocated_percent: mean(raw.samples.map((s) => s.ramAllocatedPercent)),
    mean_memory_consumed_percent: mean(raw.samples.map((s) => s.ramConsumedPercent)),
    scheduler,
    duration: params.duration,
    ticks_per_second: tps,
  }
}

/**
 * Serialises statistics as one JSON document (2-space indent, fixed key order; NaN and infinities become null).
 */
export function statsToJson(stats: SimStats | readonly SimStats[]): string {
  return `${JSON.stringify(stats, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`
}

function fmt(n: number, digits = 2): string {
  if (Number.isNaN(n)) return '-'
  if (!Number.isFinite(n)) return 'inf'
  return Number.isInteger(n) ? String(n) : n.toFixed(digits)
}

function table(rows: string[][]): string {
  const widths: number[] = []
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length)
    })
  }
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '))
    .join('\n')
}

/**
 * A human-readable table of one run's statistics.
 */
export function formatStatsTable(s: SimStats): string {
  const head = [
    `scheduler ${s.scheduler}, ${fmt(s.duration)} s at ${s.ticks_per_second} ticks/s`,
    `pipelines created ${s.pipelines_created}, containers completed ${s.containers_completed}, throughput ${fmt(s.throughput, 4)}/s`,
    `assignments ${s.assignments}, suspensions ${s.suspensions}, failures ${s.failures}${
      Object.keys(s.failure_error_counts).length > 0
        ? ` (${Object.entries(s.failure_error_counts)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')})`
        : ''
    }`,
    `container p99 ${fmt(s.p99_latency)} s, memory allocated ${fmt(s.mean_memory_allocated_percent, 1)}%, consumed ${fmt(s.mean_memory_consumed_percent, 1)}%`,
    `adjusted latency ${fmt(s.adjusted_latency, 3)} s`,
    '',
  ]
  const rows: string[][] = [['pipelines', 'arrived', 'completed', 'timed out', 'mean s', 'p99 s']]
  for (const [name, p] of [
    ['all', s.pipelines_all],
    ['query', s.pipelines_query],
    ['interactive', s.pipelines_interactive],
    ['batch', s.pipelines_batch],
  ] as const) {
    rows.push([
      name,
      String(p.arrival_count),
      String(p.completion_count),
      String(p.timeout_count),
      fmt(p.mean_latency_seconds),
      fmt(p.p99_latency_seconds),
    ])
  }
  return `${head.join('\n')}${table(rows)}\n`
}

/**
 * A side-by-side table comparing several runs (one column per scheduler).
 */
export function formatCompareTable(runs: readonly SimStats[]): string {
  const line = (label: string, f: (s: SimStats) => string): string[] => [label, ...runs.map(f)]
  const rows: string[][] = [
    line('scheduler', (s) => s.scheduler),
    line('adjusted latency s', (s) => fmt(s.adjusted_latency, 3)),
    line(
      'completed / arrived',
      (s) => `${s.pipelines_all.completion_count}/${s.pipelines_all.arrival_count}`,
    ),
    line('mean latency s', (s) => fmt(s.pipelines_all.mean_latency_seconds)),
    line('p99 latency s', (s) => fmt(s.pipelines_all.p99_latency_seconds)),
    line('query mean s', (s) => fmt(s.pipelines_query.mean_latency_seconds)),
    line('interactive mean s', (s) => fmt(s.pipelines_interactive.mean_latency_seconds)),
    line('batch mean s', (s) => fmt(s.pipelines_batch.mean_latency_seconds)),
    line('timeouts', (s) => String(s.pipelines_all.timeout_count)),
    line('containers completed', (s) => String(s.containers_completed)),
    line('throughput /s', (s) => fmt(s.throughput, 4)),
    line('assignments', (s) => String(s.assignments)),
    line('suspensions', (s) => String(s.suspensions)),
    line('failures', (s) => String(s.failures)),
    line('memory allocated %', (s) => fmt(s.mean_memory_allocated_percent, 1)),
    line('memory consumed %', (s) => fmt(s.mean_memory_consumed_percent, 1)),
  ]
  return `${table(rows)}\n`
}
