import { join } from 'node:path'
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import { arrowFileToTable, queryToArrowFile, queryToParquet } from '../../duckdb/arrow-exchange.js'
import { quoteIdent, sqlString } from '../../duckdb/sql-quote.js'
import { type NamedRelation, withSession } from '../../runtime/duckdb-session.js'
import { type FunctionLogLine, runFunction } from '../../runtime/function-worker.js'
import { transpileProject } from '../../runtime/module-cache.js'
import { ensurePackageEnv, packageEnvHash } from '../../runtime/package-env.js'
import { builtPythonEnv } from '../../runtime/python-env.js'
import { pythonPool } from '../../runtime/python-pool.js'
import { memoryMb, timeoutMs } from '../../runtime/resources.js'
import { workerPool } from '../../runtime/worker-pool.js'
import type { WorkerTask } from '../../runtime/worker-protocol.js'
import { isTarnError, TarnError } from '../../util/errors.js'
import type { LogicalNode } from '../logical-plan.js'
import type { PlanStep } from '../physical-plan.js'
import type { PlannedProject } from '../plan-project.js'
import type { PythonCall } from '../py-model.js'
import { duckdbReason } from './duckdb-reason.js'
import { expectationFailed } from './expectation-failed.js'
import { failingRowsSample } from './failing-rows.js'
import type { JobRecord, NodeRecord } from './job-record.js'
import { loadRunTable } from './load-run-table.js'
import { materializeModel } from './materialize.js'
import { type PythonNodeResult, runPythonNode } from './python-node.js'
import type { RunLake } from './run-lake.js'
import type { RunObserver } from './run-observer.js'
import { runScan } from './run-scan.js'
import { scratchName } from './scratch-name.js'

/**
 * An input of a TS or Python function: its view, and for a fused SQL model (see `PlanStep.fusedInto`) that model and
 * the views its query reads.
 */
interface InputRelation extends NamedRelation {
  readonly views?: readonly NamedRelation[]
  readonly fused?: LogicalNode
}

/**
 * Runs `query` on `conn`, interrupting it when `signal` aborts (a scheduler's preemption of a SQL node): DuckDB then
 * stops at its next chunk and the query rejects.
 */
async function interruptedOnAbort<T>(
  conn: DuckDBConnection,
  signal: AbortSignal | undefined,
  query: () => Promise<T>,
): Promise<T> {
  if (!signal) return query()
  if (signal.aborted) throw new TarnError('RUN_FAILED', 'preempted (stopped by the scheduler)', {})
  const stop = (): void => conn.interrupt()
  signal.addEventListener('abort', stop, { once: true })
  try {
    return await query()
  } finally {
    signal.removeEventListener('abort', stop)
  }
}

/**
 * A job record being filled in by its run.
 */
export type RunningJob = { -readonly [K in keyof JobRecord]: JobRecord[K] }

/**
 * What {@link executePlan} needs of its run: the DuckDB it borrows, the job and its branch, scratch area, project
 * files, log and warnings.
 */
export interface ExecContext {
  /** The lake engine's sandboxed DuckDB: the run connects to it and never closes it. */
  readonly instance: DuckDBInstance
  readonly jobId: string
  readonly runBranch: string
  readonly scratch: string
  readonly files: Readonly<Record<string, string>>
  readonly job: RunningJob
  readonly log: (text: string) => void
  readonly warn: (message: string, error?: TarnError) => void
  readonly observer: RunObserver | undefined
  /** Called when a node changes state: the job record is saved again soon. */
  readonly progressed: () => void
  /**
   * Remote node executions: the ids of the steps to run (default: all). A step outside it counts as done; the
   * outputs of models computed elsewhere come from `upstream`.
   */
  readonly only?: ReadonlySet<string>
  /** Remote node executions: the result files (Parquet) of models run elsewhere, by model name. */
  readonly upstream?: ReadonlyMap<string, string>
  /** Remote node executions: hears of each model's result file before the model counts as done. */
  readonly produced?: (model: string, parquet: string) => Promise<void>
  /**
   * Remote node executions: the rows a model's materialisation already committed on the run branch (by an earlier
   * attempt of the same node), or undefined; such a materialisation is not written again.
   */
  readonly committed?: (model: string, table: string) => Promise<PriorCommit>
  /** Remote node executions: a TS or Python model's memory limit in MB instead of its declared one (an OOM retry's). */
  readonly memoryMb?: number
  /** Remote node executions: aborting it stops the running TS and Python functions (preemption). */
  readonly signal?: AbortSignal
}

/**
 * What a remote node execution found on its run branch before committing a model's materialisation: the rows an
 * earlier attempt of the node committed (`rows`), else the head it checked (`head`), which the commit then
 * compare-and-swaps on.
 */
export interface PriorCommit {
  readonly head: string
  readonly rows?: number
}

/**
 * Runs the steps of a planned project on its run branch: scans, SQL models in sessions of the borrowed DuckDB, TS
 * and Python models in workers, one commit per materialised model (files written side by side, commits in plan
 * order), expectations. Each step starts once the steps it depends on are done; after a failure no step starts,
 * and the first failed step's error is thrown. Node states go to `x.job` and the observer.
 */
export async function executePlan(lake: RunLake, planned: PlannedProject, x: ExecContext): Promise<void> {
  const plan = planned.physical
  const nodes = new Map(plan.logical.nodes.map((n) => [n.name, n]))
  const steps = new Map(plan.steps.map((s) => [s.id, s]))
  const scanSqls = new Map<string, string>()
  const outputs = new Map<string, string>(x.upstream ?? [])
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
  const update = async (id: string, patch: Partial<NodeRecord>): Promise<void> => {
    x.job.nodes = x.job.nodes.map((n) => (n.id === id ? { ...n, ...patch } : n))
    const n = x.job.nodes.find((m) => m.id === id)
    // observers hear of state changes only; other facts (a scan's files read) arrive with the next one
    if (n && patch.status !== undefined) {
      x.progressed()
      await x.observer?.node?.({ ...n })
    }
  }
  // TS and Python functions find a started process (one per heap limit, one per built Python environment): start
  // them now, while the scans and upstream SQL run (TS workers once the first steps are under way, so the fork
  // overlaps DuckDB's work).
  for (const st of plan.steps) {
    const n = nodes.get(st.name)
    if (x.only && !x.only.has(st.id)) continue
    if (!n || (st.kind !== 'expectation' && st.kind !== 'model')) continue
    const py = st.kind === 'model' ? n.model?.python : n.expectation?.python
    const python = py ? builtPythonEnv({ python: py.version, pip: py.pip }, cacheRoot) : null
    if (python) pythonPool.prestart(python)
    const ts = st.kind === 'model' ? n.model?.kind === 'ts' : !n.expectation?.sql && !n.expectation?.python
    if (ts) {
      workerPool.prestartSoon(x.memoryMb ?? memoryMb(n.model?.memory ?? null))
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

  // SQL models run inside the input query of their one TS reader (see PlanStep.fusedInto), by model name: the
  // model's own inputs, which become views of the reader's input session
  const fused = new Map<string, NamedRelation[]>()
  const relationsOf = (n: LogicalNode, ts: boolean): InputRelation[] =>
    n.inputs.map((i) => {
      const from = i.source.kind === 'model' ? i.source.model : null
      const views = from === null ? undefined : fused.get(from)
      const base =
        from === null
          ? (scanSqls.get(i.source.kind === 'table' ? i.source.table : '') as string)
          : views
            ? ((nodes.get(from) as LogicalNode).model?.sql as string)
            : `SELECT * FROM read_parquet(${sqlString(outputs.get(from) as string)})`
      const own = views && from !== null ? { views, fused: nodes.get(from) as LogicalNode } : {}
      if (!ts) return { name: i.alias, sql: base, ...own }
      const cols = i.columns === null ? '*' : [...new Set([...i.columns])].map(quoteIdent).join(', ')
      return {
        name: i.alias,
        // a line break before the parenthesis: the model's SQL may end in a line comment
        sql: `SELECT ${cols} FROM (${base}\n) AS src${i.filter ? ` WHERE ${i.filter}` : ''}`,
        ...own,
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
      ...(x.memoryMb !== undefined ? { memoryMb: x.memoryMb } : {}),
      ...(x.signal ? { signal: x.signal } : {}),
    })

  /**
   * After the input query of a fused model's reader failed: runs the model's query on its own (the failure path
   * only) and, when that fails too, marks the model failed and throws its error (naming its file and line); else
   * returns, and the reader's input is to blame.
   */
  const fusedModelFailure = async (n: LogicalNode, views: readonly NamedRelation[]): Promise<void> => {
    const sql = n.model?.sql as string
    const alone = join(x.scratch, `${scratchName(n.name)}.alone.parquet`)
    const error = await withSession(views, (c) => queryToParquet(c, sql, alone), instance).then(
      () => null,
      (e: unknown) => e,
    )
    if (error === null) return
    const reason = duckdbReason(error)
    const failure = new TarnError('RUN_FAILED', `model ${n.name} failed at ${n.file}:${n.line}: ${reason}`, {
      node: n.name,
      model: n.name,
      file: n.file,
      line: n.line,
      reason,
      sql,
    })
    await update(`model:${n.name}`, { status: 'failed', error: failure.message })
    throw failure
  }

  const runTs = async (
    n: LogicalNode,
    kind: 'model' | 'expectation',
  ): Promise<{ rows: number; passed: boolean | null; output: string | null }> => {
    const base = join(x.scratch, scratchName(n.name))
    const relations = relationsOf(n, true)
    const inputs: Record<string, string> = Object.fromEntries(
      relations.map((r) => [r.name, `${base}.in.${scratchName(r.name)}.arrow`]),
    )
    // The worker gets its task (and imports the function's module) while its inputs are written.
    const writeInputs = async (): Promise<void> => {
      for (const r of relations) {
        const path = inputs[r.name] as string
        try {
          await withSession(
            [...(r.views ?? []), r],
            (c) => queryToArrowFile(c, `SELECT * FROM ${r.name.split('.').map(quoteIdent).join('.')}`, path),
            instance,
          )
        } catch (e) {
          if (r.fused) await fusedModelFailure(r.fused, r.views ?? [])
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
      }
    }
    const written = writeInputs()
    // runFunction waits for it; this only keeps a failure before then from going unhandled
    written.catch(() => undefined)
    const dir = await modules(n.model?.packages ?? {})
    const task: WorkerTask = {
      kind,
      module: join(dir, n.file.replace(/\.(ts|mts|js|mjs)$/, '.js')),
      exportName: n.name,
      name: n.name,
      file: n.file,
      projectDir: planned.project.dir,
      inputs,
      output: kind === 'model' ? `${base}.out` : `${base}.failing.arrow`,
      params: { ...plan.logical.params },
    }
    return runFunction({
      task,
      taskFile: `${base}.task.json`,
      memoryMb: x.memoryMb ?? memoryMb(n.model?.memory ?? null),
      timeoutMs: timeoutMs(n.model?.timeout ?? null),
      line: n.line,
      onLog,
      inputs: written,
      ...(x.signal ? { signal: x.signal } : {}),
    })
  }

  /**
   * Writes a model's result into its table on the run branch: its files at once, its commit when `turn` resolves
   * (the materialisation before it has landed and this one's start is observed); a rejected `turn` commits nothing.
   */
  const materializeStep = async (s: PlanStep, turn: Promise<void>): Promise<number | null> => {
    const n = nodes.get(s.name) as LogicalNode
    const m = n.model
    if (!m || m.materialize === 'NONE') return null
    // check-then-commit is atomic: the commit is a compare-and-swap on the head that was checked; when another
    // attempt of this node committed in between, the check runs again and finds its commit
    for (let cas = 0; ; cas++) {
      try {
        return await materializeOnce(n, s, m, turn)
      } catch (e) {
        if (!x.committed || cas >= 8 || !isTarnError(e) || e.code !== 'BRANCH_HEAD_CHANGED') throw e
        x.log(`[${n.name}] the run branch moved under the commit of ${s.table}: checked again`)
      }
    }
  }

  const materializeOnce = async (
    n: LogicalNode,
    s: PlanStep,
    m: NonNullable<LogicalNode['model']>,
    turn: Promise<void>,
  ): Promise<number> => {
    const prior = await x.committed?.(n.name, s.table as string)
    if (prior?.rows !== undefined) {
      await turn
      x.job.tables = { ...x.job.tables, [s.table as string]: prior.rows }
      x.log(
        `[${n.name}] ${m.materialize} ${s.table}: already committed by an earlier attempt, not written again`,
      )
      return prior.rows
    }
    const conn = await instance.connect()
    const r = await materializeModel(
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
        ...(prior ? { baseHead: prior.head } : {}),
      },
      conn,
      turn,
    ).finally(() => conn.closeSync())
    for (const w of r.warnings) x.warn(w)
    x.job.tables = { ...x.job.tables, [s.table as string]: r.rows }
    x.log(`[${n.name}] ${m.materialize} ${s.table}: ${r.rows} row(s), commit ${r.commit.hash.slice(0, 12)}`)
    return r.rows
  }

  const runStep = async (s: PlanStep): Promise<number | null> => {
    const rows = await runStepOnly(s)
    const out = outputs.get(s.name)
    if (s.kind === 'model' && x.produced && out !== undefined) await x.produced(s.name, out)
    return rows
  }

  const runStepOnly = async (s: PlanStep): Promise<number | null> => {
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
      if (m.kind === 'sql' && s.fusedInto !== undefined && x.only === undefined) {
        fused.set(n.name, relationsOf(n, false))
        await update(s.id, { fusedInto: s.fusedInto })
        return null
      }
      if (m.kind === 'sql') {
        try {
          const rows = await withSession(
            relationsOf(n, false),
            (c) => interruptedOnAbort(c, x.signal, () => queryToParquet(c, m.sql as string, out)),
            instance,
          )
          outputs.set(n.name, out)
          return rows
        } catch (e) {
          if (isTarnError(e)) throw e
          // the words the workers look for: the node is queued again, not failed
          const reason = x.signal?.aborted ? 'preempted (stopped by the scheduler)' : duckdbReason(e)
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
      const r = await runTs(n, 'model')
      // flat results arrive as Parquet, read as they are; others as Arrow IPC, loaded and written here
      if (r.output?.endsWith('.parquet')) {
        outputs.set(n.name, r.output)
        return r.rows
      }
      const rows = await withSession(
        [],
        async (c) => {
          await arrowFileToTable(c, r.output as string, 'result')
          return queryToParquet(c, 'SELECT * FROM result', out)
        },
        instance,
      )
      outputs.set(n.name, out)
      return rows
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
            const rows = await interruptedOnAbort(c, x.signal, () => queryToArrowFile(c, sql, failingFile))
            return { rows, passed: rows === 0 }
          },
          instance,
        ).catch((e: unknown) => {
          const reason = x.signal?.aborted ? 'preempted (stopped by the scheduler)' : duckdbReason(e)
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
  // materialisation no longer holds back the next model. Running steps always finish.
  const skipped = Symbol('skipped')
  let failing = false
  const outcomes = new Map<string, Promise<void>>()
  const order = plan.levels.flat().filter((id) => x.only === undefined || x.only.has(id))
  // Materialisations take turns in plan order (their commits land in that order, and each one's start is observed
  // alone; their files are written beforehand, side by side); models and expectations run beside them. After a failure no model or expectation starts, but a model
  // that finished is still written, so the sealed run branch shows every result the run computed.
  const previousWrite = new Map<string, string>()
  let lastWrite: string | undefined
  for (const id of order) {
    if (steps.get(id)?.kind !== 'materialize') continue
    if (lastWrite !== undefined) previousWrite.set(id, lastWrite)
    lastWrite = id
  }
  const start = (id: string): Promise<void> => {
    let p = outcomes.get(id)
    if (p) return p
    // a step another node execution ran (remote runs) is done
    if (x.only && !x.only.has(id)) return Promise.resolve()
    const s = steps.get(id) as PlanStep
    const turn = previousWrite.get(id)
    p = Promise.all(s.dependsOn.map(start)).then(async () => {
      // A materialisation writes its files as soon as its model is done, beside the others: only its commit (and
      // its observed start) waits for its turn.
      let turnCame: { resolve: () => void; reject: (e: unknown) => void } | undefined
      const myTurn = new Promise<void>((resolve, reject) => {
        turnCame = { resolve, reject }
      })
      // a turn that never comes is not an unhandled rejection (the write may not wait for it yet)
      myTurn.catch(() => undefined)
      const written = s.kind === 'materialize' ? materializeStep(s, myTurn) : undefined
      written?.catch(() => undefined)
      if (written) writes.push(written)
      if (turn !== undefined) {
        // a write whose model finished waits for the write before it, and lands unless that one did not: the run
        // branch then holds a prefix of the plan's commits, whatever else failed meanwhile
        const before = await start(turn).then(
          () => true,
          () => false,
        )
        if (!before) {
          turnCame?.reject(skipped)
          throw skipped
        }
      } else if (failing && s.kind !== 'materialize') throw skipped
      const started = lake.clock.now()
      try {
        await update(id, { status: 'running', startedAt: started })
        turnCame?.resolve()
        const rows = written ? await written : await runStep(s)
        await update(id, { status: 'done', rows, finishedAt: lake.clock.now() })
      } catch (e) {
        turnCame?.reject(e)
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
  // materialisations whose turn never came still finish writing their files (into the scratch area too) after
  // their step gave up: the run waits for them before it cleans up
  const writes: Promise<unknown>[] = []
  try {
    const results = await Promise.allSettled(order.map(start))
    await Promise.allSettled(writes)
    // the error of the first failed step in plan order (not one skipped for it)
    const failed = results.find(
      (r): r is PromiseRejectedResult => r.status === 'rejected' && r.reason !== skipped,
    )
    if (failed) throw failed.reason
  } finally {
    conn.closeSync()
  }
}
