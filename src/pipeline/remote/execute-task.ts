import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { isTarnError, TarnError } from '../../util/errors.js'
import type { PlannedProject } from '../plan-project.js'
import { executePlan, type PriorCommit, type RunningJob } from '../run/execute-plan.js'
import type { JobRecord, NodeRecord } from '../run/job-record.js'
import { getCodeSnapshot, TARN_PREFIX } from '../run/job-store.js'
import { loadRunTable } from '../run/load-run-table.js'
import type { RunLake } from '../run/run-lake.js'
import { planRunAt } from '../run/run-pipeline.js'
import { scratchName } from '../run/scratch-name.js'
import { projectCacheDir } from './clean-project-cache.js'
import type { TaskResult } from './coordinator.js'
import type { RemoteRunSpec } from './remote-run-spec.js'
import { remoteTasks } from './remote-task.js'

/** The warehouse key of a model's result exchanged between the workers of a run. */
export function nodeOutputKey(jobId: string, model: string): string {
  return `${TARN_PREFIX}/runs/${jobId}/out/${scratchName(model)}.parquet`
}

/** A run as a worker planned it: the plan and the project files of its code snapshot. */
export interface PlannedRun {
  readonly planned: PlannedProject
  readonly files: Readonly<Record<string, string>>
}

/**
 * Plans of the runs a worker has seen, by job id (a run is planned once per worker, from its code snapshot).
 */
export type PlanCache = Map<string, Promise<PlannedRun>>

const PLANS_KEPT = 32

/**
 * Runs one node execution of a remote run from plain data: rebuilds the project from its code snapshot, plans it at
 * the run's data commit (as the submitter did), runs the task's scans, model or expectation in the lake's DuckDB
 * (TS and Python in their processes), reads the results of upstream models from the warehouse and stores its own
 * for downstream ones, and commits its materialisation on the run branch unless an earlier attempt of the same
 * node already did (the commit carries job id and model, so a retried node never writes its rows twice).
 */
export async function executeTask(
  lake: RunLake,
  spec: RemoteRunSpec,
  job: JobRecord,
  task: string,
  options: { attempt: number; memoryMb: number | null; plans: PlanCache; signal?: AbortSignal },
): Promise<TaskResult & { error?: TarnError }> {
  const engine = await lake.queryEngine()
  const instance = engine.duckdb()
  const projectDir = join(projectCacheDir(lake.config.home), spec.codeHash)
  let planning = options.plans.get(spec.jobId)
  if (!planning) {
    planning = (async () => {
      const files = (await getCodeSnapshot(lake.store, spec.codeHash)).files
      await writeProject(projectDir, files)
      const dataCommit = await lake.catalog.getCommit(spec.dataCommit)
      const planned = await planRunAt(
        lake,
        { dir: projectDir, params: spec.params, ...(spec.select ? { select: [...spec.select] } : {}) },
        dataCommit,
        instance,
      )
      return { planned, files }
    })()
    planning.catch(() => undefined)
    options.plans.set(spec.jobId, planning)
    // a long-lived worker keeps the plans of its latest runs only
    for (const old of options.plans.keys()) {
      if (options.plans.size <= PLANS_KEPT) break
      options.plans.delete(old)
    }
  }
  const { planned, files } = await planning
  const tasks = remoteTasks(planned.physical)
  const t = tasks.find((x) => x.name === task)
  if (!t)
    throw new TarnError('RUN_FAILED', `node ${task} is not in the plan of ${spec.jobId}`, { node: task })
  const needed = new Set(tasks.flatMap((x) => x.dependsOn))
  const scratch = join(engine.scratchDir(), 'runs', `${spec.jobId}-${scratchName(task)}-${options.attempt}`)
  await mkdir(scratch, { recursive: true })
  const upstream = new Map<string, string>()
  for (const dep of t.dependsOn) {
    const path = join(scratch, `${scratchName(dep)}.upstream.parquet`)
    await writeFile(path, await lake.store.get(nodeOutputKey(spec.jobId, dep)))
    upstream.set(dep, path)
  }
  const log: string[] = []
  const running: RunningJob = { ...job, nodes: [...job.nodes], tables: {}, warnings: [] }
  const only = new Set(t.steps)
  try {
    await executePlan(lake, planned, {
      instance,
      jobId: spec.jobId,
      runBranch: spec.runBranch,
      scratch,
      files,
      job: running,
      log: (text) => log.push(`${new Date(lake.clock.now()).toISOString()} ${text}`),
      warn: (message, error) => {
        running.warnings = [...running.warnings, message]
        log.push(`${new Date(lake.clock.now()).toISOString()} warning: ${message}`)
        if (spec.strict)
          throw new TarnError(error?.code ?? 'RUN_FAILED', `${message} (--strict)`, {
            ...error?.context,
            warning: message,
          })
      },
      observer: undefined,
      progressed: () => undefined,
      only,
      upstream,
      ...(options.memoryMb !== null ? { memoryMb: options.memoryMb } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      produced: async (model, parquet) => {
        if (!needed.has(model)) return
        await lake.store.put(nodeOutputKey(spec.jobId, model), await readFile(parquet))
      },
      committed: (model, table) => committedRows(lake, spec, model, table),
    })
    return { steps: ownSteps(running.nodes, only), tables: running.tables, warnings: running.warnings, log }
  } catch (e) {
    const error = isTarnError(e)
      ? e
      : new TarnError('RUN_FAILED', e instanceof Error ? e.message : String(e), { node: task }, { cause: e })
    log.push(`${new Date(lake.clock.now()).toISOString()} [${task}] failed: ${error.message}`)
    return {
      steps: ownSteps(running.nodes, only),
      tables: running.tables,
      warnings: running.warnings,
      log,
      error,
    }
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

function ownSteps(nodes: readonly NodeRecord[], only: ReadonlySet<string>): NodeRecord[] {
  return nodes.filter((n) => only.has(n.id))
}

/**
 * The rows a model's materialisation committed on the run branch in an earlier attempt (found by the commit's
 * `tarn.job_id` and `tarn.model`), with the head it looked from (the commit that follows compare-and-swaps on it).
 */
async function committedRows(
  lake: RunLake,
  spec: RemoteRunSpec,
  model: string,
  table: string,
): Promise<PriorCommit> {
  const head = (await lake.catalog.getBranch(spec.runBranch)).head
  let commit = await lake.catalog.getCommit(head)
  while (commit.hash !== spec.baseCommit) {
    if (commit.properties['tarn.job_id'] === spec.jobId && commit.properties['tarn.model'] === model) {
      const state = await lake.catalog.getTable(commit, table)
      if (!state) return { head, rows: 0 }
      const loaded = await loadRunTable(lake, state.metadataLocation)
      const snap = loaded.metadata.snapshots.find(
        (s) => String(s['snapshot-id']) === String(state.snapshotId),
      )
      return { head, rows: Number(snap?.summary['added-records'] ?? 0) }
    }
    const parent = commit.parents[0]
    if (parent === undefined) return { head }
    commit = await lake.catalog.getCommit(parent)
  }
  return { head }
}

let projectWrites = 0

/** Writes a project's files into `dir` once (through a temporary sibling renamed into place). */
async function writeProject(dir: string, files: Readonly<Record<string, string>>): Promise<void> {
  if (existsSync(dir)) return
  const tmp = `${dir}.tmp-${process.pid}-${++projectWrites}`
  for (const [path, text] of Object.entries(files)) {
    const target = join(tmp, path)
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, text)
  }
  await rename(tmp, dir).catch(async () => {
    // another worker slot wrote it first
    await rm(tmp, { recursive: true, force: true })
  })
}
