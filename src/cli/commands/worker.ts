import type { Command } from 'commander'
import { TarnError } from '../../util/errors.js'
import type { CliContext } from '../context.js'
import { emit, type OutputOptions } from '../output.js'

interface WorkerFlags {
  pool: string
  policy: string
  cpus: string
  memory: string
  heartbeat?: string
  lease?: string
  landingWait?: string
}

/** The scheduling policies of `runtime/scheduler/registry.ts` (the simulator's), by name. */
const POLICIES = ['naive', 'priority', 'priority-pool', 'right-size']

/** A whole-number flag of at least `min` (1: a positive integer). */
function wholeNumber(flag: string, v: string, min = 1): number {
  if (!/^\d+$/.test(v) || Number(v) < min)
    throw new TarnError(
      'USAGE',
      `${flag} expects ${min === 1 ? 'a positive integer' : `a whole number of at least ${min}`}, got ${JSON.stringify(v)}`,
      { [flag]: v },
    )
  return Number(v)
}

function megabytes(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(v)
  if (!m)
    throw new TarnError('USAGE', `--memory expects a size such as 8GB or 512MB, got ${JSON.stringify(v)}`, {
      memory: v,
    })
  const unit =
    { '': 1 / 2 ** 20, k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 }[(m[2] ?? '').toLowerCase()] ?? 1
  const mb = Math.floor(Number(m[1]) * unit)
  if (mb < 64) throw new TarnError('USAGE', `--memory must be at least 64MB, got ${v}`, { memory: v })
  return mb
}

/**
 * Registers `tarn worker [--pool NAME] [--cpus N] [--memory 8GB]`: claims node executions of remote runs from the
 * queue in the lake's PostgreSQL catalog until SIGTERM or SIGINT, which drain it (no new claims; running nodes
 * finish, then it exits 0). A worker that loses its lease exits at once with code 1.
 */
export function registerWorkerCommand(program: Command, ctx: CliContext): void {
  program
    .command('worker')
    .description('run the nodes of remote runs (tarn run --remote) from the queue in the PostgreSQL catalog')
    .option('--pool <name>', 'the pool whose nodes to run', 'default')
    .option('--cpus <n>', 'nodes to run at once', '1')
    .option('--memory <size>', 'memory the running nodes may use together', '8GB')
    .option(
      '--policy <name>',
      'the scheduling policy: naive, priority, priority-pool or right-size',
      'priority',
    )
    .option('--heartbeat <ms>', 'how often the worker renews its lease, in ms (default 1000)')
    .option('--lease <ms>', 'a worker silent this long is lost and its nodes run elsewhere (default 30000)')
    .option(
      '--landing-wait <ms>',
      'how long a landing waits for the lander (the live worker registered first) before this worker takes it (default 250)',
    )
    .option('--json', 'print the summary as JSON when drained')
    .action(async (o: OutputOptions & WorkerFlags) => {
      if (!POLICIES.includes(o.policy))
        throw new TarnError('USAGE', `--policy takes ${POLICIES.join(', ')}, got ${o.policy}`, {
          policy: o.policy,
        })
      const cpus = wholeNumber('--cpus', o.cpus)
      const memoryMb = megabytes(o.memory)
      const heartbeatMs = o.heartbeat === undefined ? undefined : wholeNumber('--heartbeat', o.heartbeat)
      const leaseMs = o.lease === undefined ? undefined : wholeNumber('--lease', o.lease)
      const landingWaitMs =
        o.landingWait === undefined ? undefined : wholeNumber('--landing-wait', o.landingWait, 0)
      const lake = await ctx.localLake('worker')
      const drain = new AbortController()
      const stop = (): void => drain.abort()
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
      try {
        const summary = await lake.worker({
          pool: o.pool,
          policy: o.policy,
          cpus,
          memoryMb,
          ...(heartbeatMs !== undefined ? { heartbeatMs } : {}),
          ...(leaseMs !== undefined ? { leaseMs } : {}),
          ...(landingWaitMs !== undefined ? { landingWaitMs } : {}),
          signal: drain.signal,
          log: (line) => ctx.io.err(`${line}\n`),
          onLost: (reason) => {
            // it must not write again: another worker runs its nodes now
            ctx.io.err(`error: the worker lost its lease (${reason}); exiting\n`)
            process.exit(1)
          },
        })
        emit(
          ctx.io,
          o,
          summary,
          () =>
            `worker ${summary.id}: ${summary.executed} node(s) run, ${summary.landed} run(s) landed or sealed`,
        )
      } finally {
        process.off('SIGTERM', stop)
        process.off('SIGINT', stop)
      }
    })
}
