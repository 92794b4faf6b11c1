import type { Policy, Priority } from '../runtime/scheduler/policy.js'
import { TarnError } from '../util/errors.js'
import type { RecordedJobs, RecordedRun } from './job-trace.js'
import { jobsToTrace, landing, nodesEnd } from './job-trace.js'
import type { SimStats } from './report.js'
import { buildStats } from './report.js'
import { simulate } from './simulate.js'
import type { Workload } from './workload.js'

/**
 * One side of a replay (what really happened, or what the simulator says would): when each run landed (seconds after
 * the trace's time 0), the runs in completion order, the time the last one landed and the utilisation (busy
 * worker-slot seconds — nodes and landings — over available worker-slot seconds until then).
 */
export interface ReplaySide {
  readonly completions: readonly { readonly id: string; readonly seconds: number }[]
  readonly completionOrder: readonly string[]
  readonly makespanSeconds: number
  readonly busySeconds: number
  readonly availableSeconds: number
  readonly utilisation: number
}

/**
 * How far the simulation is from the real run: Spearman's rank correlation of the completion orders (1: same order),
 * the largest distance a run moved between them, simulated minus real utilisation, simulated over real makespan,
 * and the runs the simulation did not complete.
 */
export interface ReplayDifferences {
  readonly rankCorrelation: number
  readonly maxRankDisplacement: number
  readonly utilisationDelta: number
  readonly makespanRatio: number
  readonly unfinished: readonly string[]
}

/**
 * The replay of a lake's job records in the simulator, next to what really happened.
 */
export interface ReplayReport {
  readonly source: RecordedJobs['source']
  readonly policy: string
  /** The wall-clock time (ms since the epoch) of second 0. */
  readonly epochMs: number
  readonly cluster: {
    readonly workers: number
    readonly cpusPerWorker: number
    readonly memoryMbPerWorker: number
    readonly pools: readonly string[]
  }
  readonly trace: Workload
  /** The dispatch overhead (seconds) every operator of the trace includes (see `dispatchOverheadMs`). */
  readonly dispatchSeconds: number
  readonly skipped: readonly { readonly id: string; readonly reason: string }[]
  readonly real: ReplaySide
  readonly simulated: ReplaySide
  readonly differences: ReplayDifferences
  readonly stats: SimStats
}

function side(
  completions: { id: string; seconds: number }[],
  arrival: ReadonlyMap<string, number>,
  busySeconds: number,
  slots: (end: number) => number,
): ReplaySide {
  const sorted = [...completions].sort(
    (a, b) => a.seconds - b.seconds || (arrival.get(a.id) ?? 0) - (arrival.get(b.id) ?? 0),
  )
  const makespanSeconds = sorted.length === 0 ? 0 : (sorted[sorted.length - 1] as { seconds: number }).seconds
  const availableSeconds = slots(makespanSeconds)
  return {
    completions: sorted,
    completionOrder: sorted.map((c) => c.id),
    makespanSeconds,
    busySeconds,
    availableSeconds,
    utilisation: availableSeconds > 0 ? busySeconds / availableSeconds : 0,
  }
}

/**
 * Spearman's rank correlation of two orders of the same items (1 when there are fewer than two) and the largest
 * difference of an item's rank between them.
 */
export function compareOrders(
  a: readonly string[],
  b: readonly string[],
): { rankCorrelation: number; maxRankDisplacement: number } {
  const rankB = new Map(b.map((id, i) => [id, i]))
  const common = a.filter((id) => rankB.has(id))
  const inB = b.filter((id) => common.includes(id))
  const rb = new Map(inB.map((id, i) => [id, i]))
  const n = common.length
  let d2 = 0
  let max = 0
  common.forEach((id, i) => {
    const d = i - (rb.get(id) as number)
    d2 += d * d
    max = Math.max(max, Math.abs(d))
  })
  return { rankCorrelation: n < 2 ? 1 : 1 - (6 * d2) / (n * (n * n - 1)), maxRankDisplacement: max }
}

/**
 * Replays recorded runs in the simulator under `policy` on a cluster shaped like the workers that ran them
 * ({@link jobsToTrace}) and compares the simulated completion order and utilisation with the recorded ones.
 * `JOB_NOT_FOUND` when no run can be replayed.
 */
export function replayJobs(jobs: RecordedJobs, policy: Policy): ReplayReport {
  const t = jobsToTrace(jobs, policy.name)
  if (t.workload.pipelines.length === 0) {
    throw new TarnError(
      'JOB_NOT_FOUND',
      t.skipped.length === 0
        ? 'no run jobs to replay in this lake (in the time asked for)'
        : `no complete run to replay: ${t.skipped.length} run(s) left out (${t.skipped[0]?.reason})`,
      { skipped: t.skipped.length },
    )
  }
  const raw = simulate({ params: t.params, workload: t.workload, policy, mode: 'event' })
  const tps = t.params.ticksPerSecond
  const arrival = new Map(t.workload.pipelines.map((p, i) => [p.id, i]))
  const included = jobs.runs.filter((r) => arrival.has(r.id))
  const epoch = t.epochMs

  // what really happened: a run is complete when it landed (or, when it has no landing, when its last node ended)
  const realDone = included.map((r: RecordedRun) => ({
    id: r.id,
    seconds: ((landing(r)?.end ?? nodesEnd(r)) - epoch) / 1000,
  }))
  const realEnd = Math.max(...realDone.map((c) => c.seconds))
  let realBusy = 0
  const busy = (start: number, end: number): void => {
    const from = Math.max(0, (start - epoch) / 1000)
    const to = Math.min(realEnd, (end - epoch) / 1000)
    if (to > from) realBusy += to - from
  }
  for (const r of included) {
    for (const n of r.nodes) for (const e of n.executions) busy(e.startedAt, e.finishedAt)
    const land = landing(r)
    if (land !== null) busy(land.start, land.end)
  }
  const real = side(realDone, arrival, realBusy, (end) =>
    jobs.workers.reduce(
      (s, w) => s + w.cpus * Math.max(0, end - Math.max(0, (w.startedAt - epoch) / 1000)),
      0,
    ),
  )

  const simDone = raw.completions.map((c) => ({ id: c.pipelineId, seconds: (c.tick + 1) / tps }))
  const totalCpu = t.params.numPools * t.params.cpusPerPool
  // busy means running a node or a landing on both sides: the dispatch overhead in each operator is not
  const ops = t.workload.pipelines.flatMap((p) => p.operators)
  const withDispatch = ops.reduce((s, o) => s + o.baselineCpuSeconds, 0)
  const measured = withDispatch - ops.length * t.dispatchSeconds
  const share = withDispatch > 0 ? measured / withDispatch : 1
  const simulated = side(simDone, arrival, (share * raw.busyCpuTicks) / tps, (end) => totalCpu * end)

  const order = compareOrders(real.completionOrder, simulated.completionOrder)
  const finished = new Set(simulated.completionOrder)
  const pools = [...new Set(jobs.workers.map((w) => w.pool))].sort()
  return {
    source: jobs.source,
    policy: policy.name,
    epochMs: epoch,
    cluster: {
      workers: t.params.numPools,
      cpusPerWorker: t.params.cpusPerPool,
      memoryMbPerWorker: t.params.ramGbPerPool * 1024,
      pools,
    },
    trace: t.workload,
    dispatchSeconds: t.dispatchSeconds,
    skipped: t.skipped,
    real,
    simulated,
    differences: {
      ...order,
      utilisationDelta: simulated.utilisation - real.utilisation,
      makespanRatio: real.makespanSeconds > 0 ? simulated.makespanSeconds / real.makespanSeconds : 1,
      unfinished: t.workload.pipelines.filter((p) => !finished.has(p.id)).map((p) => p.id),
    },
    stats: buildStats(raw, t.params, policy.name),
  }
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * Parses `--since`: an ISO 8601 date or time (`2026-12-03`, `2026-12-03T18:00:00Z`) or an age (`30m`, `2h`, `7d`,
 * `90s`) before `nowMs`. Returns ms since the epoch; `INVALID_ARGUMENT` otherwise.
 */
export function parseSince(text: string, nowMs: number): number {
  const age = /^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$/.exec(text)
  if (age) return nowMs - Number(age[1]) * (UNITS[age[2] as string] as number)
  const ms = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())
    ? Date.parse(text.trim())
    : Number.NaN
  if (!Number.isFinite(ms))
    throw new TarnError(
      'INVALID_ARGUMENT',
      `--since expects an ISO date or time (2026-12-03T18:00:00Z) or an age such as 30m, 2h or 7d, got ${JSON.stringify(text)}`,
      { since: text },
    )
  return ms
}

/** The priority a run's job kind gets when nothing recorded one (local runs: `tarn run`'s default). */
export const LOCAL_RUN_PRIORITY: Priority = 'interactive'

function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-'
}

/**
 * A human-readable comparison of a replay: the cluster, the simulated and real completion order side by side with
 * each run's completion time, utilisation and the differences.
 */
export function formatReplay(r: ReplayReport): string {
  const simAt = new Map(r.simulated.completions.map((c) => [c.id, c.seconds]))
  const realAt = new Map(r.real.completions.map((c) => [c.id, c.seconds]))
  const priority = new Map(r.trace.pipelines.map((p) => [p.id, p.priority]))
  const lines = [
    `replayed ${r.trace.pipelines.length} run(s) from ${r.source === 'workers' ? 'the workers' : 'local runs'} with policy ${r.policy} on ${r.cluster.workers} worker(s) of ${r.cluster.cpusPerWorker} slot(s), ${r.cluster.memoryMbPerWorker} MB${r.cluster.pools.length > 0 ? ` (pool ${r.cluster.pools.join(', ')})` : ''}`,
    `every node and landing includes the workers' dispatch overhead of ${Math.round(1000 * r.dispatchSeconds)} ms (the mean gap between two of a worker's activities)`,
    ...(r.skipped.length > 0 ? [`left out ${r.skipped.length} run(s): ${r.skipped[0]?.reason}, ...`] : []),
    '',
  ]
  const rows: string[][] = [['#', 'real run', 'priority', 'real s', 'simulated run', 'simulated s']]
  const n = Math.max(r.real.completionOrder.length, r.simulated.completionOrder.length)
  for (let i = 0; i < n; i++) {
    const a = r.real.completionOrder[i] ?? ''
    const b = r.simulated.completionOrder[i] ?? ''
    rows.push([
      String(i + 1),
      a,
      priority.get(a) ?? '',
      a === '' ? '' : fmt(realAt.get(a) ?? Number.NaN),
      b,
      b === '' ? '' : fmt(simAt.get(b) ?? Number.NaN),
    ])
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? []
  for (const row of rows) lines.push(row.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '))
  const d = r.differences
  lines.push(
    '',
    `makespan      real ${fmt(r.real.makespanSeconds)} s, simulated ${fmt(r.simulated.makespanSeconds)} s (ratio ${fmt(d.makespanRatio)})`,
    `utilisation   real ${fmt(100 * r.real.utilisation, 1)}%, simulated ${fmt(100 * r.simulated.utilisation, 1)}% (delta ${fmt(100 * d.utilisationDelta, 1)} points)`,
    `order         rank correlation ${fmt(d.rankCorrelation, 3)}, max displacement ${d.maxRankDisplacement}`,
    ...(d.unfinished.length > 0 ? [`not completed in the simulation: ${d.unfinished.join(', ')}`] : []),
  )
  return `${lines.join('\n')}\n`
}
