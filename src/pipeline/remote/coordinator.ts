import type pg from 'pg'
import { memoryText } from '../../runtime/resources.js'
import { isTarnError, TarnError } from '../../util/errors.js'
import { bestEffort } from '../run/best-effort.js'
import type { JobRecord, NodeRecord } from '../run/job-record.js'
import { putJob, putJobLog, TARN_PREFIX } from '../run/job-store.js'
import { landedCommit } from '../run/landed-commit.js'
import type { RunLake } from '../run/run-lake.js'
import type { LandJobData, NodeJobData, RemoteRunSpec } from './remote-run-spec.js'
import {
  ACTIVATE_JOB,
  COMPLETE_JOB,
  LAND_QUEUE,
  nodeQueue,
  queuePriority,
  RunQueue,
  type TakenLanding,
} from './run-queue.js'

interface RunRow {
  readonly state: string
  readonly spec: RemoteRunSpec
  readonly job: JobRecord
}

/** A task of a run as advancing the run needs it. */
interface TaskState {
  readonly task: string
  readonly depends_on: string[]
  readonly state: string
}

/** Reads a run's row, locked for this transaction (undefined for a run that does not exist). */
export async function lockRun(c: pg.PoolClient, jobId: string): Promise<RunRow | undefined> {
  const r = await c.query('SELECT state, spec, job FROM tarn_runs WHERE job_id = $1 FOR UPDATE', [jobId])
  return r.rows[0] as RunRow | undefined
}

/** Saves a run's job record in the queue's tables and the warehouse (under the run's row lock). */
export async function saveJob(c: pg.PoolClient, lake: RunLake, job: JobRecord): Promise<void> {
  await c.query('UPDATE tarn_runs SET job = $2 WHERE job_id = $1', [job.id, JSON.stringify(job)])
  await putJob(lake.store, job)
}

/** Appends lines to a run's log (stored in the warehouse when the run ends). */
export async function appendLog(
  c: pg.PoolClient | pg.Pool,
  jobId: string,
  lines: readonly string[],
): Promise<void> {
  if (lines.length === 0) return
  await c.query('INSERT INTO tarn_job_logs (job_id, line) SELECT $1, unnest($2::text[])', [jobId, [...lines]])
}

/**
 * Queues every waiting task of a run whose inputs are done, at the run's priority and in its pool; when every task
 * is done, moves the run to `landing` and queues its landing. Runs inside the caller's transaction (run row locked).
 */
export async function advanceRun(q: RunQueue, c: pg.PoolClient, spec: RemoteRunSpec): Promise<void> {
  const tasks = (
    await c.query('SELECT task, depends_on, state FROM tarn_tasks WHERE job_id = $1 ORDER BY task', [
      spec.jobId,
    ])
  ).rows as TaskState[]
  if (tasks.every((t) => t.state === 'done'))
    await c.query("UPDATE tarn_runs SET state = 'landing' WHERE job_id = $1", [spec.jobId])
  await queueReady(q, c, spec, tasks)
}

/** The queue side of {@link advanceRun}: the run's state (`landing` when every task is done) is already saved. */
async function queueReady(
  q: RunQueue,
  c: pg.PoolClient,
  spec: RemoteRunSpec,
  tasks: readonly TaskState[],
): Promise<void> {
  const done = new Set(tasks.filter((t) => t.state === 'done').map((t) => t.task))
  if (done.size === tasks.length) {
    await queueLanding(q, c, spec)
    return
  }
  for (const t of tasks) {
    if (t.state !== 'waiting' || !t.depends_on.every((d) => done.has(d))) continue
    await queueTask(q, c, spec, t.task, null)
  }
}

/** Sends one node execution to its pool's queue (inside the caller's transaction). */
export async function queueTask(
  q: RunQueue,
  c: pg.PoolClient,
  spec: RemoteRunSpec,
  task: string,
  memoryMb: number | null,
): Promise<void> {
  const data: NodeJobData = { jobId: spec.jobId, task, memoryMb }
  const id = await q.boss.send(nodeQueue(spec.pool), data, {
    priority: queuePriority(spec.priority),
    db: RunQueue.db(c),
  })
  await c.query(
    "UPDATE tarn_tasks SET state = 'queued', queue_job = $3, worker = NULL, memory_mb = COALESCE($4, memory_mb) WHERE job_id = $1 AND task = $2",
    [spec.jobId, task, id, memoryMb],
  )
}

async function queueLanding(q: RunQueue, c: pg.PoolClient, spec: RemoteRunSpec): Promise<void> {
  const data: LandJobData = { jobId: spec.jobId }
  await q.boss.send(LAND_QUEUE, data, {
    priority: queuePriority(spec.priority),
    singletonKey: spec.jobId,
    db: RunQueue.db(c),
  })
}

/** What a worker learns when it claims a node execution. */
export interface Claim {
  readonly spec: RemoteRunSpec
  readonly attempt: number
  readonly memoryMb: number | null
  readonly job: JobRecord
}

/**
 * The nodes queued in a pool that were not in a scheduling step's snapshot (`$snapshot`, from `queuedNodes`): a claim
 * decided on the snapshot stands only when there are none. Nodes taken by other workers since do not matter (the
 * policies order the queue by priority, then age, so others' claims never make a better node appear for this worker);
 * a node queued since (a more urgent run, a retried node) must be decided on again.
 */
const QUEUED_SINCE = (pool: string, snapshot: string): string =>
  `SELECT 1 FROM tarn_runs r JOIN tarn_tasks t USING (job_id)
    WHERE r.pool = ${pool} AND r.state = 'running' AND t.state = 'queued'
      AND t.job_id || '/' || t.task <> ALL (string_to_array(${snapshot}, ','))`

/** The job record `job` with its non-scan step `task` running if it was waiting (a jsonb expression). */
const JOB_WITH_RUNNING_STEP = (job: string, task: string): string =>
  `jsonb_set(${job}, '{nodes}', (
     SELECT coalesce(jsonb_agg(CASE WHEN n->>'kind' IS DISTINCT FROM 'scan' AND n->>'name' = ${task}
                                     AND n->>'status' = 'waiting'
                                    THEN jsonb_set(n, '{status}', '"running"') ELSE n END ORDER BY i), '[]'::jsonb)
       FROM jsonb_array_elements(${job}->'nodes') WITH ORDINALITY AS x(n, i)))`

/**
 * Claims a queued node execution a scheduling step chose for a worker, in one transaction of one statement (and the
 * job record's copy in the warehouse): the task is `running` on it with a new attempt number (recorded in
 * `tarn_executions`), its step is running in the run's record, and the pg-boss job `queueJob` is made active, as
 * pg-boss's own fetch does (taken by id: the policy chose it, not queue order). Undefined, with nothing changed, when
 * another worker holds the run (its claim or result is being recorded: the claim does not wait for it), the run is no
 * longer running, a node was queued in the pool since the step decided (`take.queued` is the step's `queuedNodes`),
 * or the task no longer waits for this very job (another worker took it, or a duplicate delivery).
 */
export async function claimTask(
  q: RunQueue,
  lake: RunLake,
  data: NodeJobData,
  queueJob: string,
  worker: string,
  take: { queue: string; pool: string; queued: string },
): Promise<Claim | undefined> {
  return q.tx(async (c) => {
    // the task must still wait for this very job, so a job taken here is always run (or handed back by the sweep)
    const r = await c.query(
      `WITH run AS (
         SELECT spec FROM tarn_runs WHERE job_id = $1 AND state = 'running' FOR UPDATE SKIP LOCKED
       ), fresh AS (
         SELECT 1 FROM run WHERE NOT EXISTS (${QUEUED_SINCE('$7', '$8')})
       ), waiting AS (
         SELECT 1 FROM tarn_tasks
          WHERE job_id = $1 AND task = $2 AND state = 'queued' AND queue_job = $3::text
            AND EXISTS (SELECT 1 FROM fresh)
          FOR UPDATE
       ), taken AS (
         UPDATE ${q.schema}.job SET ${ACTIVATE_JOB}
          WHERE name = $4 AND id = $3::text::uuid AND state < 'active' AND EXISTS (SELECT 1 FROM waiting)
          RETURNING id
       ), claimed AS (
         UPDATE tarn_tasks SET state = 'running', attempt = attempt + 1, worker = $5, queue_job = $3::text
          WHERE job_id = $1 AND task = $2 AND EXISTS (SELECT 1 FROM taken)
          RETURNING attempt, memory_mb
       ), recorded AS (
         INSERT INTO tarn_executions (job_id, task, attempt, worker, priority, memory_mb)
         SELECT $1, $2, claimed.attempt, $5, run.spec->>'priority', COALESCE($6::int, claimed.memory_mb)
           FROM claimed, run
       ), saved AS (
         UPDATE tarn_runs SET job = ${JOB_WITH_RUNNING_STEP('job', '$2')}
          WHERE job_id = $1 AND EXISTS (SELECT 1 FROM claimed)
          RETURNING job
       )
       SELECT claimed.attempt, claimed.memory_mb, run.spec, saved.job FROM claimed, run, saved`,
      [data.jobId, data.task, queueJob, take.queue, worker, data.memoryMb, take.pool, take.queued],
    )
    const row = r.rows[0] as
      | { attempt: number; memory_mb: number | null; spec: RemoteRunSpec; job: JobRecord }
      | undefined
    if (!row) return undefined
    await putJob(lake.store, row.job)
    return { spec: row.spec, attempt: row.attempt, memoryMb: data.memoryMb ?? row.memory_mb, job: row.job }
  })
}

/** What one node execution did. */
export interface TaskResult {
  readonly steps: readonly NodeRecord[]
  readonly tables: Readonly<Record<string, number>>
  readonly warnings: readonly string[]
  readonly log: readonly string[]
}

/**
 * Records a finished node execution and advances its run, in one transaction of three statements (and one more per
 * node or landing it queues): the run locked, the log appended, the execution ended, its pg-boss job `queueJob`
 * completed and the task done; then the run's record (and its state, `landing` when every task is done); then what
 * became ready is queued. Does nothing but end the execution and append the log when the attempt is no longer the
 * task's current one on this worker (its lease was lost and the task given to another worker) or the run stopped
 * running. Returns whether it counted.
 */
export async function finishTask(
  q: RunQueue,
  lake: RunLake,
  at: { jobId: string; task: string; attempt: number; worker: string },
  result: TaskResult,
  queueJob: { readonly queue: string; readonly id: string },
): Promise<boolean> {
  return q.tx(async (c) => {
    // every part waits for the run's row lock first (each refers to `run`), as every transaction on a run does
    const r = await c.query(
      `WITH run AS MATERIALIZED (
         SELECT state, spec, job FROM tarn_runs WHERE job_id = $1 FOR UPDATE
       ), logged AS (
         INSERT INTO tarn_job_logs (job_id, line) SELECT $1, unnest($5::text[]) FROM run
       ), ended AS (
         UPDATE tarn_executions SET finished_at = clock_timestamp(), outcome = 'done', error = NULL
          WHERE job_id = $1 AND task = $2 AND attempt = $3 AND worker = $4 AND finished_at IS NULL
            AND EXISTS (SELECT 1 FROM run)
          RETURNING 1
       ), completed AS (
         UPDATE ${q.schema}.job SET ${COMPLETE_JOB}
          WHERE name = $6 AND id = $7::uuid AND state = 'active' AND EXISTS (SELECT 1 FROM ended)
       ), done AS (
         UPDATE tarn_tasks SET state = 'done'
          WHERE job_id = $1 AND task = $2 AND attempt = $3 AND worker = $4 AND state = 'running'
            AND EXISTS (SELECT 1 FROM run WHERE state = 'running')
          RETURNING task
       )
       SELECT run.state, run.spec, run.job, EXISTS (SELECT 1 FROM done) AS counted,
              (SELECT coalesce(json_agg(json_build_object('task', t.task, 'depends_on', t.depends_on, 'state',
                        CASE WHEN t.task IN (SELECT task FROM done) THEN 'done' ELSE t.state END) ORDER BY t.task), '[]')
                 FROM tarn_tasks t WHERE t.job_id = $1) AS tasks
         FROM run`,
      [at.jobId, at.task, at.attempt, at.worker, [...result.log], queueJob.queue, queueJob.id],
    )
    const run = r.rows[0] as (RunRow & { counted: boolean; tasks: TaskState[] }) | undefined
    if (run?.state !== 'running' || !run.counted) return false
    const steps = new Map(result.steps.map((s) => [s.id, s]))
    const job: JobRecord = {
      ...run.job,
      nodes: run.job.nodes.map((n) => {
        const s = steps.get(n.id)
        return s && (n.kind !== 'scan' || n.status !== 'done') ? s : n
      }),
      tables: { ...run.job.tables, ...result.tables },
      warnings: [...run.job.warnings, ...result.warnings],
    }
    const landing = run.tasks.every((t) => t.state === 'done')
    await c.query(
      "UPDATE tarn_runs SET job = $2, state = CASE WHEN $3 THEN 'landing' ELSE state END WHERE job_id = $1",
      [at.jobId, JSON.stringify(job), landing],
    )
    await putJob(lake.store, job)
    await queueReady(q, c, run.spec, run.tasks)
    return true
  })
}

async function endExecution(
  c: pg.PoolClient,
  at: { jobId: string; task: string; attempt: number; worker: string },
  outcome: string,
  error: string | null,
): Promise<void> {
  await c.query(
    'UPDATE tarn_executions SET finished_at = clock_timestamp(), outcome = $5, error = $6 WHERE job_id = $1 AND task = $2 AND attempt = $3 AND worker = $4 AND finished_at IS NULL',
    [at.jobId, at.task, at.attempt, at.worker, outcome, error],
  )
}

/**
 * Records a failed node execution: the run fails (its landing job seals it). Does nothing for a stale attempt.
 */
export async function failTask(
  q: RunQueue,
  lake: RunLake,
  at: { jobId: string; task: string; attempt: number; worker: string },
  error: TarnError,
  result: Omit<TaskResult, 'tables' | 'warnings'>,
): Promise<void> {
  await q.tx(async (c) => {
    const run = await lockRun(c, at.jobId)
    await appendLog(c, at.jobId, result.log)
    await endExecution(c, at, 'failed', error.message)
    if (run?.state !== 'running') return
    const r = await c.query(
      "UPDATE tarn_tasks SET state = 'failed' WHERE job_id = $1 AND task = $2 AND attempt = $3 AND worker = $4 AND state = 'running'",
      [at.jobId, at.task, at.attempt, at.worker],
    )
    if (r.rowCount === 0) return
    const steps = new Map(result.steps.map((s) => [s.id, s]))
    await failRun(q, c, lake, run, error, steps)
  })
}

/** Moves a run to `failing` with its error and queues the job that seals it (inside the caller's transaction). */
export async function failRun(
  q: RunQueue,
  c: pg.PoolClient,
  lake: RunLake,
  run: RunRow,
  error: TarnError,
  steps: ReadonlyMap<string, NodeRecord> = new Map(),
): Promise<void> {
  const { jobId, runBranch } = run.spec
  const job: JobRecord = {
    ...run.job,
    nodes: run.job.nodes.map((n) => steps.get(n.id) ?? n),
    error: { code: error.code, message: error.message, context: { ...error.context, job: jobId, runBranch } },
  }
  await c.query("UPDATE tarn_runs SET state = 'failing' WHERE job_id = $1", [jobId])
  await saveJob(c, lake, job)
  await queueLanding(q, c, run.spec)
}

/**
 * Lands a run whose nodes are all done (one merge into its target, exactly once: a landing tried again finds the
 * merge it made) or seals a failed one; writes the final record and log, and completes the landing's pg-boss job in the
 * same statement (returns whether it did: not when the run had landed or gone already). Idempotent. `taken` is the landing as
 * {@link RunQueue.takeLanding} took it (the run's landing worker is recorded); only a landing after an earlier try
 * (the run already had a landing job) searches the target's history for a merge that try made (up to 100 commit
 * reads).
 */
export async function landRun(q: RunQueue, lake: RunLake, taken: TakenLanding): Promise<boolean> {
  // a lost worker's landing is handed back to the queue by the sweep; an earlier try may have merged already
  const { run } = taken
  const jobId = taken.job.data.jobId
  if (!run || (run.state !== 'landing' && run.state !== 'failing')) return false
  const earlierTry = run.earlier !== null
  const { spec } = run
  const logs: string[] = []
  const log = (text: string): void => {
    logs.push(`${new Date(lake.clock.now()).toISOString()} ${text}`)
  }
  let job: JobRecord = run.job
  let state = run.state
  if (state === 'landing') {
    try {
      const merge = await landingMerge(lake, spec, log, earlierTry)
      await bestEffort(
        () => lake.catalog.deleteBranch(spec.runBranch),
        (m) => log(`warning: could not delete ${spec.runBranch}: ${m}`),
      )
      log(`job ${jobId} succeeded`)
      job = { ...job, status: 'succeeded', mergeCommit: merge, finishedAt: lake.clock.now() }
    } catch (e) {
      // a merge that cannot succeed (conflict, sealed or protected target) fails the run; others are tried again
      if (!isTarnError(e) || !FINAL_MERGE_ERRORS.has(e.code)) throw e
      state = 'failing'
      job = {
        ...job,
        error: {
          code: e.code,
          message: e.message,
          context: { ...e.context, job: jobId, runBranch: spec.runBranch },
        },
      }
    }
  }
  if (state === 'failing') {
    await bestEffort(
      () => lake.catalog.sealBranch(spec.runBranch),
      () => undefined,
    )
    log(`failed: ${job.error?.message ?? 'unknown error'}`)
    job = {
      ...job,
      status: 'failed',
      nodes: job.nodes.map((n) =>
        n.status === 'waiting' || n.status === 'running' ? { ...n, status: 'skipped' } : n,
      ),
      finishedAt: lake.clock.now(),
    }
  }
  // true when the landing's pg-boss job was completed with the run's final state
  const completed = await q.tx(async (c): Promise<boolean> => {
    // one statement: the run's final state and record unless another landing got there first, then its whole log
    // with this landing's lines appended (the query does not see the rows its INSERT adds: they come from RETURNING)
    const r = await c.query(
      `WITH saved AS (
         UPDATE tarn_runs SET state = $2, finished_at = clock_timestamp(), job = $3 WHERE job_id = $1 AND state = $4
         RETURNING 1
       ), added AS (
         INSERT INTO tarn_job_logs (job_id, line) SELECT $1, unnest($5::text[]) WHERE EXISTS (SELECT 1 FROM saved)
         RETURNING seq, line
       ), completed AS (
         UPDATE ${q.schema}.job SET ${COMPLETE_JOB}
          WHERE name = $6 AND id = $7::uuid AND state = 'active' AND EXISTS (SELECT 1 FROM saved)
       )
       SELECT line FROM (
         SELECT seq, line FROM tarn_job_logs WHERE job_id = $1 AND EXISTS (SELECT 1 FROM saved)
         UNION ALL SELECT seq, line FROM added
       ) AS l ORDER BY seq`,
      [jobId, job.status, JSON.stringify(job), run.state, logs, LAND_QUEUE, taken.job.id],
    )
    if (r.rows.length === 0) return false
    await putJob(lake.store, job)
    await putJobLog(lake.store, jobId, `${r.rows.map((x: { line: string }) => x.line).join('\n')}\n`)
    return true
  })
  // the node results exchanged between workers are no longer needed
  await bestEffort(
    async () => {
      for await (const o of lake.store.list(`${TARN_PREFIX}/runs/${jobId}/`)) await lake.store.delete(o.key)
    },
    () => undefined,
  )
  return completed
}

const FINAL_MERGE_ERRORS = new Set<string>([
  'MERGE_CONFLICT',
  'BRANCH_SEALED',
  'BRANCH_PROTECTED',
  'BRANCH_NOT_FOUND',
  'RUN_INCOMPLETE',
])

/** The landing merge of a run (or the one an earlier attempt made): the target's new head. */
async function landingMerge(
  lake: RunLake,
  spec: RemoteRunSpec,
  log: (text: string) => void,
  earlierTry: boolean,
): Promise<string> {
  const jobId = spec.jobId
  const landed = earlierTry ? await landedCommit(lake, spec.target, jobId) : undefined
  if (landed !== undefined) return landed
  const head = (await lake.catalog.getBranch(spec.runBranch)).head
  if (head === spec.baseCommit) {
    log(`nothing materialised: ${spec.target} unchanged`)
    return (await lake.catalog.getBranch(spec.target)).head
  }
  const merged = await lake.catalog.merge(spec.runBranch, {
    into: spec.target,
    author: spec.author,
    message: spec.message ?? `Run ${spec.project} (${jobId})`,
    properties: { 'tarn.job_id': jobId, 'tarn.operation': 'run-merge' },
    job: jobId,
  })
  log(`merged ${spec.runBranch} into ${spec.target} (${merged.kind}) -> ${merged.target.after.slice(0, 12)}`)
  return merged.target.after
}

/**
 * Gives up on a landing whose tries are used up (`tries` failures, the last with `error`): the run leaves `landing`
 * and fails (its new landing job seals it), unless its merge did land (then the next landing finds it). Does nothing
 * when the run is no longer landing.
 */
export async function giveUpLanding(
  q: RunQueue,
  lake: RunLake,
  jobId: string,
  tries: number,
  error: unknown,
): Promise<void> {
  await q.tx(async (c) => {
    const run = await lockRun(c, jobId)
    if (run?.state !== 'landing') return
    if ((await landedCommit(lake, run.spec.target, jobId)) !== undefined) {
      await queueLanding(q, c, run.spec)
      return
    }
    const reason = (isTarnError(error) ? error.message : String(error)).split('\n')[0] ?? ''
    await failRun(
      q,
      c,
      lake,
      run,
      new TarnError('RUN_FAILED', `landing ${jobId} on ${run.spec.target} failed ${tries} times: ${reason}`, {
        target: run.spec.target,
        tries,
        reason,
      }),
    )
  })
}

/**
 * Queues a node again after the scheduling policy preempted it (its process was stopped): the execution is recorded
 * as `preempted`, not failed, and the node waits for the policy to place it again. Does nothing for a stale attempt.
 */
export async function preemptTask(
  q: RunQueue,
  lake: RunLake,
  at: { jobId: string; task: string; attempt: number; worker: string },
  log: readonly string[],
): Promise<void> {
  await q.tx(async (c) => {
    const run = await lockRun(c, at.jobId)
    await appendLog(c, at.jobId, [
      ...log,
      `${new Date(lake.clock.now()).toISOString()} [${at.task}] preempted by the scheduler: queued again`,
    ])
    await endExecution(c, at, 'preempted', null)
    if (run?.state !== 'running') return
    const r = await c.query(
      'SELECT 1 FROM tarn_tasks WHERE job_id = $1 AND task = $2 AND attempt = $3 AND worker = $4 AND state = $5',
      [at.jobId, at.task, at.attempt, at.worker, 'running'],
    )
    if (r.rowCount === 0) return
    await queueTask(q, c, run.spec, at.task, null)
  })
}

/**
 * Fails a run whose node could not be run (its retries were used up by lost workers).
 */
export async function abandonTask(
  q: RunQueue,
  lake: RunLake,
  jobId: string,
  task: string,
  reason: string,
): Promise<void> {
  await q.tx(async (c) => {
    const run = await lockRun(c, jobId)
    if (run?.state !== 'running') return
    await c.query("UPDATE tarn_tasks SET state = 'failed' WHERE job_id = $1 AND task = $2", [jobId, task])
    await failRun(
      q,
      c,
      lake,
      run,
      new TarnError('RUN_FAILED', `node ${task} failed: ${reason}`, { node: task, reason }),
    )
  })
}

/**
 * Queues a node again after it ran out of memory with `previousMb`, with the memory the scheduling policy gives its
 * retry (`retryMb`, see `oomRetryMb`); fails the run (sealed by its landing job) when the policy gives up
 * (`retryMb` undefined). The execution is recorded as `oom` either way. Does nothing for a stale attempt.
 */
export async function retryTaskAfterOom(
  q: RunQueue,
  lake: RunLake,
  at: { jobId: string; task: string; attempt: number; worker: string },
  error: TarnError,
  policy: string,
  retryMb: number | undefined,
  previousMb: number,
  log: readonly string[],
): Promise<void> {
  const stamp = new Date(lake.clock.now()).toISOString()
  await q.tx(async (c) => {
    const run = await lockRun(c, at.jobId)
    await appendLog(c, at.jobId, [
      ...log,
      retryMb === undefined
        ? `${stamp} [${at.task}] out of memory with ${memoryText(previousMb)}: the ${policy} policy does not run it again`
        : `${stamp} [${at.task}] out of memory with ${memoryText(previousMb)}: queued again with ${memoryText(retryMb)}`,
    ])
    await endExecution(c, at, 'oom', error.message)
    if (run?.state !== 'running') return
    const r = await c.query(
      'SELECT 1 FROM tarn_tasks WHERE job_id = $1 AND task = $2 AND attempt = $3 AND worker = $4 AND state = $5',
      [at.jobId, at.task, at.attempt, at.worker, 'running'],
    )
    if (r.rowCount === 0) return
    if (retryMb !== undefined) {
      await queueTask(q, c, run.spec, at.task, retryMb)
      return
    }
    await c.query("UPDATE tarn_tasks SET state = 'failed' WHERE job_id = $1 AND task = $2", [
      at.jobId,
      at.task,
    ])
    await failRun(
      q,
      c,
      lake,
      run,
      new TarnError(
        'RUN_FAILED',
        `node ${at.task} ran out of memory with ${memoryText(previousMb)} and the ${policy} policy gives it no more`,
        { ...error.context, node: at.task, memoryMb: previousMb, policy },
      ),
    )
  })
}
