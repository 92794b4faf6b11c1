import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { Lake } from '../src/lake/lake.js'
import { RunQueue } from '../src/pipeline/remote/run-queue.js'
import { submitRemoteRun } from '../src/pipeline/remote/submit-remote-run.js'
import type { Policy } from '../src/runtime/scheduler/policy.js'
import { builtinPolicy } from '../src/runtime/scheduler/registry.js'
import { LANDING_OPERATOR, type RecordedJobs } from '../src/sim/job-trace.js'
import { type ReplayReport, replayJobs } from '../src/sim/replay.js'
import { type CpuHost, cpuHost } from './cpu-host.js'
import type { BenchResult, BenchSection } from './result.js'

const RUNS = Number(process.env.TARN_BENCH_WORKER_RUNS ?? 100)
/** CPUs of each emulated worker host: 3 of them leave the rest of this machine's 2 cores to PostgreSQL and the bench. */
const HOST_CORES = Number(process.env.TARN_BENCH_WORKER_HOST_CPUS ?? 0.3)
/** How many times each phase runs (alternating 1 and 3 workers); the results are their means. */
const REPEATS = Math.max(1, Number(process.env.TARN_BENCH_WORKER_REPEATS ?? 3))
const PG_URL = process.env.TARN_BENCH_PG_URL ?? 'postgres://tarn:tarn@127.0.0.1:5432/tarn'
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function reachable(url: string): Promise<string | null> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  try {
    await c.connect()
    await c.query('SELECT 1')
    return null
  } catch (e) {
    return (e as Error).message
  } finally {
    await c.end().catch(() => undefined)
  }
}

/** What one measured phase gave: wall time from the workers' registration to the last landing, and the replay. */
interface Phase {
  readonly workers: number
  readonly shared: boolean
  readonly seconds: number
  readonly replay: ReplayReport
  readonly recorded: RecordedJobs
  /** CPU seconds the worker processes used (all threads) while timed, or null where /proc is not readable. */
  readonly workerCpuSeconds: number | null
  /** The share of the machine's cores busy (all processes) while timed, or null where /proc/stat is not readable. */
  readonly machineBusy: number | null
}

/** Busy and total jiffies of all cores, from /proc/stat; null when unreadable. */
function machineTicks(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
    const v = line.trim().split(/\s+/).slice(1).map(Number)
    const total = v.reduce((a, b) => a + b, 0)
    // idle and iowait
    return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total }
  } catch {
    return null
  }
}

/** CPU seconds (user and system, all threads) a process has used, from /proc; null when unreadable. */
function cpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the fields after the command name (which may hold spaces) start at the state, field 3
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return null
  }
}

function workersCpu(children: readonly ChildProcess[]): number | null {
  let total = 0
  for (const c of children) {
    const s = cpuSeconds(c.pid)
    if (s === null) return null
    total += s
  }
  return total
}

/**
 * Queues `RUNS` single-model runs (an SQL model appending 20 rows) on a fresh lake (PostgreSQL catalog in a schema
 * of its own, local warehouse), then starts `count` `tarn worker --cpus 1` processes and times from the moment they
 * are all registered until every run landed; replays the lake's records in the simulator with `priority`. With
 * `hosts`, each worker runs in a host of its own (a CPU cgroup from `cpuHost`).
 */
async function phase(count: number, shared: boolean, hosts?: readonly CpuHost[]): Promise<Phase> {
  const url = new URL(PG_URL)
  url.searchParams.set('schema', `bw${count}_${process.pid}_${Date.now().toString(36)}`)
  const root = mkdtempSync(join(tmpdir(), 'tarn-bench-workers-'))
  const env = { TARN_CATALOG_URL: url.toString(), TARN_WAREHOUSE: join(root, 'warehouse') }
  const home = join(root, 'client')
  const lake = await Lake.init({ home, env: { ...process.env, ...env, TARN_HOME: home, TARN_USER: 'bench' } })
  const children: ChildProcess[] = []
  try {
    writeFileSync(join(root, 'nums.csv'), `id\n${Array.from({ length: 20 }, (_, i) => i + 1).join('\n')}\n`)
    await lake.createTable('nums', { from: [join(root, 'nums.csv')] })
    writeFileSync(join(root, 'events.csv'), 'run,id\nseed,0\n')
    await lake.createTable('events', { from: [join(root, 'events.csv')] })
    const queue = await RunQueue.open(env.TARN_CATALOG_URL)
    const ids: string[] = []
    try {
      for (let i = 0; i < RUNS; i++) {
        const dir = join(root, `p${i}`)
        mkdirSync(dir, { recursive: true })
        writeFileSync(join(dir, 'tarn_project.yml'), `name: p${i}\nnamespace: tarn\n`)
        if (shared)
          writeFileSync(
            join(dir, 'events.sql'),
            `-- tarn: materialize=APPEND\nSELECT 'p${i}' AS run, id FROM nums\n`,
          )
        else
          writeFileSync(
            join(dir, `out_${i}.sql`),
            `-- tarn: materialize=REPLACE\nSELECT 'p${i}' AS run, id FROM nums\n`,
          )
        ids.push((await submitRemoteRun(lake, queue, { dir, branch: 'main', priority: 'batch' })).id)
      }
      const bin = join(import.meta.dirname, '..', '..', 'bin', 'tarn.js')
      // TARN_BENCH_WORKER_NODE_ARGS: node options for the workers, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
      const nodeArgs = process.env.TARN_BENCH_WORKER_NODE_ARGS?.split(' ').filter((a) => a !== '') ?? []
      for (let i = 0; i < count; i++) {
        const child = spawn(process.execPath, [...nodeArgs, bin, 'worker', '--cpus', '1'], {
          env: { ...process.env, ...env, TARN_HOME: join(root, `w${i}`), TARN_USER: 'bench' },
          stdio: ['ignore', 'ignore', 'ignore'],
        })
        children.push(child)
        if (hosts !== undefined && child.pid !== undefined) hosts[i]?.admit(child.pid)
      }
      const registered = async (): Promise<number> =>
        Number(
          (await queue.pool.query("SELECT count(*) AS n FROM tarn_workers WHERE state = 'live'")).rows[0].n,
        )
      while ((await registered()) < count) await sleep(20)
      const started = performance.now()
      const cpuBefore = workersCpu(children)
      const ticksBefore = machineTicks()
      for (;;) {
        const r = await queue.pool.query(
          "SELECT count(*) FILTER (WHERE state IN ('succeeded', 'failed')) AS done, count(*) FILTER (WHERE state = 'failed') AS failed FROM tarn_runs",
        )
        const row = r.rows[0] as { done: string; failed: string }
        if (Number(row.failed) > 0) throw new Error(`${row.failed} run(s) failed in the workers bench`)
        if (Number(row.done) >= ids.length) break
        await sleep(50)
      }
      const seconds = (performance.now() - started) / 1000
      const cpuAfter = workersCpu(children)
      const ticksAfter = machineTicks()
      const machineBusy =
        ticksBefore !== null && ticksAfter !== null && ticksAfter.total > ticksBefore.total
          ? (ticksAfter.busy - ticksBefore.busy) / (ticksAfter.total - ticksBefore.total)
          : null
      const workerCpuSeconds = cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null
      const recorded = await lake.recordedJobs(0)
      const policy = builtinPolicy('priority')
      if (policy === undefined) throw new Error('no priority policy')
      return {
        workers: count,
        shared,
        seconds,
        replay: replayJobs(recorded, policy),
        recorded,
        workerCpuSeconds,
        machineBusy,
      }
    } finally {
      for (const c of children) c.kill('SIGTERM')
      await Promise.all(
        children.map((c) => (c.exitCode === null ? new Promise((r) => c.on('exit', r)) : undefined)),
      )
      await queue.close()
    }
  } finally {
    await lake.close()
    rmSync(root, { recursive: true, force: true })
    await dropSchemas(url)
  }
}

/** Drops the catalog schema of a phase's lake and its queue's schema, so runs of the benchmark leave nothing behind. */
async function dropSchemas(url: URL): Promise<void> {
  const schema = url.searchParams.get('schema') ?? ''
  const c = new pg.Client({ connectionString: PG_URL })
  try {
    await c.connect()
    for (const s of [schema, `${schema}_queue`])
      await c.query(`DROP SCHEMA IF EXISTS ${c.escapeIdentifier(s)} CASCADE`)
  } finally {
    await c.end().catch(() => undefined)
  }
}

/** The 1-worker records on `n` workers like the first: the simulator's prediction for more workers. */
function onMoreWorkers(recorded: RecordedJobs, n: number): RecordedJobs {
  const w = recorded.workers[0]
  if (w === undefined) return recorded
  // the first keeps its id: the dispatch overhead is measured on its activities
  return {
    ...recorded,
    workers: Array.from({ length: n }, (_, i) => ({ ...w, id: i === 0 ? w.id : `${w.id}-${i}` })),
  }
}

/**
 * Several measurements of one phase as one: the mean time and CPU, the replay and records of the first; `times` keeps
 * each measurement's seconds.
 */
function averaged(phases: readonly Phase[]): Phase & { readonly times: readonly number[] } {
  const first = phases[0]
  if (first === undefined) throw new Error('no phase measured')
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
  const cpu = phases.map((p) => p.workerCpuSeconds)
  return {
    ...first,
    seconds: mean(phases.map((p) => p.seconds)),
    workerCpuSeconds: cpu.every((c) => c !== null) ? mean(cpu as number[]) : null,
    machineBusy: phases.every((p) => p.machineBusy !== null)
      ? mean(phases.map((p) => p.machineBusy as number))
      : null,
    times: phases.map((p) => p.seconds),
  }
}

const r2 = (x: number): number => Math.round(x * 100) / 100

/** Where a phase's time went: mean node and landing times per run, and the slots' idle share. */
function breakdown(p: Phase): string {
  const ops = p.replay.trace.pipelines.flatMap((x) => x.operators)
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
  const node = mean(ops.filter((o) => o.name !== LANDING_OPERATOR).map((o) => o.baselineCpuSeconds))
  const land = mean(ops.filter((o) => o.name === LANDING_OPERATOR).map((o) => o.baselineCpuSeconds))
  const cpu =
    p.workerCpuSeconds === null
      ? ''
      : `, worker CPU ${Math.round((1000 * p.workerCpuSeconds) / RUNS)} ms per run`
  const by = new Map<string, number>()
  for (const r of p.recorded.runs) if (r.landedBy) by.set(r.landedBy, (by.get(r.landedBy) ?? 0) + 1)
  const landers =
    p.workers > 1 ? `, landings per worker ${[...by.values()].sort((a, b) => b - a).join('/')}` : ''
  const busy = p.machineBusy === null ? '' : `, machine ${Math.round(100 * p.machineBusy)}% busy`
  return `${p.workers} worker(s): node ${Math.round(1000 * node)} ms, landing ${Math.round(1000 * land)} ms per run, slots idle ${Math.round(100 * (1 - p.replay.real.utilisation))}%${cpu}${landers}${busy}`
}

/** The results of one workload on 1 and on 3 workers: times, the replay of each, the simulator's prediction. */
function compared(
  kind: string,
  one: Phase & { readonly times: readonly number[] },
  three: Phase & { readonly times: readonly number[] },
  policy: Policy,
): BenchResult[] {
  const load = loadavg()[0]?.toFixed(1)
  const out: BenchResult[] = [
    { name: `workers: ${RUNS} runs ${kind}, 1 worker`, value: r2(one.seconds), unit: 's' },
    {
      name: `workers: ${RUNS} runs ${kind}, 3 workers`,
      value: r2(three.seconds),
      unit: 's',
      baseline: '1 worker',
      ratio: r2(three.seconds / one.seconds),
      note: `speed-up ${r2(one.seconds / three.seconds)}x (goal 2.5x; means of ${one.times.length} alternating measurements, 1 worker ${one.times.map((t) => `${r2(t)} s`).join(', ')}, 3 workers ${three.times.map((t) => `${r2(t)} s`).join(', ')}); ${breakdown(one)}; ${breakdown(three)}; load average ${load} on ${cpus().length} cores when measured`,
    },
  ]
  for (const p of [one, three]) {
    const d = p.replay.differences
    out.push({
      name: `workers: ${kind}, ${p.workers} worker(s): simulated vs real utilisation`,
      value: r2(100 * p.replay.simulated.utilisation),
      unit: '%',
      baseline: `real ${r2(100 * p.replay.real.utilisation)}%`,
      ratio: r2(p.replay.simulated.utilisation / p.replay.real.utilisation),
      note: `completion order: rank correlation ${d.rankCorrelation.toFixed(3)}, max displacement ${d.maxRankDisplacement} of ${p.replay.real.completionOrder.length}; makespan simulated ${r2(p.replay.simulated.makespanSeconds)} s, real ${r2(p.replay.real.makespanSeconds)} s`,
    })
  }
  const predicted = replayJobs(onMoreWorkers(one.recorded, 3), policy)
  const sim1 = one.replay.simulated.makespanSeconds
  out.push({
    name: `workers: ${kind}, simulated 3-worker makespan from the 1-worker records`,
    value: r2(predicted.simulated.makespanSeconds),
    unit: 's',
    baseline: `simulated 1 worker ${r2(sim1)} s`,
    ratio: r2(predicted.simulated.makespanSeconds / sim1),
    note: `the simulator predicts ${r2(sim1 / predicted.simulated.makespanSeconds)}x when node, landing and dispatch times stay what one worker measured (a core per worker, no contention)`,
  })
  return out
}

/**
 * Throughput of `tarn worker` processes: the same `RUNS` small runs on 1 worker and on 3, and the simulator's replay
 * of each (completion order and utilisation against what happened), plus its prediction of the 3-worker makespan from
 * the 1-worker records. Skips (one result saying why) when PostgreSQL is unreachable.
 */
export async function benchWorkers(): Promise<BenchSection> {
  const title = 'Workers: scale-out throughput and the simulator replay'
  const description =
    `${RUNS} single-model runs (an SQL model of 20 rows written as an Iceberg table), queued with ` +
    '`submitRemoteRun` before the workers start, on a PostgreSQL catalog (a fresh schema of `TARN_BENCH_PG_URL`) and ' +
    'a local warehouse; timed from the moment every `tarn worker --cpus 1` process registered until the last run ' +
    'landed, with 1 worker and then with 3 (separate processes), each ' +
    `${REPEATS === 1 ? 'once' : `${REPEATS} times, alternating (the times are means: the machine's speed drifts)`}. ` +
    'Two workloads: every run replacing a table of its ' +
    "own (independent landings), and every run appending to one table (each landing merges the others' appends into " +
    'the table). The simulator replays each phase from its job records (`tarn sim run --from-jobs`, policy ' +
    '`priority`: nodes and landings as operators; the first measurement of each) and predicts the 3-worker makespan from the 1-worker records. The ' +
    'notes say where the time went: mean node and landing time per run, the share of slot time spent between them ' +
    '(fetching from the queue, claiming, completing), which the simulator does not model, the CPU time the worker ' +
    'processes used per run (all threads, from /proc) and how the landings were shared between the workers ' +
    '(landings go to the lander, the pool worker registered first, unless they waited 250 ms for it). This machine has ' +
    `$cpus().lengthcores shared by every process (the workers, PostgreSQL, this one, and other jobs): a node ` +
    'execution and a landing are mostly CPU (DuckDB, Iceberg metadata, JSON), so with 3 workers each of them takes ' +
    'longer in proportion and the ratio is bounded by the free cores (at most about 2x on 2 idle cores), not by the ' +
    'queue; the simulated prediction, which gives each worker a core of its own, is what 3 machines would give. To ' +
    'measure what several machines give on this one, both workloads run again with each worker process (and every ' +
    `process it starts) in a host of its own: a CPU cgroup with a quota of $HOST_CORESCPU, so the workers no ` +
    'longer compete for the same cores while PostgreSQL and the benchmark keep the rest of the machine. On such ' +
    'hosts each worker uses its whole quota, so the speed-up is 3 times the ratio of CPU per run with one worker to ' +
    'CPU per run with three: work that only several workers do (reading commits another worker landed, claims lost ' +
    'to another worker, merges redone after a lost race for the branch head) is what keeps it under 3x.'
  const why = await reachable(PG_URL)
  if (why !== null) {
    process.stderr.write(`[bench] workers skipped: PostgreSQL at $PG_URLunreachable (${why})\n`)
    return {
      title,
      description,
      results: [{ name: 'workers: skipped', value: 0, unit: '', note: `PostgreSQL unreachable: ${why}` }],
    }
  }
  const out: BenchResult[] = []
  const policy = builtinPolicy('priority')
  if (policy === undefined) throw new Error('no priority policy')
  const hosts: CpuHost[] = []
  for (let i = 0; i < 3; i++) {
    const h = cpuHost(`tarn-bench-worker-${process.pid}-${i}`, HOST_CORES)
    if (typeof h === 'string') {
      process.stderr.write(`[bench] workers on hosts of their own skipped: ${h}\n`)
      out.push({ name: 'workers on hosts of their own: skipped', value: 0, unit: '', note: h })
      break
    }
    hosts.push(h)
  }
  // TARN_BENCH_WORKER_CASES picks some of shared-own, shared-one, hosted-own, hosted-one (default all)
  const only = process.env.TARN_BENCH_WORKER_CASES?.split(',')
  const cases = [false, true]
    .flatMap((hosted) =>
      hosted && hosts.length < 3 ? [] : [false, true].map((shared) => ({ shared, hosted })),
    )
    .filter(
      (c) =>
        only === undefined || only.includes(`${c.hosted ? 'hosted' : 'shared'}-${c.shared ? 'one' : 'own'}`),
    )
  try {
    for (const { shared, hosted } of cases) {
      const where = hosted ? `, each worker on a host of ${HOST_CORES} CPU` : ''
      const kind = `${shared ? 'appending to one table' : 'each writing its own table'}${where}`
      // the machine's speed drifts between phases: each count of workers runs REPEATS times, alternating
      const ones: Phase[] = []
      const threes: Phase[] = []
      for (let i = 0; i < REPEATS; i++) {
        ones.push(await phase(1, shared, hosted ? hosts.slice(0, 1) : undefined))
        threes.push(await phase(3, shared, hosted ? hosts : undefined))
      }
      const one = averaged(ones)
      const three = averaged(threes)
      process.stderr.write(`[bench] workers, ${kind}: ${breakdown(one)}; ${breakdown(three)}\n`)
      out.push(...compared(kind, one, three, policy))
    }
  } finally {
    for (const h of hosts) h.close()
  }
  return { title, description, results: out }
}
