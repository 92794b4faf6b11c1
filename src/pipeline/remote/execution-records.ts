import pg from 'pg'

/** A remote run as its queue recorded it. */
export interface RunRow {
  readonly jobId: string
  readonly state: string
  readonly priority: string
  readonly pool: string
  readonly submittedAt: number
  readonly finishedAt: number | null
  /** The worker that landed or sealed it (the last to try). */
  readonly landWorker: string | null
  /** When that worker took its landing (null when no worker took it, or for queues older than this field). */
  readonly landStartedAt: number | null
}

/** A node of a remote run. */
export interface TaskRow {
  readonly jobId: string
  readonly task: string
  readonly dependsOn: readonly string[]
}

/** One execution of a node on a worker (finished ones only). */
export interface ExecutionRow {
  readonly jobId: string
  readonly task: string
  readonly attempt: number
  readonly worker: string
  readonly memoryMb: number | null
  readonly startedAt: number
  readonly finishedAt: number
  readonly outcome: string
}

/** A worker that ran executions. */
export interface WorkerRow {
  readonly id: string
  readonly pool: string
  readonly cpus: number
  readonly memoryMb: number
  readonly startedAt: number
}

/** Everything the queue recorded of the remote runs submitted since a time. */
export interface ExecutionRecords {
  readonly runs: readonly RunRow[]
  readonly tasks: readonly TaskRow[]
  readonly executions: readonly ExecutionRow[]
  readonly workers: readonly WorkerRow[]
}

const NONE: ExecutionRecords = { runs: [], tasks: [], executions: [], workers: [] }

const ms = (d: Date | null): number | null => (d === null ? null : d.getTime())

/**
 * Reads (and changes nothing of) the remote runs submitted at or after `sinceMs` from the queue tables of a
 * PostgreSQL catalog (`tarn_runs`, `tarn_tasks`, `tarn_executions`, `tarn_workers` in `<catalog schema>_queue`, the
 * schema `RunQueue.open` uses): their nodes, the finished executions and the workers that ran them. Empty when the
 * catalog is not PostgreSQL or no run was ever submitted to workers.
 */
export async function readExecutionRecords(catalogUrl: string, sinceMs: number): Promise<ExecutionRecords> {
  if (!/^postgres(ql)?:\/\//.test(catalogUrl)) return NONE
  const parsed = new URL(catalogUrl)
  const catalogSchema = parsed.searchParams.get('schema') ?? 'public'
  parsed.searchParams.delete('schema')
  const schema = `${catalogSchema === 'public' ? 'tarn' : catalogSchema}_queue`.toLowerCase()
  const client = new pg.Client({ connectionString: parsed.toString() })
  client.on('error', () => undefined)
  await client.connect()
  try {
    const exists = await client.query('SELECT to_regclass($1) AS t', [`"${schema}".tarn_executions`])
    if ((exists.rows[0] as { t: string | null }).t === null) return NONE
    const q = (table: string): string => `"${schema}".${table}`
    const since = new Date(sinceMs)
    const runs = (
      await client.query(
        `SELECT job_id, state, priority, pool, submitted_at, finished_at, land_worker, land_started_at FROM ${q('tarn_runs')} WHERE submitted_at >= $1 ORDER BY submitted_at, job_id`,
        [since],
      )
    ).rows as {
      job_id: string
      state: string
      priority: string
      pool: string
      submitted_at: Date
      finished_at: Date | null
      land_worker: string | null
      land_started_at: Date | null
    }[]
    const tasks = (
      await client.query(
        `SELECT t.job_id, t.task, t.depends_on FROM ${q('tarn_tasks')} t JOIN ${q('tarn_runs')} r USING (job_id) WHERE r.submitted_at >= $1 ORDER BY t.job_id, t.task`,
        [since],
      )
    ).rows as { job_id: string; task: string; depends_on: string[] }[]
    const executions = (
      await client.query(
        `SELECT e.job_id, e.task, e.attempt, e.worker, e.memory_mb, e.started_at, e.finished_at, e.outcome FROM ${q('tarn_executions')} e JOIN ${q('tarn_runs')} r USING (job_id) WHERE r.submitted_at >= $1 AND e.finished_at IS NOT NULL ORDER BY e.job_id, e.task, e.attempt`,
        [since],
      )
    ).rows as {
      job_id: string
      task: string
      attempt: number
      worker: string
      memory_mb: number | null
      started_at: Date
      finished_at: Date
      outcome: string | null
    }[]
    const ids = [
      ...new Set([...executions.map((e) => e.worker), ...runs.flatMap((r) => r.land_worker ?? [])]),
    ]
    const workers = (
      await client.query(
        `SELECT id, pool, cpus, memory_mb, started_at FROM ${q('tarn_workers')} WHERE id = ANY($1::text[]) ORDER BY started_at, id`,
        [ids],
      )
    ).rows as { id: string; pool: string; cpus: number; memory_mb: number; started_at: Date }[]
    return {
      runs: runs.map((r) => ({
        jobId: r.job_id,
        state: r.state,
        priority: r.priority,
        pool: r.pool,
        submittedAt: r.submitted_at.getTime(),
        finishedAt: ms(r.finished_at),
        landWorker: r.land_worker,
        landStartedAt: ms(r.land_started_at),
      })),
      tasks: tasks.map((t) => ({ jobId: t.job_id, task: t.task, dependsOn: t.depends_on })),
      executions: executions.map((e) => ({
        jobId: e.job_id,
        task: e.task,
        attempt: e.attempt,
        worker: e.worker,
        memoryMb: e.memory_mb,
        startedAt: e.started_at.getTime(),
        finishedAt: e.finished_at.getTime(),
        outcome: e.outcome ?? 'unknown',
      })),
      workers: workers.map((w) => ({
        id: w.id,
        pool: w.pool,
        cpus: w.cpus,
        memoryMb: w.memory_mb,
        startedAt: w.started_at.getTime(),
      })),
    }
  } finally {
    await client.end().catch(() => undefined)
  }
}
