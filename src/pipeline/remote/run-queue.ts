import pg from 'pg'
import type PgBoss from 'pg-boss'
import type { Priority } from '../../runtime/scheduler/policy.js'
import { PRIORITIES } from '../../runtime/scheduler/policy.js'
import { TarnError } from '../../util/errors.js'
import type { JobRecord } from '../run/job-record.js'
import type { LandJobData, RemoteRunSpec } from './remote-run-spec.js'

/**
 * The SET clause that makes a pg-boss job active, as pg-boss's own fetch does (started now, a retry counted): for
 * jobs tarn takes by its own query (a node the scheduling policy chose, a landing that waited for the lander).
 */
export const ACTIVATE_JOB = `state = 'active', started_on = now(),
  retry_count = CASE WHEN started_on IS NOT NULL THEN retry_count + 1 ELSE retry_count END`

/** The SET clause that completes an active pg-boss job, as pg-boss's own complete does (without output). */
export const COMPLETE_JOB = "state = 'completed', completed_on = now(), output = NULL"

/** The queue that lands or seals runs whose nodes are all done (or one failed). */
export const LAND_QUEUE = 'tarn-land'

/** How many times a node execution is tried again after its worker was lost. */
export const NODE_RETRIES = 3

/** How many times a landing is tried again (after its worker was lost or the catalog failed). */
export const LAND_RETRIES = 10

/**
 * The queue of node executions of one worker pool.
 */
export function nodeQueue(pool: string): string {
  return `tarn-node-${pool}`
}

/**
 * Checks a worker pool name (letters, digits, `_` and `-`, at most 40).
 */
export function checkPoolName(pool: string): string {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(pool))
    throw new TarnError('INVALID_NAME', `invalid pool name ${JSON.stringify(pool)}`, { pool })
  return pool
}

/**
 * The queue priority of a job kind: the scheduler's order (`query` > `interactive` > `batch`), larger first.
 */
export function queuePriority(p: Priority): number {
  return PRIORITIES.length - PRIORITIES.indexOf(p)
}

/** A run as a worker found it when it took its landing ({@link RunQueue.takeLanding}). */
export interface LandingRun {
  readonly state: string
  readonly spec: RemoteRunSpec
  readonly job: JobRecord
  /** The landing job of an earlier try (one that may have merged already), null on a first try. */
  readonly earlier: string | null
}

/** A landing a worker took: its pg-boss job, and its run (absent when the run's row is gone). */
export interface TakenLanding {
  readonly job: Pick<PgBoss.Job<LandJobData>, 'id' | 'name' | 'data'>
  readonly run?: LandingRun
}

/**
 * The durable queue of remote runs in the catalog's PostgreSQL database: pg-boss's tables and tarn's run, node,
 * worker and execution tables, in a schema of their own (`<catalog schema>_queue`).
 */
export class RunQueue {
  readonly pool: pg.Pool
  readonly boss: PgBoss
  readonly schema: string
  #closed = false

  private constructor(pool: pg.Pool, boss: PgBoss, schema: string) {
    this.pool = pool
    this.boss = boss
    this.schema = schema
  }

  /**
   * Opens the queue of a PostgreSQL catalog URL (`NOT_SUPPORTED` for SQLite), creating its tables when missing.
   * With `supervise`, this process also runs pg-boss's maintenance (expiry of abandoned jobs).
   */
  static async open(catalogUrl: string, options: { supervise?: boolean } = {}): Promise<RunQueue> {
    if (!/^postgres(ql)?:\/\//.test(catalogUrl))
      throw new TarnError(
        'NOT_SUPPORTED',
        'remote runs and workers need a PostgreSQL catalog (TARN_CATALOG_URL=postgres://...)',
        {},
      )
    const parsed = new URL(catalogUrl)
    const catalogSchema = parsed.searchParams.get('schema') ?? 'public'
    parsed.searchParams.delete('schema')
    const schema = `${catalogSchema === 'public' ? 'tarn' : catalogSchema}_queue`.toLowerCase()
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
      throw new TarnError('INVALID_ARGUMENT', `invalid queue schema name ${JSON.stringify(schema)}`, {
        schema,
      })
    const connectionString = parsed.toString()
    const pool = new pg.Pool({ connectionString, max: 6, options: `-c search_path=${schema}` })
    pool.on('error', () => undefined)
    const { default: Boss } = await import('pg-boss')
    const boss = new Boss({
      connectionString,
      schema,
      max: 4,
      supervise: options.supervise === true,
      schedule: false,
      migrate: true,
    })
    boss.on('error', () => undefined)
    const queue = new RunQueue(pool, boss, schema)
    // one process at a time creates the tables and pg-boss's schema (concurrent DDL would deadlock)
    await queue.locked(async (c) => {
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
      await c.query(`SET search_path = ${schema}`)
      for (const ddl of TABLES) await c.query(ddl)
      await boss.start()
    })
    await queue.ensureQueue(LAND_QUEUE, LAND_RETRIES)
    return queue
  }

  /** Creates a pg-boss queue when missing (one process at a time). */
  async ensureQueue(name: string, retryLimit = NODE_RETRIES): Promise<void> {
    if (await this.boss.getQueue(name)) return
    await this.locked(() =>
      this.boss.createQueue(name, { name, retryLimit, retryDelay: 0, expireInSeconds: 23 * 3600 }),
    )
  }

  /** Runs `fn` holding the queue's set-up lock (a PostgreSQL advisory lock of the session). */
  async locked<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect()
    const key = `tarn-run-queue ${this.schema}`
    try {
      await c.query('SELECT pg_advisory_lock(hashtext($1))', [key])
      try {
        return await fn(c)
      } finally {
        await c.query('SELECT pg_advisory_unlock(hashtext($1))', [key])
      }
    } finally {
      c.release()
    }
  }

  /** Runs `fn` in one transaction. */
  async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect()
    try {
      await c.query('BEGIN')
      const out = await fn(c)
      await c.query('COMMIT')
      return out
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined)
      throw e
    } finally {
      c.release()
    }
  }

  /**
   * Takes the next landing (highest priority first, then oldest) that has waited at least `minWaitMs` since it was
   * queued, of a run of `pool` (any pool when null), as pg-boss's own fetch does (made active, a retry counted), and
   * records `worker` as its run's landing worker, with the landing job and the time, in the same statement; undefined
   * when there is none.
   */
  async takeLanding(
    minWaitMs: number,
    worker: string,
    pool: string | null,
  ): Promise<TakenLanding | undefined> {
    const r = await this.pool.query(
      `WITH next AS (
         SELECT j.id FROM ${this.schema}.job j
         WHERE j.name = $1 AND j.state < 'active' AND j.start_after < now()
           AND j.created_on <= now() - make_interval(secs => $2)
           AND ($4::text IS NULL OR EXISTS (
             SELECT 1 FROM tarn_runs r WHERE r.job_id = j.data->>'jobId' AND r.pool = $4::text))
         ORDER BY j.priority DESC, j.created_on, j.id
         LIMIT 1
         FOR UPDATE SKIP LOCKED
       ), taken AS (
         UPDATE ${this.schema}.job j SET ${ACTIVATE_JOB}
           FROM next WHERE j.name = $1 AND j.id = next.id
         RETURNING j.id, j.name, j.data
       ), before AS (
         SELECT r.job_id, r.land_job FROM tarn_runs r, taken WHERE r.job_id = taken.data->>'jobId'
       ), marked AS (
         UPDATE tarn_runs SET land_worker = $3, land_job = taken.id::text, land_started_at = clock_timestamp()
           FROM taken, before WHERE tarn_runs.job_id = before.job_id
         RETURNING tarn_runs.state, tarn_runs.spec, tarn_runs.job, before.land_job AS earlier
       )
       SELECT taken.id, taken.name, taken.data,
              CASE WHEN marked.state IS NULL THEN NULL
                   ELSE json_build_object('state', marked.state, 'spec', marked.spec, 'job', marked.job,
                                          'earlier', marked.earlier) END AS run
         FROM taken LEFT JOIN marked ON true`,
      [LAND_QUEUE, minWaitMs / 1000, worker, pool],
    )
    const row = r.rows[0] as
      | { id: string; name: string; data: LandJobData; run: LandingRun | null }
      | undefined
    if (!row) return undefined
    return {
      job: { id: row.id, name: row.name, data: row.data },
      ...(row.run !== null ? { run: row.run } : {}),
    }
  }

  /** pg-boss's view of a transaction's client, so a job is sent in the same transaction as tarn's rows. */
  static db(c: pg.PoolClient): PgBoss.Db {
    return {
      executeSql: async (text: string, values: unknown[]) => ({ rows: (await c.query(text, values)).rows }),
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.boss.stop({ graceful: false, wait: true }).catch(() => undefined)
    await this.pool.end().catch(() => undefined)
  }
}

const TABLES = [
  `CREATE TABLE IF NOT EXISTS tarn_runs (
    job_id text PRIMARY KEY,
    state text NOT NULL,
    priority text NOT NULL,
    pool text NOT NULL,
    spec jsonb NOT NULL,
    job jsonb NOT NULL,
    submitted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    land_worker text,
    land_job text,
    land_started_at timestamptz
  )`,
  // lakes whose queue predates the landing's start time
  'ALTER TABLE tarn_runs ADD COLUMN IF NOT EXISTS land_started_at timestamptz',
  `CREATE TABLE IF NOT EXISTS tarn_tasks (
    job_id text NOT NULL,
    task text NOT NULL,
    depends_on text[] NOT NULL,
    state text NOT NULL,
    attempt integer NOT NULL DEFAULT 0,
    worker text,
    queue_job text,
    memory_mb integer,
    PRIMARY KEY (job_id, task)
  )`,
  `CREATE TABLE IF NOT EXISTS tarn_workers (
    id text PRIMARY KEY,
    pool text NOT NULL,
    cpus integer NOT NULL,
    memory_mb integer NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    state text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    heartbeat_at timestamptz NOT NULL DEFAULT clock_timestamp()
  )`,
  `CREATE TABLE IF NOT EXISTS tarn_executions (
    job_id text NOT NULL,
    task text NOT NULL,
    attempt integer NOT NULL,
    worker text NOT NULL,
    priority text NOT NULL,
    memory_mb integer,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    outcome text,
    error text,
    PRIMARY KEY (job_id, task, attempt)
  )`,
  `CREATE TABLE IF NOT EXISTS tarn_job_logs (
    job_id text NOT NULL,
    seq bigserial,
    line text NOT NULL,
    PRIMARY KEY (job_id, seq)
  )`,
]
