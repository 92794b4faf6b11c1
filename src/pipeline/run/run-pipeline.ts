import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import type { Commit } from '../../catalog/types.js'
import { sqlString } from '../../iceberg/index.js'
import { arrowFileToTable, queryToArrowFile, queryToParquet } from '../../runtime/arrow-exchange.js'
import { type NamedRelation, withSession } from '../../runtime/duckdb-session.js'
import { type FunctionLogLine, runFunction } from '../../runtime/function-worker.js'
import { transpileProject } from '../../runtime/module-cache.js'
import { ensurePackageEnv, packageEnvHash } from '../../runtime/package-env.js'
import { memoryMb, timeoutMs } from '../../runtime/resources.js'
import type { WorkerTask } from '../../runtime/worker-protocol.js'
import { isTarnError, TarnError } from '../../util/errors.js'
import type { LakeTableInfo, PlanLakeState } from '../lake-state.js'
import type { LogicalNode } from '../logical-plan.js'
import type { PhysicalPlan, PlanStep } from '../physical-plan.js'
import { type PlannedProject, planProject } from '../plan-project.js'
import type { ParameterValue } from '../project.js'
import { readProjectFiles } from './code-files.js'
import type { JobRecord, NodeRecord } from './job-record.js'
import { putCodeSnapshot, putJob, putJobLog } from './job-store.js'
import { loadRunTable } from './load-run-table.js'
import { materializeModel } from './materialize.js'
import type { RunLake } from './run-lake.js'
import type { RunObserver } from './run-observer.js'
import { runScan } from './run-scan.js'

/**
 * Options of {@link runPipeline}.
 *
 * @example
 * ```ts
 * const o: RunPipelineOptions = { dir: 'examples/taxi', branch: 'main', params: { min_fare: '4' }, strict: true }
 * ```
 */
export interface RunPipelineOptions {
  /** The project directory. */
  readonly dir: string
  /** The branch to run on and merge into (default: the active branch). */
  readonly branch?: string
  readonly params?: Readonly<Record<string, string | ParameterValue>>
  readonly select?: readonly string[]
  /** Warnings (planning and runtime) fail the run. */
  readonly strict?: boolean
  /** The ref or commit whose tables the run reads (default: the branch head). */
  readonly dataRef?: string
  /** The job this run re-executes. */
  readonly rerunOf?: string
  readonly observer?: RunObserver
}

/**
 * A finished run: its job record (status `succeeded`) and plan.
 *
 * @example
 * ```ts
 * const { job } = await runPipeline(lake, { dir: 'examples/taxi' })
 * job.tables // { 'tarn.trips_clean': 1890, ... }
 * ```
 */
export interface RunOutcome {
  readonly job: JobRecord
  readonly plan: PhysicalPlan
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

function nodeKind(s: PlanStep): NodeRecord['kind'] {
  return s.kind
}

/**
 * Runs a pipeline project as a transaction: forks the branch at its head into `run/<job-id>`, runs every model (SQL in DuckDB,
 * TS in worker processes) with inputs read at the data commit, materialises each model there (one commit per model
 * carrying `tarn.job_id`), runs the expectations, then merges into the branch. On any failure the branch is
 * untouched, the run branch is sealed and the error (`RUN_FAILED`, `EXPECTATION_FAILED`, `MERGE_CONFLICT`, ...)
 * is thrown with the job id and run branch in its context. The job record, code snapshot and log are stored under
 * `_tarn/` in the warehouse.
 *
 * @example
 * ```ts
 * const { job } = await runPipeline(lake, { dir: 'examples/taxi', params: { run_date: '2026-01-31' } })
 * console.log(job.id, job.status, job.mergeCommit)
 * ```
 */
export async function runPipeline(lake: RunLake, options: RunPipelineOptions): Promise<RunOutcome> {
  const jobId = `job-${Buffer.from(lake.random.bytes(6)).toString('hex')}`
  const target = options.branch ?? lake.activeBranch()
  const targetRef = await lake.catalog.getBranch(target)
  if (targetRef.sealed)
    throw new TarnError('BRANCH_SEALED', `branch ${JSON.stringify(target)} is sealed`, { branch: target })
  const dataCommit = options.dataRef
    ? (await lake.catalog.resolve(options.dataRef)).commit
    : await lake.catalog.getCommit(targetRef.head)
  const files = await readProjectFiles(options.dir)
  const codeHash = await putCodeSnapshot(lake.store, { files })
  const runBranch = `run/${jobId}`
  const logLines: string[] = []
  const log = (text: string): void => {
    const line = `${new Date(lake.clock.now()).toISOString()} ${text}`
    logLines.push(line)
    options.observer?.log?.(line)
  }
  const job: Mutable<JobRecord> = {
    id: jobId,
    kind: 'run',
    status: 'running',
    project: '',
    target,
    runBranch,
    dataCommit: dataCommit.hash,
    baseCommit: targetRef.head,
    codeHash,
    params: {},
    select: options.select ? [...options.select] : null,
    strict: options.strict === true,
    rerunOf: options.rerunOf ?? null,
    author: lake.author,
    startedAt: lake.clock.now(),
    finishedAt: null,
    nodes: [],
    tables: {},
    mergeCommit: null,
    warnings: [],
    error: null,
  }
  await lake.catalog.createBranch(runBranch, { from: `@${targetRef.head}` })
  await putJob(lake.store, job)
  const scratch = join(lake.config.home, 'cache', 'runs', jobId)
  await mkdir(scratch, { recursive: true })
  let plan: PhysicalPlan | null = null
  let lastError: unknown
  try {
    log(
      `job ${jobId}: run on ${target} reading @${dataCommit.hash.slice(0, 12)} (code ${codeHash.slice(0, 12)})`,
    )
    const planned = await planAt(lake, options, dataCommit)
    plan = planned.physical
    job.project = planned.project.name
    job.params = { ...planned.logical.params }
    job.nodes = plan.steps.map((s) => ({
      id: s.id,
      kind: nodeKind(s),
      name: s.name,
      status: 'waiting',
      rows: null,
      startedAt: null,
      finishedAt: null,
      error: null,
    }))
    options.observer?.planned?.(plan, { ...job })
    const warn = (message: string, error?: TarnError): void => {
      job.warnings = [...job.warnings, message]
      log(`warning: ${message}`)
      if (options.strict)
        throw new TarnError(error?.code ?? 'RUN_FAILED', `${message} (--strict)`, {
          ...error?.context,
          warning: message,
        })
    }
    for (const w of planned.warnings) warn(w.message, w)
    await execute(lake, planned, {
      jobId,
      runBranch,
      scratch,
      files,
      job,
      log,
      warn,
      observer: options.observer,
    })
    const head = (await lake.catalog.getBranch(runBranch)).head
    if (head !== targetRef.head) {
      const merged = await lake.catalog.merge(runBranch, {
        into: target,
        author: lake.author,
        message: `Run ${planned.project.name} (${jobId})`,
        properties: { 'tarn.job_id': jobId, 'tarn.operation': 'run-merge' },
        job: jobId,
      })
      job.mergeCommit = merged.target.after
      log(`merged ${runBranch} into ${target} (${merged.kind}) -> ${merged.target.after.slice(0, 12)}`)
    } else {
      job.mergeCommit = (await lake.catalog.getBranch(target)).head
      log(`nothing materialised: ${target} unchanged`)
    }
    job.status = 'succeeded'
  } catch (e) {
    lastError = e
    const landing = await landedCommit(lake, target, jobId)
    if (landing !== undefined) {
      // The landing merge committed but its answer was lost: the run succeeded.
      job.mergeCommit = landing
      job.status = 'succeeded'
      log(
        `merged ${runBranch} into ${target} -> ${landing.slice(0, 12)} (confirmed after an error: ${String(e)})`,
      )
    }
  }
  if (job.status === 'succeeded') {
    // From here on the run has landed: cleaning up is best effort and never turns it into a failure.
    await bestEffort(
      () => lake.catalog.deleteBranch(runBranch),
      (m) => log(`warning: could not delete ${runBranch}: ${m}`),
    )
    job.finishedAt = lake.clock.now()
    log(`job ${jobId} succeeded`)
    await bestEffort(
      () => putJob(lake.store, job),
      (m) => {
        job.warnings = [...job.warnings, `job record not saved: ${m}`]
      },
    )
    await bestEffort(
      () => putJobLog(lake.store, jobId, `${logLines.join('\n')}\n`),
      (m) => {
        job.warnings = [...job.warnings, `job log not saved: ${m}`]
      },
    )
    await rm(scratch, { recursive: true, force: true })
    options.observer?.finished?.({ ...job })
    return { job: { ...job }, plan: plan as PhysicalPlan }
  }
  const err = isTarnError(lastError)
    ? lastError
    : new TarnError(
        'RUN_FAILED',
        lastError instanceof Error ? lastError.message : String(lastError),
        {},
        { cause: lastError },
      )
  job.status = 'failed'
  job.error = { code: err.code, message: err.message, context: { ...err.context, job: jobId, runBranch } }
  job.nodes = job.nodes.map((n) => (n.status === 'waiting' ? { ...n, status: 'skipped' } : n))
  log(`failed: ${err.message}`)
  await bestEffort(
    () => lake.catalog.sealBranch(runBranch),
    () => undefined,
  )
  job.finishedAt = lake.clock.now()
  await bestEffort(
    () => putJob(lake.store, job),
    () => undefined,
  )
  await bestEffort(
    () => putJobLog(lake.store, jobId, `${logLines.join('\n')}\n`),
    () => undefined,
  )
  await rm(scratch, { recursive: true, force: true })
  options.observer?.finished?.({ ...job })
  throw new TarnError(
    err.code,
    `run ${jobId} failed: ${err.message} (run branch ${runBranch} is sealed; ${target} is untouched)`,
    { ...err.context, job: jobId, runBranch, target },
    { cause: err },
  )
}

/** How far back the first-parent history of the target is searched for a landing whose answer was lost. */
const LANDING_SEARCH = 100

/** The commit that landed `jobId` on `target`, when it exists among the target's latest first-parent commits. */
async function landedCommit(lake: RunLake, target: string, jobId: string): Promise<string | undefined> {
  try {
    let commit = await lake.catalog.getCommit((await lake.catalog.getBranch(target)).head)
    for (let i = 0; i < LANDING_SEARCH; i++) {
      if (commit.properties['tarn.landed_job'] === jobId) return commit.hash
      const parent = commit.parents[0]
      if (parent === undefined) return undefined
      commit = await lake.catalog.getCommit(parent)
    }
  } catch {
    // the catalog cannot tell now; the run is reported as failed
  }
  return undefined
}

/** Runs a clean-up step, retrying a transient failure twice, and reports a final failure instead of throwing. */
async function bestEffort(step: () => Promise<unknown>, report: (message: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await step()
      return
    } catch (e) {
      if (attempt >= 3) {
        report(e instanceof Error ? e.message : String(e))
        return
      }
    }
  }
}

async function planAt(lake: RunLake, options: RunPipelineOptions, commit: Commit): Promise<PlannedProject> {
  return planProject(options.dir, {
    ...(options.params ? { params: options.params } : {}),
    ...(options.select ? { select: options.select } : {}),
    ref: `@${commit.hash}`,
    lake: async (tables) => {
      const state: Record<string, LakeTableInfo> = {}
      for (const key of tables) {
        const t = await lake.catalog.getTable(commit, key)
        if (!t) continue
        const loaded = await loadRunTable(lake, t.metadataLocation)
        const m = loaded.metadata
        const schema = m.schemas.find((s) => s['schema-id'] === m['current-schema-id'])
        const spec = m['partition-specs'].find((p) => p['spec-id'] === m['default-spec-id'])
        const byId = new Map((schema?.fields ?? []).map((f) => [f.id, f.name]))
        state[key] = {
          columns: (schema?.fields ?? []).map((f) => f.name),
          partitionColumns: (spec?.fields ?? []).map((f) => byId.get(f['source-id']) ?? ''),
        }
      }
      const s: PlanLakeState = { tables: state }
      return s
    },
  })
}

interface ExecContext {
  readonly jobId: string
  readonly runBranch: string
  readonly scratch: string
  readonly files: Readonly<Record<string, string>>
  readonly job: Mutable<JobRecord>
  readonly log: (text: string) => void
  readonly warn: (message: string, error?: TarnError) => void
  readonly observer: RunObserver | undefined
}

function safeName(s: string): string {
  return s.replace(/[^\w.-]+/g, '_')
}

async function execute(lake: RunLake, planned: PlannedProject, x: ExecContext): Promise<void> {
  const plan = planned.physical
  const nodes = new Map(plan.logical.nodes.map((n) => [n.name, n]))
  const steps = new Map(plan.steps.map((s) => [s.id, s]))
  const scanSqls = new Map<string, string>()
  const outputs = new Map<string, string>()
  const cacheRoot = join(lake.config.home, 'cache')
  const moduleDirs = new Map<string, Promise<string>>()
  const modules = (packages: Readonly<Record<string, string>>): Promise<string> => {
    const key = packageEnvHash(packages)
    let p = moduleDirs.get(key)
    if (!p) {
      p = ensurePackageEnv(packages, cacheRoot).then((env) =>
        transpileProject(planned.project.dir, x.files, cacheRoot, env),
      )
      moduleDirs.set(key, p)
    }
    return p
  }
  let commitChain: Promise<unknown> = Promise.resolve()
  const update = async (id: string, patch: Partial<NodeRecord>): Promise<void> => {
    x.job.nodes = x.job.nodes.map((n) => (n.id === id ? { ...n, ...patch } : n))
    const n = x.job.nodes.find((m) => m.id === id)
    if (n) await x.observer?.node?.({ ...n })
  }
  const instance = await DuckDBInstance.create(':memory:')
  const conn = await instance.connect()
  const dataCommit = await lake.catalog.getCommit(x.job.dataCommit)
  const onLog = (l: FunctionLogLine): void => {
    const where = l.line === null ? (l.file ?? '') : `${l.file}:${l.line}`
    x.log(`[${l.node} ${where}] ${l.stream === 'stderr' ? 'stderr: ' : ''}${l.text}`)
  }

  const relationsOf = (n: LogicalNode, ts: boolean): NamedRelation[] =>
    n.inputs.map((i) => {
      const base =
        i.source.kind === 'model'
          ? `SELECT * FROM read_parquet(${sqlString(outputs.get(i.source.model) as string)})`
          : (scanSqls.get(i.source.table) as string)
      if (!ts) return { name: i.alias, sql: base }
      const cols =
        i.columns === null
          ? '*'
          : [...new Set([...i.columns])].map((c) => `"${c.replace(/"/g, '""')}"`).join(', ')
      return {
        name: i.alias,
        sql: `SELECT ${cols} FROM (${base}) AS src${i.filter ? ` WHERE ${i.filter}` : ''}`,
      }
    })

  const runTs = async (
    n: LogicalNode,
    kind: 'model' | 'expectation',
  ): Promise<{ rows: number; passed: boolean | null }> => {
    const base = join(x.scratch, safeName(n.name))
    const inputs: Record<string, string> = {}
    const relations = relationsOf(n, true)
    await withSession(relations, async (c) => {
      for (const r of relations) {
        const path = `${base}.in.${safeName(r.name)}.arrow`
        await queryToArrowFile(
          c,
          `SELECT * FROM ${r.name
            .split('.')
            .map((p) => `"${p}"`)
            .join('.')}`,
          path,
        )
        inputs[r.name] = path
      }
    })
    const dir = await modules(n.model?.packages ?? {})
    const task: WorkerTask = {
      kind,
      module: join(dir, n.file.replace(/\.(ts|mts|js|mjs)$/, '.js')),
      exportName: n.name,
      name: n.name,
      file: n.file,
      projectDir: planned.project.dir,
      inputs,
      output: kind === 'model' ? `${base}.out.arrow` : null,
      params: { ...plan.logical.params },
    }
    return runFunction({
      task,
      taskFile: `${base}.task.json`,
      memoryMb: memoryMb(n.model?.memory ?? null),
      timeoutMs: timeoutMs(n.model?.timeout ?? null),
      line: n.line,
      onLog,
    })
  }

  const runStep = async (s: PlanStep): Promise<number | null> => {
    if (s.kind === 'scan') {
      const state = await lake.catalog.getTable(dataCommit, s.name)
      if (!state)
        throw new TarnError('TABLE_NOT_FOUND', `table ${s.name} does not exist at the data commit`, {
          table: s.name,
        })
      const loaded = await loadRunTable(lake, state.metadataLocation)
      const scan = await runScan(
        loaded,
        plan.scans.find((sc) => sc.table === s.name),
        conn,
      )
      scanSqls.set(s.name, scan.sql)
      await update(s.id, { scan: scan.record })
      return scan.rows
    }
    const n = nodes.get(s.name) as LogicalNode
    if (s.kind === 'model') {
      const m = n.model
      if (!m) return null
      const out = join(x.scratch, `${safeName(n.name)}.parquet`)
      if (m.kind === 'sql') {
        try {
          const rows = await withSession(relationsOf(n, false), (c) =>
            queryToParquet(c, m.sql as string, out),
          )
          outputs.set(n.name, out)
          return rows
        } catch (e) {
          if (isTarnError(e)) throw e
          const reason = e instanceof Error ? e.message : String(e)
          throw new TarnError('RUN_FAILED', `model ${n.name} failed at ${n.file}:${n.line}: ${reason}`, {
            node: n.name,
            model: n.name,
            file: n.file,
            line: n.line,
            reason,
          })
        }
      }
      await runTs(n, 'model')
      const rows = await withSession([], async (c) => {
        await arrowFileToTable(c, join(x.scratch, `${safeName(n.name)}.out.arrow`), 'result')
        return queryToParquet(c, 'SELECT * FROM result', out)
      })
      outputs.set(n.name, out)
      return rows
    }
    if (s.kind === 'materialize') {
      const m = n.model
      if (!m || m.materialize === 'NONE') return null
      const next = commitChain.then(() =>
        materializeModel(lake, {
          branch: x.runBranch,
          table: s.table as string,
          model: n.name,
          mode: m.materialize as Exclude<typeof m.materialize, 'NONE'>,
          partitionedBy: m.partitionedBy,
          overwriteFilter: m.overwriteFilter,
          parquet: outputs.get(n.name) as string,
          jobId: x.jobId,
        }),
      )
      commitChain = next.catch(() => undefined)
      const r = await next
      for (const w of r.warnings) x.warn(w)
      x.job.tables = { ...x.job.tables, [s.table as string]: r.rows }
      x.log(`[${n.name}] ${m.materialize} ${s.table}: ${r.rows} row(s), commit ${r.commit.hash.slice(0, 12)}`)
      return r.rows
    }
    const r = await runTs(n, 'expectation')
    if (r.passed !== true) {
      throw new TarnError('EXPECTATION_FAILED', `expectation ${n.name} failed at ${n.file}:${n.line}`, {
        node: n.name,
        expectation: n.name,
        file: n.file,
        line: n.line,
      })
    }
    return null
  }

  try {
    for (const level of plan.levels) {
      const results = await Promise.allSettled(
        level.map(async (id) => {
          const s = steps.get(id) as PlanStep
          const started = lake.clock.now()
          try {
            await update(id, { status: 'running', startedAt: started })
            const rows = await runStep(s)
            await update(id, { status: 'done', rows, finishedAt: lake.clock.now() })
          } catch (e) {
            await update(id, {
              status: 'failed',
              finishedAt: lake.clock.now(),
              error: e instanceof Error ? e.message : String(e),
            })
            throw e
          }
        }),
      )
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed) throw failed.reason
    }
  } finally {
    conn.closeSync()
    instance.closeSync()
  }
}
