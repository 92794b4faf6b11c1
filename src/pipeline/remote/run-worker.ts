import { hostname } from 'node:os'
import { DEFAULT_MEMORY_MB, memoryText } from '../../runtime/resources.js'
import { builtinPolicy } from '../../runtime/scheduler/registry.js'
import { isTarnError, TarnError } from '../../util/errors.js'
import type { RunLake } from '../run/run-lake.js'
import { cleanProjectCache } from './clean-project-cache.js'
import {
  abandonTask,
  claimTask,
  failTask,
  finishTask,
  giveUpLanding,
  landRun,
  lockRun,
  preemptTask,
  retryTaskAfterOom,
} from './coordinator.js'
import { executeTask, type PlanCache } from './execute-task.js'
import { type LiveDecisions, liveDecide, oomRetryMb } from './live-decide.js'
import { containerId, type LiveState, withRunsTaken } from './live-view.js'
import { type PoolState, queuedNodes, readLiveState } from './read-live-state.js'
import type { NodeJobData } from './remote-run-spec.js'
import {
  checkPoolName,
  LAND_QUEUE,
  LAND_RETRIES,
  nodeQueue,
  type RunQueue,
  type TakenLanding,
} from './run-queue.js'

/**
 * Options of {@link runWorker} (`Lake.worker`).
 *
 * @example
 * ```ts
 * const drain = new AbortController()
 * const o: WorkerOptions = { pool: 'default', cpus: 4, memoryMb: 8192, signal: drain.signal }
 * ```
 */
export interface WorkerOptions {
  /** The pool whose node executions this worker claims (default `default`). */
  readonly pool?: string
  /** Node executions at once (default 1). */
  readonly cpus?: number
  /** Memory the node executions may use together, in MB (default 8192). */
  readonly memoryMb?: number
  /**
   * The scheduling policy of `runtime/scheduler/` (the simulator's): `naive`, `priority` (default), `priority-pool`
   * or `right-size`. Every worker of a pool should use the same one.
   */
  readonly policy?: string
  /** How often the worker renews its lease (default 1000 ms). */
  readonly heartbeatMs?: number
  /** A worker whose lease is this old is lost, and its nodes are run again elsewhere (default 30 s). */
  readonly leaseMs?: number
  /** How long an idle slot waits before asking the queue again (default 200 ms). */
  readonly pollMs?: number
  /**
   * How long a landing waits for its lander before any worker takes it, in ms (default 250). The lander of a pool is
   * its live worker registered first: it takes every landing of the pool's runs at once, so merges come from one
   * process per pool (its catalog cache holds the branch's latest commits, and its landings do not race for the
   * branch head). Any worker takes a landing that waited this long: the lander is busy with a long node, draining or
   * gone.
   */
  readonly landingWaitMs?: number
  /** Aborting it drains the worker: no new claims, running nodes finish, then {@link runWorker} returns. */
  readonly signal?: AbortSignal
  /** One line per event (claims, results, lost workers). */
  readonly log?: (line: string) => void
  /**
   * Called when this worker lost its lease (another worker declared it lost, or it could not renew it for a whole
   * lease): it must stop writing at once. The CLI exits the process.
   */
  readonly onLost?: (reason: string) => void
}

/**
 * What a worker did before it drained.
 *
 * @example
 * ```ts
 * const s: WorkerSummary = await lake.worker({ cpus: 2 })
 * console.log(s.id, s.executed, s.landed)
 * ```
 */
export interface WorkerSummary {
  readonly id: string
  readonly executed: number
  readonly landed: number
}

/** The live worker of pool `$1` registered first: the pool's lander (see `WorkerOptions.landingWaitMs`). */
const FIRST_LIVE =
  "SELECT id FROM tarn_workers WHERE state = 'live' AND pool = $1 ORDER BY started_at, id LIMIT 1"

/** How often a worker removes the project snapshots of finished runs from its cache. */
const CLEAN_EVERY_MS = 2000

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * A long-lived worker: registers itself with a lease renewed by heartbeats, claims node executions of its pool from
 * the queue (highest priority first; a node whose memory does not fit waits for running ones to finish), runs them
 * (`executeTask`), reports back (the coordinator queues the next nodes and, when all are done, the landing), lands or
 * seals runs, and declares workers whose lease expired lost, so their nodes run again. Returns when `signal` aborts
 * and the running nodes are done.
 */
export async function runWorker(
  lake: RunLake,
  queue: RunQueue,
  options: WorkerOptions = {},
): Promise<WorkerSummary> {
  const pool = checkPoolName(options.pool ?? 'default')
  const cpus = options.cpus ?? 1
  const memoryMb = options.memoryMb ?? 8192
  const heartbeatMs = options.heartbeatMs ?? 1000
  const leaseMs = options.leaseMs ?? 30_000
  const pollMs = options.pollMs ?? 200
  const landingWaitMs = options.landingWaitMs ?? 250
  const log = options.log ?? (() => undefined)
  const policyName = options.policy ?? 'priority'
  const policy = builtinPolicy(policyName)
  if (!policy)
    throw new TarnError('INVALID_ARGUMENT', `unknown scheduling policy ${JSON.stringify(policyName)}`, {
      policy: policyName,
    })
  // the engine starts before the worker registers: a worker that cannot run queries takes no node, and the first
  // node it runs does not pay for DuckDB's start
  const engine = await lake.queryEngine()
  const warm = await engine.duckdb().connect()
  try {
    await warm.run('SELECT 1')
  } finally {
    warm.closeSync()
  }
  const id = `worker-${Buffer.from(lake.random.bytes(4)).toString('hex')}`
  const queueName = nodeQueue(pool)
  await queue.ensureQueue(queueName)
  await queue.pool.query(
    "INSERT INTO tarn_workers (id, pool, cpus, memory_mb, host, pid, state) VALUES ($1, $2, $3, $4, $5, $6, 'live')",
    [id, pool, cpus, memoryMb, hostname(), process.pid],
  )
  log(`worker ${id} in pool ${pool}: ${cpus} slot(s), ${memoryMb} MB, policy ${policy.name}`)
  // the lander of its pool: the pool's live worker registered first (see `landingWaitMs`), looked up again at every
  // heartbeat
  let lander = (await queue.pool.query<{ id: string }>(FIRST_LIVE, [pool])).rows[0]?.id === id
  const plans: PlanCache = new Map()
  const cleaned = async (): Promise<void> => {
    const removed = await cleanProjectCache(queue, lake.config.home, plans)
    if (removed.length > 0)
      log(`removed ${removed.length} project snapshot(s) of finished runs from the cache`)
  }
  // the snapshots an earlier process left behind
  await cleaned()
  let cleanedAt = Date.now()
  let lost = false
  const loseLease = (reason: string): void => {
    if (lost) return
    lost = true
    log(`worker ${id} lost its lease: ${reason}`)
    options.onLost?.(reason)
  }
  let renewed = Date.now()
  const beat = async (): Promise<void> => {
    try {
      // the lease renewed, and the lander looked up again, in one statement
      const r = await queue.pool.query<{ first: string | null }>(
        `UPDATE tarn_workers SET heartbeat_at = clock_timestamp() WHERE id = $2 AND state = 'live'
         RETURNING (${FIRST_LIVE}) AS first`,
        [pool, id],
      )
      const renewal = r.rows[0]
      if (renewal === undefined) return loseLease('declared lost by another worker')
      renewed = Date.now()
      lander = renewal.first === id
      await sweep(queue, lake, leaseMs, log)
      if (Date.now() - cleanedAt >= CLEAN_EVERY_MS) {
        cleanedAt = Date.now()
        await cleaned()
      }
      // busy slots do not ask for work: the heartbeat lets the policy preempt what runs here
      if (running.size > 0)
        await apply(liveDecide(policy, await readLiveState(queue, pool, lake.clock.now()), id))
    } catch (e) {
      if (Date.now() - renewed > leaseMs) loseLease(`cannot reach the queue: ${String(e)}`)
    }
  }
  const timer = setInterval(() => {
    void beat()
  }, heartbeatMs)
  let usedMb = 0
  let executed = 0
  let landed = 0
  /** The executions running here by container id, to stop when the policy suspends them. */
  const running = new Map<string, AbortController>()
  const draining = (): boolean => lost || options.signal?.aborted === true

  const land = async (taken: TakenLanding): Promise<void> => {
    const { job } = taken
    try {
      if (!(await landRun(queue, lake, taken))) await queue.boss.complete(LAND_QUEUE, job.id)
      landed++
      log(`landed or sealed ${job.data.jobId}`)
    } catch (e) {
      log(`landing ${job.data.jobId} failed, to be tried again: ${String(e)}`)
      await queue.boss.fail(LAND_QUEUE, job.id, { message: String(e) }).catch(() => undefined)
      // its tries are used up: the run is sealed as failed rather than left landing
      const after = await queue.boss
        .getJobById(LAND_QUEUE, job.id, { includeArchive: true })
        .catch(() => null)
      if (after?.state === 'failed') {
        log(`landing ${job.data.jobId} failed ${LAND_RETRIES + 1} times: the run fails`)
        await giveUpLanding(queue, lake, job.data.jobId, LAND_RETRIES + 1, e).catch((x: unknown) =>
          log(`could not fail ${job.data.jobId}: ${String(x)}`),
        )
      }
    }
  }

  /** Claims and runs a node a scheduling step chose; false when another worker was claiming it or its run. */
  const node = async (job: { id: string; data: NodeJobData; queued: string }): Promise<boolean> => {
    const claim = await claimTask(queue, lake, job.data, job.id, id, {
      queue: queueName,
      pool,
      queued: job.queued,
    })
    if (!claim) return false
    const need = claim.memoryMb ?? DEFAULT_MEMORY_MB
    while (usedMb > 0 && usedMb + need > memoryMb && !lost) await sleep(pollMs)
    usedMb += need
    const at = { jobId: job.data.jobId, task: job.data.task, attempt: claim.attempt, worker: id }
    log(`running ${at.jobId} ${at.task} (attempt ${at.attempt}, ${claim.spec.priority})`)
    const stop = new AbortController()
    running.set(containerId(at), stop)
    try {
      const result = await executeTask(lake, claim.spec, claim.job, at.task, {
        attempt: claim.attempt,
        memoryMb: claim.memoryMb,
        plans,
        signal: stop.signal,
      })
      if (lost) return true
      if (result.error && stop.signal.aborted && /preempted/.test(result.error.message)) {
        await preemptTask(queue, lake, at, result.log)
      } else if (result.error && /out of memory/.test(result.error.message)) {
        const workers = (await readLiveState(queue, pool, lake.clock.now())).workers
        const retryMb = oomRetryMb(
          policy,
          workers,
          { jobId: at.jobId, task: at.task, priority: claim.spec.priority, memoryMb: claim.memoryMb },
          need,
        )
        await retryTaskAfterOom(queue, lake, at, result.error, policy.name, retryMb, need, result.log)
      } else if (result.error) {
        await failTask(queue, lake, at, result.error, result)
      } else {
        // completes the node's pg-boss job in the same statement
        await finishTask(queue, lake, at, result, { queue: queueName, id: job.id })
      }
      executed++
      log(
        `${result.error ? 'failed' : 'done'} ${at.jobId} ${at.task}${result.error ? `: ${result.error.message}` : ''}`,
      )
      if (result.error) await queue.boss.complete(queueName, job.id)
    } catch (e) {
      // the queue or catalog failed under us: the lease decides who runs the node again
      log(`node ${at.jobId} ${at.task} interrupted: ${isTarnError(e) ? e.message : String(e)}`)
    } finally {
      running.delete(containerId(at))
      usedMb -= need
    }
    return true
  }

  /**
   * One scheduling step (see docs/architecture.md, workers): the policy decides on the pool's queue state; the
   * runs of nodes that fit no live worker fail; the first node it gives this worker is the one this slot runs.
   */
  const schedule = async (
    state: LiveState,
    skip: ReadonlySet<string>,
  ): Promise<{ id: string; data: NodeJobData; queued: string } | undefined> => {
    // runs whose node another worker was just claiming are left to it for this step
    const d = liveDecide(policy, withRunsTaken(state, skip), id)
    await apply(d)
    for (const c of d.claims) {
      if (c.worker !== id) continue
      return {
        id: c.queueJob,
        data: { jobId: c.jobId, task: c.task, memoryMb: null },
        queued: queuedNodes(state),
      }
    }
    return undefined
  }

  /** Applies a step's decisions other than claims: fails the runs of unplaceable nodes, stops suspended ones here. */
  const apply = async (d: LiveDecisions): Promise<void> => {
    for (const u of d.unplaceable) {
      log(`node ${u.jobId} ${u.task} needs ${memoryText(u.memoryMb)}: no live worker has that much`)
      await abandonTask(
        queue,
        lake,
        u.jobId,
        u.task,
        `it needs ${memoryText(u.memoryMb)} of memory, more than any live worker of pool ${pool} has (the largest has ${memoryText(u.largestMb)})`,
      )
    }
    for (const s of d.suspensions) {
      const stop = s.worker === id ? running.get(containerId(s)) : undefined
      if (!stop || stop.signal.aborted) continue
      log(`preempting ${s.jobId} ${s.task} (attempt ${s.attempt}, ${s.priority}) for a more urgent node`)
      stop.abort()
    }
  }

  /**
   * The landing this slot takes, from the waits of the oldest ones in the queue (read with the pool's state): on the
   * pool's lander, any of a run of its pool; on every worker, any that waited `landingWaitMs`.
   */
  const takeLanding = async (state: PoolState): Promise<TakenLanding | undefined> => {
    if (lander && state.poolLandingWaitedMs !== null) {
      const l = await queue.takeLanding(0, id, pool)
      if (l) return l
    }
    if (state.landingWaitedMs !== null && state.landingWaitedMs >= landingWaitMs)
      return queue.takeLanding(landingWaitMs, id, null)
    return undefined
  }

  const slot = async (): Promise<void> => {
    let skip: ReadonlySet<string> = new Set()
    while (!draining()) {
      try {
        const state = await readLiveState(queue, pool, lake.clock.now())
        const l = await takeLanding(state)
        if (l) {
          await land(l)
          continue
        }
        const skipped = skip.size > 0
        const n = await schedule(state, skip)
        skip = new Set()
        if (n) {
          // a claim another worker made first: decide again at once, on the other runs
          if (!(await node(n))) skip = new Set([n.data.jobId])
          continue
        }
        // nothing else to run: decide once more with every run before sleeping
        if (skipped) continue
      } catch (e) {
        log(`queue error: ${String(e)}`)
      }
      await sleep(pollMs)
    }
  }
  try {
    await Promise.all(Array.from({ length: cpus }, slot))
  } finally {
    clearInterval(timer)
    if (!lost)
      await queue.pool
        .query("UPDATE tarn_workers SET state = 'stopped' WHERE id = $1", [id])
        .catch(() => undefined)
  }
  log(`worker ${id} drained: ${executed} node(s) run, ${landed} run(s) landed or sealed`)
  return { id, executed, landed }
}

/**
 * Declares every worker whose lease expired lost, and queues its running nodes again (pg-boss retries the job);
 * a node whose retries are used up fails its run.
 */
async function sweep(
  queue: RunQueue,
  lake: RunLake,
  leaseMs: number,
  log: (line: string) => void,
): Promise<void> {
  const lost = (
    await queue.pool.query(
      "UPDATE tarn_workers SET state = 'lost' WHERE state = 'live' AND heartbeat_at < clock_timestamp() - make_interval(secs => $1) RETURNING id, pool",
      [leaseMs / 1000],
    )
  ).rows as { id: string; pool: string }[]
  for (const w of lost) {
    log(`worker ${w.id} lost (no heartbeat for ${leaseMs} ms): its nodes run again`)
    const landings = (
      await queue.pool.query(
        "UPDATE tarn_runs SET land_worker = NULL WHERE land_worker = $1 AND state IN ('landing', 'failing') RETURNING land_job",
        [w.id],
      )
    ).rows as { land_job: string }[]
    for (const l of landings)
      await queue.boss.fail(LAND_QUEUE, l.land_job, { message: `worker ${w.id} lost` })
    const tasks = (
      await queue.pool.query(
        "SELECT job_id, task, attempt, queue_job FROM tarn_tasks WHERE worker = $1 AND state = 'running'",
        [w.id],
      )
    ).rows as { job_id: string; task: string; attempt: number; queue_job: string }[]
    for (const t of tasks) {
      const requeued = await queue.tx(async (c) => {
        await lockRun(c, t.job_id)
        await c.query(
          "UPDATE tarn_executions SET finished_at = clock_timestamp(), outcome = 'lost' WHERE job_id = $1 AND task = $2 AND attempt = $3 AND finished_at IS NULL",
          [t.job_id, t.task, t.attempt],
        )
        const r = await c.query(
          "UPDATE tarn_tasks SET state = 'queued', worker = NULL WHERE job_id = $1 AND task = $2 AND attempt = $3 AND worker = $4 AND state = 'running'",
          [t.job_id, t.task, t.attempt, w.id],
        )
        return (r.rowCount ?? 0) > 0
      })
      if (!requeued) continue
      const name = nodeQueue(w.pool)
      await queue.boss.fail(name, t.queue_job, { message: `worker ${w.id} lost` })
      const after = await queue.boss.getJobById(name, t.queue_job, { includeArchive: true })
      if (after?.state === 'failed')
        await abandonTask(queue, lake, t.job_id, t.task, `its worker was lost and its retries are used up`)
    }
  }
}
