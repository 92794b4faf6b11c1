import type { Command } from 'commander'
import { shortHash } from '../../catalog/commit.js'
import { getJob, getJobLog, listJobs } from '../../pipeline/run/job-store.js'
import { nodeLine, runSummaryText } from '../../pipeline/run/progress-lines.js'
import type { CliContext } from '../context.js'
import { emit, table } from '../output.js'

interface JsonOption {
  json?: boolean
}

/**
 * Registers `tarn job ls | get <id> | logs <id>` (jobs stored under `_tarn/jobs/` in the warehouse) and
 * `tarn rerun <job-id> [-r REF]` (the job's code snapshot, parameters and selection, on its data commit or `REF`).
 *
 * @example
 * ```ts
 * registerJobCommands(program, ctx)
 * await program.parseAsync(['job', 'ls', '--json'], { from: 'user' })
 * ```
 */
export function registerJobCommands(program: Command, ctx: CliContext): void {
  const job = program.command('job').description('pipeline jobs: list, inspect, read logs')
  job
    .command('ls')
    .description('list jobs, newest first')
    .option('--json', 'print JSON')
    .action(async (o: JsonOption) => {
      const lake = await ctx.lake()
      const jobs = await listJobs(lake.store)
      emit(
        ctx.io,
        o,
        jobs.map((j) => ({
          id: j.id,
          status: j.status,
          project: j.project,
          target: j.target,
          dataCommit: j.dataCommit,
          startedAt: new Date(j.startedAt).toISOString(),
          finishedAt: j.finishedAt === null ? null : new Date(j.finishedAt).toISOString(),
          rerunOf: j.rerunOf,
        })),
        () =>
          jobs.length === 0
            ? 'no jobs'
            : table([
                ['JOB', 'STATUS', 'PROJECT', 'BRANCH', 'READ', 'STARTED'],
                ...jobs.map((j) => [
                  j.id,
                  j.status,
                  j.project,
                  j.target,
                  shortHash(j.dataCommit),
                  new Date(j.startedAt).toISOString(),
                ]),
              ]),
      )
    })
  job
    .command('get <id>')
    .description('a job: status, branches, data commit, code snapshot, timings per node, error')
    .option('--json', 'print JSON')
    .action(async (id: string, o: JsonOption) => {
      const lake = await ctx.lake()
      const j = await getJob(lake.store, id)
      emit(ctx.io, o, j, () => [runSummaryText(j), '', ...j.nodes.map(nodeLine)].join('\n'))
    })
  job
    .command('logs <id>')
    .description("a job's log: user output tagged with model, file and line")
    .option('--json', 'print JSON')
    .action(async (id: string, o: JsonOption) => {
      const lake = await ctx.lake()
      await getJob(lake.store, id)
      const text = await getJobLog(lake.store, id)
      emit(ctx.io, o, { job: id, lines: text.split('\n').filter((l) => l.length > 0) }, () => text)
    })
  program
    .command('rerun <job-id>')
    .description("re-execute a job's code snapshot on its data commit (or -r REF)")
    .option('-r, --ref <ref>', 'read this ref instead of the data commit the job read')
    .option('--json', 'print JSON')
    .action(async (id: string, o: JsonOption & { ref?: string }) => {
      const lake = await ctx.lake()
      // The run machinery (DuckDB, the planner) loads only for a rerun, not for `job ls|get|logs`.
      const [{ rerunJob }, { progressPrinter, runSummaryJson }] = await Promise.all([
        import('../../pipeline/run/rerun.js'),
        import('./run.js'),
      ])
      const { job: j } = await rerunJob(lake, id, {
        ...(o.ref ? { ref: o.ref } : {}),
        observer: progressPrinter(ctx.io, o.json === true),
      })
      emit(ctx.io, o, runSummaryJson(j), () => `\n${runSummaryText(j)}`)
    })
}
