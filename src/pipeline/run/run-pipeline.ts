import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { DuckDBInstance } from '@duckdb/node-api'
import type { Commit } from '../../catalog/types.js'
import { quoteIdent, sqlString } from '../../iceberg/index.js'
import { arrowFileToTable, queryToArrowFile, queryToParquet } from '../../runtime/arrow-exchange.js'
import { type NamedRelation, withSession } from '../../runtime/duckdb-session.js'
import { type FunctionLogLine, runFunction } from '../../runtime/function-worker.js'
import { transpileProject } from '../../runtime/module-cache.js'
import { ensurePackageEnv, packageEnvHash } from '../../runtime/package-env.js'
import { memoryMb, timeoutMs } from '../../runtime/resources.js'
import { workerPool } from '../../runtime/worker-pool.js'
import type { WorkerTask } from '../../runtime/worker-protocol.js'
import { isTarnError, TarnError } from '../../util/errors.js'
import type { LogicalNode } from '../logical-plan.js'
import type { PhysicalPlan, PlanStep } from '../physical-plan.js'
import { type PlannedProject, planProject } from '../plan-project.js'
import type { ParameterValue } from '../project.js'
import type { PythonCall } from '../py-model.js'
import { readProjectFiles } from './code-files.js'
import { failingRowsSample } from './failing-rows.js'
import type { JobRecord, NodeRecord } from './job-record.js'
import { codeSnapshotHash, putCodeSnapshot, putJob, putJobLog } from './job-store.js'
import { loadRunTable } from './load-run-table.js'
import { materializeModel } from './materialize.js'
import { planLakeStateAt } from './plan-lake-state.js'
import { type PythonNodeResult, runPythonNode } from './python-node.js'
import type { RunLake } from './run-lake.js'
import type { RunObserver } from './run-observer.js'
import { runScan } from './run-scan.js'
import { scratchName } from './scratch-name.js'

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
  /** Message of the commit that lands the run on the branch (default `Run <project> (<job-id>)`). */
  readonly message?: string
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
  // The lake's query engine lends the run its locked-down DuckDB: planning, scans, models and commits start none.
  const engine = lake.queryEngine()
  engine.catch(() => undefined)
  const targetRef = await lake.catalog.getBranch(target)
  if (targetRef.sealed)
    throw new TarnError('BRANCH_SEALED', `branch ${JSON.stringify(target)} is sealed`, { branch: target })
  const dataCommit = options.dataRef
    ? (await lake.catalog.resolve(options.dataRef)).commit
    : await lake.catalog.getCommit(targetRef.head)
  // Planning errors (project, parameters, selection, SQL, TS, cycles, missing tables) are reported before any
  // branch, job record or commit exists.
  const duckdb = (await engine).duckdb()
  const planned = await planAt(lake, options, dataCommit, duckdb)
  if (options.strict && planned.warnings.length > 0) {
    const first = planned.warnings[0] as TarnError
    throw new TarnError(first.code, `${first.message} (--strict)`, {
      ...first.context,
      warning: first.message,
    })
  }
  const plan: PhysicalPlan = planned.physical
  const files = await readProjectFiles(options.dir)
  // The code snapshot is written while the run branch is forked and the job recorded (its hash is known now).
  const snapshot = putCodeSnapshot(lake.store, { files })
  snapshot.catch(() => undefined)
  const codeHash = codeSnapshotHash({ files })
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
    project: planned.project.name,
    target,
    runBranch,
    dataCommit: dataCommit.hash,
    baseCommit: targetRef.head,
    codeHash,
    params: { ...planned.logical.params },
    select: options.select ? [...options.select] : null,
    strict: options.strict === true,
    rerunOf: options.rerunOf ?? null,
    author: lake.author,
    startedAt: lake.clock.now(),
    finishedAt: null,
    nodes: plan.steps.map((s) => ({
      id: s.id,
      kind: nodeKind(s),
      name: s.name,
      status: 'waiting',
      rows: null,
      startedAt: null,
      finishedAt: null,
      error: null,
    })),
    tables: {},
    mergeCommit: null,
    warnings: [],
    error: null,
  }
  await lake.catalog.createBranch(runBranch, { from: `@${targetRef.head}` })
  // The job record (status running) and the code snapshot are stored while the models run; the run lands only
  // after both are, and its final record is written only after the first.
  const recorded = Promise.all([snapshot, putJob(lake.store, job)])
  recorded.catch(() => undefined)
  const scratch = join((await engine).scratchDir(), 'runs', jobId)
  await mkdir(scratch, { recursive: true })
  let lastError: unknown
  try {
    log(
      `job ${jobId}: run on ${target} reading @${dataCommit.hash.slice(0, 12)} (code ${codeHash.slice(0, 12)})`,
    )
    options.observer?.planned?.(plan, { ...job })
    for (const ns of planned.createsNamespaces)
      log(`namespace ${ns} does not exist on ${target}: the run creates it`)
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
      instance: duckdb,
      jobId,
      runBranch,
      scratch,
      files,
      job,
      log,
      warn,
      observer: options.observer,
    })
    await recorded
    const head = (await lake.catalog.getBranch(runBranch)).head
    if (head !== targetRef.head) {
      const merged = await lake.catalog.merge(runBranch, {
        into: target,
        author: lake.author,
        message: options.message ?? `Run ${planned.project.name} (${jobId})`,
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
    await Promise.all([
      bestEffort(
        () => putJob(lake.store, job),
        (m) => {
          job.warnings = [...job.warnings, `job record not saved: ${m}`]
        },
      ),
      bestEffort(
        () => putJobLog(lake.store, jobId, `${logLines.join('\n')}\n`),
        (m) => {
          job.warnings = [...job.warnings, `job log not saved: ${m}`]
        },
      ),
    ])
    await rm(scratch, { recursive: true, force: true })
    options.observer?.finished?.({ ...job })
    return { job: { ...job }, plan }
  }
  const err = isTarnError(lastError)
    ? lastError
    : new TarnError(
        'RUN_FAILED',
        lastError instanceof Error ? lastError.message : String(lastError),
        {},
        { cause: lastError },
      )
  await recorded.catch(() => undefined)
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

async function planAt(
  lake: RunLake,
  options: RunPipelineOptions,
  commit: Commit,
  duckdb: DuckDBInstance,
): Promise<PlannedProject> {
  const conn = await duckdb.connect()
  try {
    return await planProject(options.dir, {
      ...(options.params ? { params: options.params } : {}),
      ...(options.select ? { select: options.select } : {}),
      ref: `@${commit.hash}`,
      duckdb: conn,
      lake: (tables, namespaces) => planLakeStateAt(lake, commit, tables, namespaces),
    })
  } finally {
    conn.closeSync()
  }
}

interface ExecContext {
  /** The lake engine's sandboxed DuckDB: the run connects to it and never closes it. */
  readonly instance: DuckDBInstance
  readonly jobId: string
  readonly runBranch: string
  readonly scratch: string
  readonly files: Readonly<Record<string, string>>
  readonly job: Mutable<JobRecord>
  readonly log: (text: string) => void
  readonly warn: (message: string, error?: TarnError) => void
  readonly observer: RunObserver | undefined
}

/**
 * The error of a failed expectation: its file and line, and, when it reported failing rows, how many and a sample
 * (as dbt tests do); otherwise the message it gave, if any.
 */
function expectationFailed(
  n: LogicalNode,
  failing: { count: number; sample: readonly unknown[]; columns?: readonly string[] } | null,
  message?: string,
): TarnError {
  const rows = failing
    ? `: ${failing.count} failing row${failing.count === 1 ? '' : 's'}${failing.sample.length > 0 ? `, e.g. ${failing.sample.map((row) => JSON.stringify(row)).join(', ')}` : ''}`
    : message
      ? `: ${message}`
      : ''
  return new TarnError('EXPECTATION_FAILED', `expectation ${n.name} failed at ${n.file}:${n.line}${rows}`, {
    node: n.name,
    expectation: n.name,
    file: n.file,
    line: n.line,
    ...(failing
      ? {
          failingRows: failing.count,
          sample: failing.sample,
          ...(failing.columns ? { columns: failing.columns } : {}),
        }
      : {}),
  })
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
    // observers hear of state changes only; other facts (a scan's files read) arrive with the next one
    if (n && patch.status !== undefined) await x.observer?.node?.({ ...n })
  }
  // TS functions find a booted worker: start one per heap limit now, while the scans and upstream SQL run.
  for (const st of plan.steps) {
    const n = nodes.get(st.name)
    if (n && (st.kind === 'expectation' || (st.kind === 'model' && n.model && n.model.kind !== 'sql'))) {
      workerPool.prestart(memoryMb(n.model?.memory ?? null))
      modules(n.model?.packages ?? {}).catch(() => undefined)
    }
  }
  // The engine's DuckDB serves the whole run: scans, every model's session (an attached database each, so models
  // never see each other's names) and the commits. It is locked down like a query's (files only under the lake's
  // directories and the run's scratch area, no network, no extensions, configuration locked), so a model that
  // slipped past planning still cannot read /etc/passwd, ATTACH a file, INSTALL or SET.
  const instance = x.instance
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

  const runPython = (
    n: LogicalNode,
    kind: 'model' | 'expectation',
    call: PythonCall,
    memory: string | null,
    timeout: string | null,
  ): Promise<PythonNodeResult> =>
    runPythonNode({
      kind,
      name: n.name,
      file: n.file,
      line: n.line,
      projectDir: planned.project.dir,
      call,
      memory,
      timeout,
      relations: relationsOf(n, true),
      scratch: x.scratch,
      cacheRoot,
      params: { ...plan.logical.params },
      jobId: x.jobId,
      instance,
      onLog,
      onProgress: (line) => {
        x.log(line)
        x.observer?.progress?.(line)
      },
    })

  const runTs = async (
    n: LogicalNode,
    kind: 'model' | 'expectation',
  ): Promise<{ rows: number; passed: boolean | null }> => {
    const base = join(x.scratch, scratchName(n.name))
    const inputs: Record<string, string> = {}
    const relations = relationsOf(n, true)
    for (const r of relations) {
      const path = `${base}.in.${scratchName(r.name)}.arrow`
      try {
        await withSession(
          [r],
          (c) => queryToArrowFile(c, `SELECT * FROM ${r.name.split('.').map(quoteIdent).join('.')}`, path),
          instance,
        )
      } catch (e) {
        const i = n.inputs.find((d) => d.alias === r.name)
        const reason = duckdbReason(e)
        throw new TarnError(
          'RUN_FAILED',
          `${kind} ${n.name} failed at ${n.file}:${i?.line ?? n.line}: cannot read its input ${r.name}: ${reason}`,
          {
            node: n.name,
            [kind]: n.name,
            file: n.file,
            line: i?.line ?? n.line,
            input: r.name,
            ...(i?.columns ? { columns: i.columns } : {}),
            ...(i?.filter ? { filter: i.filter } : {}),
            reason,
          },
        )
      }
      inputs[r.name] = path
    }
    const dir = await modules(n.model?.packages ?? {})
    const task: WorkerTask = {
      kind,
      module: join(dir, n.file.replace(/\.(ts|mts|js|mjs)$/, '.js')),
      exportName: n.name,
      name: n.name,
      file: n.file,
      projectDir: planned.project.dir,
      inputs,
      output: kind === 'model' ? `${base}.out.arrow` : `${base}.failing.arrow`,
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
      const out = join(x.scratch, `${scratchName(n.name)}.parquet`)
      if (m.kind === 'sql') {
        try {
          const rows = await withSession(
            relationsOf(n, false),
            (c) => queryToParquet(c, m.sql as string, out),
            instance,
          )
          outputs.set(n.name, out)
          return rows
        } catch (e) {
          if (isTarnError(e)) throw e
          const reason = duckdbReason(e)
          throw new TarnError('RUN_FAILED', `model ${n.name} failed at ${n.file}:${n.line}: ${reason}`, {
            node: n.name,
            model: n.name,
            file: n.file,
            line: n.line,
            reason,
            sql: m.sql,
          })
        }
      }
      if (m.kind === 'py' && m.python) {
        const r = await runPython(n, 'model', m.python, m.memory, m.timeout)
        outputs.set(n.name, r.output as string)
        return r.rows
      }
      await runTs(n, 'model')
      const rows = await withSession(
        [],
        async (c) => {
          await arrowFileToTable(c, join(x.scratch, `${scratchName(n.name)}.out.arrow`), 'result')
          return queryToParquet(c, 'SELECT * FROM result', out)
        },
        instance,
      )
      outputs.set(n.name, out)
      return rows
    }
    if (s.kind === 'materialize') {
      const m = n.model
      if (!m || m.materialize === 'NONE') return null
      // Models write their files side by side; their commits land on the run branch one by one, in plan order.
      const conn = await instance.connect()
      const next = materializeModel(
        lake,
        {
          branch: x.runBranch,
          table: s.table as string,
          model: n.name,
          mode: m.materialize as Exclude<typeof m.materialize, 'NONE'>,
          partitionedBy: m.partitionedBy,
          overwriteFilter: m.overwriteFilter,
          parquet: outputs.get(n.name) as string,
          jobId: x.jobId,
          scratchDir: x.scratch,
        },
        conn,
        commitChain,
      ).finally(() => conn.closeSync())
      commitChain = next.catch(() => undefined)
      const r = await next
      for (const w of r.warnings) x.warn(w)
      x.job.tables = { ...x.job.tables, [s.table as string]: r.rows }
      x.log(`[${n.name}] ${m.materialize} ${s.table}: ${r.rows} row(s), commit ${r.commit.hash.slice(0, 12)}`)
      return r.rows
    }
    const py = n.expectation?.python
    if (py) {
      const r = (await runPython(n, 'expectation', py, null, null)).expectation
      if (r?.passed !== true) {
        const count = r?.failedRows ?? null
        throw expectationFailed(
          n,
          count !== null && count > 0 ? { count, sample: r?.sample ?? [] } : null,
          r?.message,
        )
      }
      return null
    }
    const failingFile = join(x.scratch, `${scratchName(n.name)}.failing.arrow`)
    const sql = n.expectation?.sql
    const r = sql
      ? await withSession(
          relationsOf(n, false),
          async (c) => {
            const rows = await queryToArrowFile(c, sql, failingFile)
            return { rows, passed: rows === 0 }
          },
          instance,
        ).catch((e: unknown) => {
          const reason = duckdbReason(e)
          throw new TarnError(
            'RUN_FAILED',
            `expectation ${n.name} failed at ${n.file}:${n.line}: ${reason}`,
            {
              node: n.name,
              expectation: n.name,
              file: n.file,
              line: n.line,
              reason,
              sql,
            },
          )
        })
      : await runTs(n, 'expectation')
    if (r.passed !== true) {
      const failing = r.rows > 0 ? await failingRowsSample(failingFile) : null
      throw expectationFailed(
        n,
        failing ? { count: r.rows, sample: failing.sample, columns: failing.columns } : null,
      )
    }
    return null
  }

  // Each step starts as soon as the steps it depends on are done (not when their whole level is): a model's
  // materialisation no longer holds back the next model. After a failure no step starts; running ones finish.
  const skipped = Symbol('skipped')
  let failing = false
  const outcomes = new Map<string, Promise<void>>()
  const start = (id: string): Promise<void> => {
    let p = outcomes.get(id)
    if (p) return p
    const s = steps.get(id) as PlanStep
    p = Promise.all(s.dependsOn.map(start)).then(async () => {
      if (failing) throw skipped
      const started = lake.clock.now()
      try {
        await update(id, { status: 'running', startedAt: started })
        const rows = await runStep(s)
        await update(id, { status: 'done', rows, finishedAt: lake.clock.now() })
      } catch (e) {
        failing = true
        await update(id, {
          status: 'failed',
          finishedAt: lake.clock.now(),
          error: e instanceof Error ? e.message : String(e),
        })
        throw e
      }
    })
    p.catch(() => undefined)
    outcomes.set(id, p)
    return p
  }
  try {
    const order = plan.levels.flat()
    const results = await Promise.allSettled(order.map(start))
    // the error of the first failed step in plan order (not one skipped for it)
    const failed = results.find(
      (r): r is PromiseRejectedResult => r.status === 'rejected' && r.reason !== skipped,
    )
    if (failed) throw failed.reason
  } finally {
    conn.closeSync()
  }
}

/**
 * DuckDB's message without the `LINE n:` excerpt it appends, which quotes the SQL tarn wraps around the user's
 * (views over scratch files, COPY): the user's own SQL is in the error's context instead.
 */
function duckdbReason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e)
  return (message.split(/\n\s*\nLINE \d+:|\nLINE \d+:/)[0] ?? message).trim().replace(/\s*\n\s*/g, ' ')
}
