import type { DuckDBInstance } from '@duckdb/node-api'
import type { Commit } from '../../catalog/types.js'
import type { QueryEngine } from '../../engine/query-engine.js'
import { TarnError } from '../../util/errors.js'
import { type PlannedProject, planProject } from '../plan-project.js'
import { readProjectFiles } from './code-files.js'
import { codeSnapshotHash } from './job-store.js'
import { planLakeStateAt } from './plan-lake-state.js'
import type { RunLake } from './run-lake.js'
import type { RunPipelineOptions } from './run-pipeline.js'

/**
 * What a run starts from, known before it writes anything: its job id and run branch, the target branch and the head
 * it forks, the data commit it reads, its plan, its project files and their code snapshot's hash. A local run and a
 * run submitted to the workers start from the same value.
 */
export interface RunStart {
  readonly jobId: string
  /** The branch the run merges into. */
  readonly target: string
  /** `run/<job-id>`. */
  readonly runBranch: string
  /** The target's head the run branch is forked from. */
  readonly baseCommit: string
  /** The commit whose tables the run reads. */
  readonly dataCommit: Commit
  readonly planned: PlannedProject
  /** The project files (the code snapshot). */
  readonly files: Readonly<Record<string, string>>
  /** The hash the code snapshot is stored under. */
  readonly codeHash: string
  /** The lake's query engine: the run planned with its DuckDB, and borrows it and its scratch area. */
  readonly engine: QueryEngine
}

/**
 * Starts a run without writing anything: picks its job id, checks the target branch is not sealed, resolves the data
 * commit, plans the project there (every planning error is thrown here) and reads the project files. With
 * `options.strict`, a planning warning is thrown.
 */
export async function startRun(lake: RunLake, options: RunPipelineOptions): Promise<RunStart> {
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
  const opened = await engine
  const planned = await planRunAt(lake, options, dataCommit, opened.duckdb())
  if (options.strict && planned.warnings.length > 0) {
    const first = planned.warnings[0] as TarnError
    throw new TarnError(first.code, `${first.message} (--strict)`, {
      ...first.context,
      warning: first.message,
    })
  }
  const files = await readProjectFiles(options.dir)
  return {
    jobId,
    target,
    runBranch: `run/${jobId}`,
    baseCommit: targetRef.head,
    dataCommit,
    planned,
    files,
    codeHash: codeSnapshotHash({ files }),
    engine: opened,
  }
}

/**
 * Plans a run's project at its data commit with the run's DuckDB (what {@link startRun} and a remote node execution
 * do before anything is written).
 */
export async function planRunAt(
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
