import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lake } from '../../src/lake/lake.js'
import { claimTask, finishTask } from '../../src/pipeline/remote/coordinator.js'
import { queuedNodes, readLiveState } from '../../src/pipeline/remote/read-live-state.js'
import { LAND_QUEUE, nodeQueue, RunQueue } from '../../src/pipeline/remote/run-queue.js'
import { freshSchemaUrl, postgresUrl } from '../helpers/postgres.js'

const pgBase = await postgresUrl()

interface TaskRow {
  state: string
  worker: string | null
  attempt: number
}

describe.skipIf(pgBase === undefined)('claiming and finishing a node in few statements', () => {
  let root: string
  let lake: Lake
  let queue: RunQueue
  let queued = 0

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'tarn-claims-'))
    const catalogUrl = freshSchemaUrl(pgBase as string, 'cl')
    const home = join(root, 'client')
    lake = await Lake.init({
      home,
      env: {
        ...process.env,
        TARN_CATALOG_URL: catalogUrl,
        TARN_WAREHOUSE: join(root, 'warehouse'),
        TARN_HOME: home,
        TARN_USER: 'tester',
      },
    })
    writeFileSync(join(root, 'nums.csv'), 'id\n1\n2\n')
    await lake.createTable('nums', { from: [join(root, 'nums.csv')] })
    queue = await RunQueue.open(catalogUrl)
  }, 60_000)

  afterAll(async () => {
    await queue?.close()
    await lake?.close()
  })

  /** Queues a one-model run (no worker is running: its node stays queued); returns its job id. */
  const queueRun = async (): Promise<string> => {
    const name = `p${queued++}`
    const dir = join(root, name)
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'tarn_project.yml'), `name: ${name}\nnamespace: tarn\n`)
    writeFileSync(join(dir, `out_${name}.sql`), 'SELECT id FROM nums\n')
    return (await lake.runRemote({ dir, priority: 'batch', wait: false })).id
  }

  /** The state a scheduling step sees, and the queue job of `jobId`'s node. */
  const step = async (jobId: string): Promise<{ snapshot: string; queueJob: string; task: string }> => {
    const state = await readLiveState(queue, 'default', Date.now())
    const task = state.runs.find((r) => r.jobId === jobId)?.tasks[0]
    if (!task?.queueJob) throw new Error(`${jobId} has no queued node`)
    return { snapshot: queuedNodes(state), queueJob: task.queueJob, task: task.task }
  }

  const claim = (jobId: string, s: { snapshot: string; queueJob: string; task: string }, worker: string) =>
    claimTask(queue, lake, { jobId, task: s.task, memoryMb: null }, s.queueJob, worker, {
      queue: nodeQueue('default'),
      pool: 'default',
      queued: s.snapshot,
    })

  /** The first column of the one row `sql` reads. */
  const value = async (sql: string, params: unknown[]): Promise<unknown> =>
    Object.values((await queue.pool.query(sql, params)).rows[0] as Record<string, unknown>)[0]

  const queueJobState = (id: string): Promise<unknown> =>
    value(`SELECT state FROM ${queue.schema}.job WHERE id = $1::uuid`, [id])

  const runState = (jobId: string): Promise<unknown> =>
    value('SELECT state FROM tarn_runs WHERE job_id = $1', [jobId])

  const taskRow = async (jobId: string): Promise<TaskRow> =>
    (await queue.pool.query('SELECT state, worker, attempt FROM tarn_tasks WHERE job_id = $1', [jobId]))
      .rows[0] as TaskRow

  it('refuses a claim decided before a node was queued, changing nothing, and makes one decided after', async () => {
    const a = await queueRun()
    const stale = await step(a)
    const b = await queueRun()
    expect(await claim(a, stale, 'worker-x')).toBeUndefined()
    expect(await taskRow(a)).toEqual({ state: 'queued', worker: null, attempt: 0 })
    expect(await queueJobState(stale.queueJob)).toBe('created')
    expect(await value('SELECT count(*)::int AS n FROM tarn_executions', [])).toBe(0)

    // decided again on the queue with both runs' nodes: the claim stands
    const fresh = await step(a)
    const made = await claim(a, fresh, 'worker-x')
    expect(made?.attempt).toBe(1)
    expect(made?.spec.jobId).toBe(a)
    expect(made?.job.nodes.find((n) => n.name === fresh.task)?.status).toBe('running')
    expect(await taskRow(a)).toEqual({ state: 'running', worker: 'worker-x', attempt: 1 })
    expect(await queueJobState(fresh.queueJob)).toBe('active')
    const recorded = await queue.pool.query(
      'SELECT worker, priority FROM tarn_executions WHERE job_id = $1 AND attempt = 1',
      [a],
    )
    expect(recorded.rows).toEqual([{ worker: 'worker-x', priority: 'batch' }])
    // the run's record in the warehouse shows the node running too
    const stored = await lake.getJob(a)
    expect(stored.nodes.find((n) => n.name === fresh.task)?.status).toBe('running')

    // a node queued since the step refuses the claim; a node another worker took since does not
    const forB = await step(b)
    const c = await queueRun()
    expect(await claim(b, forB, 'worker-x')).toBeUndefined()
    const forC = await step(c)
    expect(await claim(c, forC, 'worker-y')).toBeDefined()
    expect((await claim(b, { ...forB, snapshot: forC.snapshot }, 'worker-x'))?.attempt).toBe(1)
    // a node taken already is not taken twice
    expect(await claim(b, { ...forB, snapshot: forC.snapshot }, 'worker-z')).toBeUndefined()
    expect(await taskRow(b)).toEqual({ state: 'running', worker: 'worker-x', attempt: 1 })
  }, 60_000)

  it('records a finished node with its pg-boss job completed and the landing queued, and ignores a stale attempt', async () => {
    const d = await queueRun()
    const s = await step(d)
    expect((await claim(d, s, 'worker-x'))?.attempt).toBe(1)
    const at = { jobId: d, task: s.task, attempt: 1 }
    const job = { queue: nodeQueue('default'), id: s.queueJob }
    const result = { steps: [], tables: { [`tarn.out_p${queued - 1}`]: 2 }, warnings: ['a warning'], log: [] }

    // an attempt that is not the task's current one on that worker (its lease was lost) counts for nothing
    expect(
      await finishTask(queue, lake, { ...at, worker: 'worker-old' }, { ...result, log: ['stale'] }, job),
    ).toBe(false)
    expect(await queueJobState(s.queueJob)).toBe('active')
    expect(await taskRow(d)).toEqual({ state: 'running', worker: 'worker-x', attempt: 1 })
    expect(await runState(d)).toBe('running')

    expect(
      await finishTask(queue, lake, { ...at, worker: 'worker-x' }, { ...result, log: ['done'] }, job),
    ).toBe(true)
    expect(await queueJobState(s.queueJob)).toBe('completed')
    expect(await taskRow(d)).toEqual({ state: 'done', worker: 'worker-x', attempt: 1 })
    expect(await runState(d)).toBe('landing')
    const landings = await queue.pool.query(
      `SELECT data->>'jobId' AS job FROM ${queue.schema}.job WHERE name = $1 AND state = 'created'`,
      [LAND_QUEUE],
    )
    expect(landings.rows).toContainEqual({ job: d })
    const execution = await queue.pool.query(
      'SELECT outcome, finished_at IS NOT NULL AS ended FROM tarn_executions WHERE job_id = $1',
      [d],
    )
    expect(execution.rows).toEqual([{ outcome: 'done', ended: true }])
    const log = await queue.pool.query('SELECT line FROM tarn_job_logs WHERE job_id = $1 ORDER BY seq', [d])
    expect(log.rows.map((r: { line: string }) => r.line)).toEqual(['stale', 'done'])
    const stored = await lake.getJob(d)
    expect(stored.tables).toEqual(result.tables)
    // the run's warnings so far, and the node's
    expect(stored.warnings.at(-1)).toBe('a warning')
  }, 60_000)
})
