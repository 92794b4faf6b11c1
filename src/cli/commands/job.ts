import { resolve } from 'node:path'
import type { Command } from 'commander'
import { shortHash } from '../../catalog/commit.js'
import type { AnyJobRecord, JobStatus, OperationJobRecord } from '../../lake/lake-types.js'
import { TarnError } from '../../util/errors.js'
import type { CliContext } from '../context.js'
import { nodeLine, runSummaryText } from '../format/progress-lines.js'
import { emit, table } from '../output.js'

interface JsonOption {
  json?: boolean
}

function positiveInt(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0)
    throw new TarnError('USAGE', `expected a positive integer, got ${JSON.stringify(v)}`)
  return n
}

function jobStatus(v: string): JobStatus {
  if (v !== 'succeeded' && v !== 'failed' && v !== 'running')
    throw new TarnError('USAGE', `--status takes succeeded, failed or running, not ${JSON.stringify(v)}`, {
      status: v,
    })
  return v
}

function what(j: AnyJobRecord): string {
  if (j.kind === 'run') return `project ${j.project}`
  if (j.kind === 'import')
    return `${j.table ?? ''} <- ${j.files.length} file(s)${j.rows === null ? '' : `, ${j.rows} rows`}`
  const sql = (j.sql ?? '').replace(/\s+/g, ' ')
  return sql.length > 60 ? `${sql.slice(0, 57)}...` : sql
}

function jobListJson(j: AnyJobRecord): Record<string, unknown> {
  const common = {
    id: j.id,
    kind: j.kind,
    status: j.status,
    target: j.target,
    dataCommit: j.dataCommit,
    startedAt: new Date(j.startedAt).toISOString(),
    finishedAt: j.finishedAt === null ? null : new Date(j.finishedAt).toISOString(),
    durationMs: j.finishedAt === null ? null : j.finishedAt - j.startedAt,
  }
  if (j.kind === 'run') return { ...common, project: j.project, rerunOf: j.rerunOf }
  return { ...common, table: j.table, sql: j.sql, rows: j.rows, error: j.error }
}

function operationText(j: OperationJobRecord): string {
  return [
    `${j.kind} ${j.status}: job ${j.id} on ${j.target}`,
    ...(j.table ? [`table   ${j.table}`] : []),
    ...(j.sql ? [`sql     ${j.sql}`] : []),
    ...j.files.map((f) => `file    ${f}`),
    ...(j.dataCommit ? [`commit  ${j.dataCommit}`] : []),
    ...(j.rows !== null ? [`rows    ${j.rows}`] : []),
    `started ${new Date(j.startedAt).toISOString()}`,
    ...(j.finishedAt !== null ? [`time    ${j.finishedAt - j.startedAt}ms`] : []),
    ...(j.error ? [`error   ${j.error.code}: ${j.error.message}`] : []),
  ].join('\n')
}

/**
 * Registers `tarn job ls | get <id> | logs <id> | code <id>` (jobs stored under `_tarn/jobs/` in the warehouse) and
 * `tarn rerun <job-id> [-r REF]` (the job's code snapshot, parameters and selection, on its data commit or `REF`).
 */
export function registerJobCommands(program: Command, ctx: CliContext): void {
  const job = program
    .command('job')
    .description('jobs (runs, imports, queries): list, inspect, read logs, export code')
  job
    .command('ls', { isDefault: true })
    .description('list jobs, newest first (also `tarn job` alone)')
    .option('-n, --limit <n>', 'show at most n jobs', positiveInt)
    .option('--status <status>', 'only jobs with this status: succeeded, failed or running', jobStatus)
    .option('--json', 'print JSON')
    .action(async (o: JsonOption & { limit?: number; status?: JobStatus }) => {
      const lake = await ctx.lake()
      const jobs = await lake.listAllJobs({
        ...(o.limit !== undefined ? { limit: o.limit } : {}),
        ...(o.status !== undefined ? { status: o.status } : {}),
      })
      emit(ctx.io, o, jobs.map(jobListJson), () =>
        jobs.length === 0
          ? 'no jobs'
          : table([
              ['JOB', 'KIND', 'STATUS', 'BRANCH/REF', 'COMMIT', 'STARTED', 'TIME', 'WHAT'],
              ...jobs.map((j) => [
                j.id,
                j.kind,
                j.status,
                j.target,
                j.dataCommit ? shortHash(j.dataCommit) : '-',
                new Date(j.startedAt).toISOString(),
                j.finishedAt === null ? '-' : `${j.finishedAt - j.startedAt}ms`,
                what(j),
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
      const j = await lake.getAnyJob(id)
      emit(ctx.io, o, j, () =>
        j.kind === 'run' ? [runSummaryText(j), '', ...j.nodes.map(nodeLine)].join('\n') : operationText(j),
      )
    })
  job
    .command('logs <id>')
    .description("a job's log: user output tagged with model, file and line")
    .option('--json', 'print JSON')
    .action(async (id: string, o: JsonOption) => {
      const lake = await ctx.lake()
      await lake.getAnyJob(id)
      const text = await lake.jobLog(id)
      emit(ctx.io, o, { job: id, lines: text.split('\n').filter((l) => l.length > 0) }, () => text)
    })
  job
    .command('code <id>')
    .description("write a run job's code snapshot (its project files) into a new or empty directory")
    .option('-o, --output <dir>', 'directory to write (default: ./<id>)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: JsonOption & { output?: string }) => {
      const lake = await ctx.lake()
      const dir = resolve(ctx.io.cwd, o.output ?? id)
      const files = await lake.exportJobCode(id, dir)
      emit(ctx.io, o, { job: id, dir, files }, () => `Wrote ${files.length} file(s) of job ${id} to ${dir}`)
    })
  program
    .command('rerun <job-id>')
    .description("re-execute a job's code snapshot on its data commit (or -r REF)")
    .option('-r, --ref <ref>', 'read this ref instead of the data commit the job read')
    .option('-m, --message <msg>', 'message of the commit that lands the rerun')
    .option('--json', 'print JSON')
    .action(async (id: string, o: JsonOption & { ref?: string; message?: string }) => {
      const lake = await ctx.lake()
      // The run machinery (DuckDB, the planner) loads only for a rerun (inside `lake.rerun`), not for `job ls|get|logs`.
      const { progressPrinter, runSummaryJson } = await import('./run.js')
      const { job: j } = await lake.rerun(id, {
        ...(o.ref ? { ref: o.ref } : {}),
        ...(o.message ? { message: o.message } : {}),
        observer: progressPrinter(ctx.io, o.json === true),
      })
      emit(ctx.io, o, runSummaryJson(j), () => `\n${runSummaryText(j)}`)
    })
}
