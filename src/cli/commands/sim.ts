import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { generateWorkload } from '../../sim/generator.js'
import type { EngineMode } from '../../sim/outcome.js'
import type { SimParams } from '../../sim/params.js'
import { DEFAULT_PARAMS, loadParams } from '../../sim/params.js'
import { renderPlot } from '../../sim/plot.js'
import { resolvePolicy } from '../../sim/policy-loader.js'
import { formatReplay, parseSince, replayJobs } from '../../sim/replay.js'
import type { SimReport } from '../../sim/report.js'
import { formatCompareTable, formatStatsTable, statsToJson } from '../../sim/report.js'
import { runSimulation } from '../../sim/run.js'
import { formatTrace, loadTrace } from '../../sim/trace.js'
import type { Workload } from '../../sim/workload.js'
import { TarnError } from '../../util/errors.js'
import type { CliContext } from '../context.js'
import type { CliIO } from '../io.js'

interface FromJobsOptions extends CommonOptions {
  fromJobs?: boolean
  plot?: string
  since?: string
  policy?: string
  scheduler?: string
  saveTrace?: string
  json?: boolean
}

/** `tarn sim run --from-jobs`: replays the lake's job records and compares the simulation with what happened. */
async function fromJobs(opts: FromJobsOptions, io: CliIO, ctx: CliContext | undefined): Promise<void> {
  if (ctx === undefined)
    throw new TarnError('NOT_SUPPORTED', '--from-jobs needs a lake (run tarn sim inside the CLI)')
  const other = (['params', 'trace', 'seed', 'duration', 'engine', 'plot'] as const).find(
    (k) => opts[k] !== undefined,
  )
  if (other !== undefined)
    throw new TarnError(
      'USAGE',
      `--${other} does not go with --from-jobs (the trace and cluster come from the lake)`,
      {
        option: other,
      },
    )
  const policy = await resolvePolicy(opts.policy ?? opts.scheduler ?? 'priority', io.cwd)
  const lake = await ctx.localLake('sim run --from-jobs')
  const since = opts.since === undefined ? 0 : parseSince(opts.since, lake.clock.now())
  const report = replayJobs(await lake.recordedJobs(since), policy)
  if (opts.saveTrace !== undefined) {
    const file = resolve(io.cwd, opts.saveTrace)
    writeFileSync(file, formatTrace(report.trace))
    io.err(`wrote trace to ${file}\n`)
  }
  io.out(
    opts.json === true
      ? `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`
      : formatReplay(report),
  )
}

interface CommonOptions {
  params?: string
  trace?: string
  seed?: string
  duration?: string
  engine?: string
  json?: boolean
}

function numberOption(name: string, value: string, integer: boolean): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new TarnError(
      'INVALID_ARGUMENT',
      `--${name} must be ${integer ? 'an integer' : 'a number'}, got '${value}'`,
      {
        option: name,
        value,
      },
    )
  }
  return n
}

function setup(opts: CommonOptions, io: CliIO): { params: SimParams; workload: Workload; mode: EngineMode } {
  let params = opts.params === undefined ? DEFAULT_PARAMS : loadParams(resolve(io.cwd, opts.params))
  if (opts.seed !== undefined) params = { ...params, randomSeed: numberOption('seed', opts.seed, true) }
  if (opts.duration !== undefined) {
    const d = numberOption('duration', opts.duration, false)
    if (!(d > 0))
      throw new TarnError('INVALID_ARGUMENT', '--duration must be positive', { value: opts.duration })
    params = { ...params, duration: d }
  }
  const engine = opts.engine ?? 'event'
  if (engine !== 'event' && engine !== 'tick') {
    throw new TarnError('INVALID_ARGUMENT', `--engine must be event or tick, got '${engine}'`, {
      value: engine,
    })
  }
  const workload =
    opts.trace === undefined ? generateWorkload(params) : loadTrace(resolve(io.cwd, opts.trace))
  return { params, workload, mode: engine }
}

function common(cmd: Command): Command {
  return cmd
    .option('--params <file>', "Eudoxia params.toml (default: Eudoxia's defaults)")
    .option(
      '--trace <file>',
      'Eudoxia trace.csv to replay (default: generate the workload from the parameters)',
    )
    .option('--seed <n>', 'override random_seed for workload generation')
    .option('--duration <seconds>', 'override the simulated duration')
    .option('--engine <mode>', 'event (fast, default) or tick (visits every tick, for verification)')
    .option('--json', 'print one JSON document')
}

/**
 * Adds `sim run` and `sim compare` to the CLI.
 *
 * `tarn sim run [--params params.toml] [--trace trace.csv] [--scheduler NAME|FILE] [--json] [--plot FILE]
 * [--save-trace FILE]` simulates one scheduler; `tarn sim compare --schedulers a,b,c` runs several on the same
 * workload and prints them side by side.
 */
export function registerSimCommands(program: Command, io: CliIO, ctx?: CliContext): void {
  const sim = program
    .command('sim')
    .description('simulate scheduling policies on pipeline workloads (Eudoxia-compatible)')

  common(sim.command('run').description('simulate one scheduler and report its statistics'))
    .option('--scheduler <name|file>', 'naive, priority, priority-pool, right-size, or a policy .ts/.js file')
    .option('--plot <file>', 'write an SVG plot of latency by priority and pool utilisation')
    .option('--save-trace <file>', 'write the simulated workload as an Eudoxia trace.csv')
    .option(
      '--from-jobs',
      "replay the lake's recorded runs (the workers' executions, else local runs) and compare with what happened",
    )
    .option('--since <time>', 'with --from-jobs: runs submitted since an ISO time or an age (30m, 2h, 7d)')
    .option(
      '--policy <name|file>',
      'with --from-jobs: the policy to simulate (default priority, as the workers)',
    )
    .action(async (opts: FromJobsOptions) => {
      if (opts.fromJobs === true) return fromJobs(opts, io, ctx)
      if (opts.since !== undefined || opts.policy !== undefined)
        throw new TarnError('USAGE', '--since and --policy go with --from-jobs', {})
      const { params, workload, mode } = setup(opts, io)
      const policy = await resolvePolicy(opts.scheduler ?? params.schedulerAlgo, io.cwd)
      const report: SimReport = runSimulation({ params, workload, policy, mode })
      if (opts.plot !== undefined) {
        const file = resolve(io.cwd, opts.plot)
        writeFileSync(file, renderPlot(report))
        io.err(`wrote plot to ${file}\n`)
      }
      if (opts.saveTrace !== undefined) {
        const file = resolve(io.cwd, opts.saveTrace)
        writeFileSync(file, formatTrace(workload))
        io.err(`wrote trace to ${file}\n`)
      }
      io.out(opts.json === true ? statsToJson(report.stats) : formatStatsTable(report.stats))
    })

  common(sim.command('compare').description('simulate several schedulers on the same workload, side by side'))
    .requiredOption('--schedulers <list>', 'comma-separated schedulers (names or policy files)')
    .action(async (opts: CommonOptions & { schedulers: string }) => {
      const { params, workload, mode } = setup(opts, io)
      const names = opts.schedulers
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
      if (names.length === 0)
        throw new TarnError('INVALID_ARGUMENT', '--schedulers needs at least one scheduler')
      const stats = []
      for (const name of names) {
        const policy = await resolvePolicy(name, io.cwd)
        stats.push(runSimulation({ params, workload, policy, mode }).stats)
      }
      io.out(opts.json === true ? statsToJson(stats) : formatCompareTable(stats))
    })
}
