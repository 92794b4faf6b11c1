import { resolve } from 'node:path'
import type { Command } from 'commander'
import { quoteIdent } from '../../duckdb/sql-quote.js'
import { type JsonValue, parseJsonLossless, stringifyJsonLossless } from '../../iceberg/index.js'
import { batchCells, rowJson, rowText, typeName } from '../../lake/batch-cells.js'
import type { LakeApi } from '../../lake/lake-api.js'
import type { JobRecord, NodeRecord, RunObserver } from '../../lake/lake-types.js'
import { TarnError } from '../../util/errors.js'
import type { CliContext } from '../context.js'
import { pipelinePlanJson, renderDag, renderPlan } from '../format/plan-render.js'
import { nodeLine, runSummaryText } from '../format/progress-lines.js'
import type { CliIO } from '../io.js'
import { emit, table as formatTable } from '../output.js'

interface RunOptions {
  project?: string
  ref?: string
  dryRun?: boolean
  strict?: boolean
  param?: string[]
  select?: string[]
  json?: boolean
  preview?: string
  message?: string
  remote?: boolean
  priority?: string
  pool?: string
  detach?: boolean
}

const PREVIEW_ROWS = 5

/**
 * The first or last rows of one table a run wrote, read at the commit the run landed as. Plain data; `rows` hold
 * lossless JSON values (64-bit integers stay exact).
 */
interface TablePreview {
  readonly table: string
  readonly mode: string
  readonly totalRows: number
  readonly columns: readonly { readonly name: string; readonly type: string }[]
  readonly rows: readonly JsonValue[]
  readonly text: readonly string[][]
}

async function previews(
  lake: LakeApi,
  tables: Readonly<Record<string, number>>,
  commit: string,
  mode: string,
): Promise<TablePreview[]> {
  const out: TablePreview[] = []
  for (const [key, total] of Object.entries(tables)) {
    const [ns, name] = key.split('.') as [string, string]
    const offset = mode === 'tail' ? Math.max(0, total - PREVIEW_ROWS) : 0
    const sql = `SELECT * FROM ${quoteIdent(ns)}.${quoteIdent(name)} LIMIT ${PREVIEW_ROWS} OFFSET ${offset}`
    const result = await lake.query(sql, { ref: `@${commit}` })
    const fields = result.table.schema.fields
    const names = fields.map((f) => f.name)
    const rows: JsonValue[] = []
    const text: string[][] = []
    for (const batch of result.table.batches) {
      for (const row of batchCells(batch)) {
        rows.push(parseJsonLossless(rowJson(names, row)))
        text.push(rowText(row))
      }
    }
    out.push({
      table: key,
      mode,
      totalRows: total,
      columns: fields.map((f) => ({ name: f.name, type: typeName(f.type) })),
      rows,
      text,
    })
  }
  return out
}

function previewText(p: TablePreview): string {
  return `\n${p.table} (${p.mode}, ${p.text.length} of ${p.totalRows} rows)\n${formatTable([
    p.columns.map((c) => c.name),
    p.columns.map((c) => c.type),
    ...p.text,
  ])}\n`
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

/**
 * The observer `tarn run` and `tarn rerun` report progress with: the DAG once planned, then one line per node state
 * change (running, done with rows and time, failed, skipped); progress of slow work inside a node (building a Python
 * environment on first use) goes to stderr. With `--json` the same events go to stderr as JSON lines
 * (`{"event":"planned",...}`, `{"event":"node",...}`, `{"event":"progress",...}`), so stdout keeps only the final
 * document.
 */
export function progressPrinter(io: CliIO, json: boolean): RunObserver {
  // A node also reports updates that keep its status (a scan's files and bytes read); print state changes only.
  const shown = new Map<string, string>()
  const changed = (n: NodeRecord): boolean => {
    if (shown.get(n.id) === n.status) return false
    shown.set(n.id, n.status)
    return true
  }
  if (json) {
    const line = (doc: Record<string, unknown>): void => io.err(`${JSON.stringify(doc)}\n`)
    return {
      planned: (plan, job) =>
        line({
          event: 'planned',
          job: job.id,
          project: plan.project,
          target: job.target,
          runBranch: job.runBranch,
          nodes: job.nodes.map((n) => n.id),
        }),
      node: (n) => {
        if (changed(n)) line({ event: 'node', ...n })
      },
      progress: (text) => line({ event: 'progress', line: text }),
      finished: (job) => line({ event: 'finished', job: job.id, status: job.status }),
    }
  }
  return {
    planned: (plan, job) => {
      io.out(`job ${job.id}: project ${plan.project} on ${job.target} (run branch ${job.runBranch})\n`)
      io.out(`${renderDag(plan).trimEnd()}\n\n`)
      io.out(`${job.nodes.length} node${job.nodes.length === 1 ? '' : 's'} to run\n`)
    },
    node: (n) => {
      if (changed(n)) io.out(`${nodeLine(n)}\n`)
    },
    progress: (text) => io.err(`  ${text}\n`),
  }
}

/**
 * The JSON summary of a finished run (`tarn run --json`).
 */
export function runSummaryJson(job: JobRecord): Record<string, unknown> {
  return { job: job.id, status: job.status, summary: job }
}

function parseParams(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const item of items) {
    const eq = item.indexOf('=')
    if (eq <= 0)
      throw new TarnError('USAGE', `--param expects name=value, got ${JSON.stringify(item)}`, { param: item })
    out[item.slice(0, eq).trim()] = item.slice(eq + 1)
  }
  return out
}

/**
 * Registers `tarn run [-p DIR] [-r BRANCH] [--dry-run] [--strict] [--param k=v ...] [--select SEL] [--json]`. A run
 * forks the branch into `run/<job-id>`, materialises every model there, runs the expectations and merges; it prints
 * the DAG, a line per node and a summary (`--json`: the summary document). `--dry-run` prints the plan (ASCII DAG,
 * scans, levels) or its JSON and materialises nothing.
 */
export function registerRunCommands(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('run a pipeline project on a branch as one transaction')
    .option('-p, --project <dir>', 'project directory (default: the working directory)')
    .option('-r, --ref <branch>', 'branch to run on (default: the active branch)')
    .option('--dry-run', 'plan only: print the DAG, scans and steps; materialise nothing')
    .option('--strict', 'treat warnings as errors')
    .option('-m, --message <msg>', 'message of the commit that lands the run on the branch')
    .option('--param <name=value>', 'set a parameter (repeatable)', collect)
    .option('--select <selector>', 'narrow the graph: name, name+, +name, tag:daily (repeatable)', collect)
    .option(
      '--preview <head|tail>',
      'after a successful run, print the first (head) or last (tail) rows of each table it wrote',
    )
    .option(
      '--remote',
      "run on the lake's `tarn worker` processes (PostgreSQL catalog) instead of in this process",
    )
    .option('--priority <kind>', 'remote runs: query, interactive (default) or batch')
    .option('--pool <name>', 'remote runs: the worker pool (default: default)')
    .option('--detach', 'remote runs: print the job id once submitted instead of following the run')
    .option('--json', 'print JSON')
    .action(async (o: RunOptions) => {
      if (o.preview !== undefined && o.preview !== 'head' && o.preview !== 'tail') {
        throw new TarnError('USAGE', `--preview takes head or tail, not ${JSON.stringify(o.preview)}`, {
          preview: o.preview,
        })
      }
      const dir = resolve(ctx.io.cwd, o.project ?? '.')
      const params = parseParams(o.param ?? [])
      if (!o.remote && (o.priority !== undefined || o.pool !== undefined || o.detach))
        throw new TarnError('USAGE', '--priority, --pool and --detach go with --remote', {})
      if (o.priority !== undefined && !['query', 'interactive', 'batch'].includes(o.priority))
        throw new TarnError(
          'USAGE',
          `--priority takes query, interactive or batch, not ${JSON.stringify(o.priority)}`,
          {
            priority: o.priority,
          },
        )
      const local = o.remote && !o.dryRun ? await ctx.localLake('run --remote') : undefined
      const lake: LakeApi = local ?? (await ctx.lake())
      const ref = o.ref ?? lake.activeBranch()
      // one set of run options, whether the run goes to the workers or runs here
      const run = {
        dir,
        branch: ref,
        params,
        ...(o.select ? { select: o.select } : {}),
        strict: o.strict === true,
        ...(o.message ? { message: o.message } : {}),
        observer: progressPrinter(ctx.io, o.json === true),
      }
      if (local !== undefined) {
        const job = await local.runRemote({
          ...run,
          ...(o.priority !== undefined ? { priority: o.priority as 'query' | 'interactive' | 'batch' } : {}),
          ...(o.pool !== undefined ? { pool: o.pool } : {}),
          wait: o.detach !== true,
        })
        if (o.detach) {
          emit(
            ctx.io,
            o,
            { job: job.id, status: job.status, runBranch: job.runBranch },
            () => `job ${job.id} submitted (run branch ${job.runBranch})`,
          )
          return
        }
        for (const w of job.warnings) ctx.io.err(`warning: ${w}\n`)
        if (o.json) ctx.io.out(`${stringifyJsonLossless(runSummaryJson(job) as unknown as JsonValue, 2)}\n`)
        else ctx.io.out(`\n${runSummaryText(job)}\n`)
        return
      }
      if (!o.dryRun) {
        const { job } = await lake.run(run)
        for (const w of job.warnings) ctx.io.err(`warning: ${w}\n`)
        const shown =
          o.preview && job.mergeCommit ? await previews(lake, job.tables, job.mergeCommit, o.preview) : []
        if (o.json) {
          const doc = {
            ...runSummaryJson(job),
            ...(o.preview
              ? {
                  preview: shown.map(({ text: _text, ...p }) => p),
                }
              : {}),
          }
          ctx.io.out(`${stringifyJsonLossless(doc as unknown as JsonValue, 2)}\n`)
        } else {
          ctx.io.out(`\n${runSummaryText(job)}\n`)
          for (const p of shown) ctx.io.out(previewText(p))
        }
        return
      }
      const planned = await lake.plan({ dir, params, ref, ...(o.select ? { select: o.select } : {}) })
      for (const w of planned.warnings) ctx.io.err(`warning: ${w.message}\n`)
      if (o.strict && planned.warnings.length > 0) {
        const first = planned.warnings[0] as TarnError
        throw new TarnError(first.code, `${first.message} (--strict)`, first.context)
      }
      const physical = planned.physical
      emit(
        ctx.io,
        o,
        {
          dryRun: true,
          plan: pipelinePlanJson(physical),
          createsNamespaces: planned.createsNamespaces,
          warnings: planned.warnings.map((w) => w.toJSON()),
        },
        () =>
          `${renderPlan(physical).trimEnd()}\n${planned.createsNamespaces
            .map((ns) => `\nnamespace ${ns} does not exist on ${ref}: the run will create it`)
            .join('')}`,
      )
    })
}
