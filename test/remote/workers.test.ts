import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lake } from '../../src/lake/lake.js'
import { freshSchemaUrl, postgresUrl } from '../helpers/postgres.js'
import { haveS3Server, startS3Server, type TestS3Server } from '../helpers/s3-server.js'
import {
  namespaceHosts,
  startWorker,
  submitDetached,
  type WorkerHost,
  type WorkerProcess,
} from './worker-hosts.js'

const pgBase = await postgresUrl()
const s3Ok = pgBase !== undefined && haveS3Server()

/** The run whose TS model throws (a batch run). */
const FAILING = 'r3'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * A project whose TS model sleeps (so a worker can be killed mid-node) and whose SQL model appends its rows; with
 * `fails`, the TS model throws after its sleep.
 */
function writeProject(dir: string, label: string, fails = false): void {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'tarn_project.yml'), `name: ${label}\nnamespace: tarn\n`)
  writeFileSync(
    join(dir, 'slow.ts'),
    [
      "import { input, model } from 'tarn'",
      '',
      "export const slow = model({ inputs: { nums: input('nums') } }, async ({ nums }) => {",
      '  await new Promise((r) => setTimeout(r, 1200))',
      ...(fails ? [`  throw new Error('model slow of ${label} fails')`] : []),
      '  return nums.toArray().map((r) => ({ id: Number(r.id) }))',
      '})',
      '',
    ].join('\n'),
  )
  writeFileSync(
    join(dir, 'events.sql'),
    `-- tarn: materialize=APPEND\nSELECT '${label}' AS run, id FROM slow\n`,
  )
}

interface Execution {
  job_id: string
  task: string
  attempt: number
  worker: string
  priority: string
  started_at: Date
  finished_at: Date | null
  outcome: string | null
}

describe.skipIf(!s3Ok)('remote runs on tarn worker processes (PostgreSQL queue, S3 warehouse)', () => {
  let s3: TestS3Server
  let env: Record<string, string>
  let root: string
  let lake: Lake
  let db: pg.Pool
  let queueSchema: string
  const workers: WorkerProcess[] = []
  let hosts: WorkerHost[] | undefined
  let catalogUrl: string
  const saved = { ...process.env }

  beforeAll(async () => {
    s3 = await startS3Server({ bucket: 'workers' })
    catalogUrl = freshSchemaUrl(pgBase as string, 'wk')
    root = mkdtempSync(join(tmpdir(), 'tarn-workers-'))
    env = {
      TARN_CATALOG_URL: catalogUrl,
      TARN_WAREHOUSE: `s3://${s3.bucket}/wh`,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      AWS_REGION: s3.region,
    }
    const home = join(root, 'client')
    Object.assign(process.env, env)
    lake = await Lake.init({ home, env: { ...process.env, ...env, TARN_HOME: home } })
    writeFileSync(join(root, 'nums.csv'), `id\n${Array.from({ length: 20 }, (_, i) => i + 1).join('\n')}\n`)
    await lake.createTable('nums', { from: [join(root, 'nums.csv')] })
    // the table every run appends to exists before the runs fork main, so their landings combine appends
    writeFileSync(join(root, 'events.csv'), 'run,id\nseed,0\n')
    await lake.createTable('events', { from: [join(root, 'events.csv')] })
    queueSchema = `${new URL(catalogUrl).searchParams.get('schema')}_queue`.toLowerCase()
    db = new pg.Pool({ connectionString: pgBase as string, max: 2 })
  }, 60_000)

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL')
    for (const h of hosts ?? []) await h.close()
    await db?.end()
    await lake?.close()
    await s3?.close()
    process.env = saved
  })

  const executions = async (): Promise<Execution[]> =>
    (await db.query(`SELECT * FROM ${queueSchema}.tarn_executions ORDER BY started_at`)).rows as Execution[]

  it('lands ten runs of mixed priority exactly once on three workers, one of them killed mid-node, and seals the one whose model fails', async () => {
    // ten runs queued before any worker exists: five batch runs first, then five interactive ones
    const runs: { id: string; label: string; priority: string }[] = []
    const home = join(root, 'client')
    const submit = async (i: number): Promise<{ id: string; label: string; priority: string }> => {
      const label = `r${i}`
      const priority = i < 5 ? 'batch' : 'interactive'
      writeProject(join(root, label), label, label === FAILING)
      const r = await submitDetached({ ...env, TARN_HOME: home }, join(root, label), priority)
      expect(r.code, r.stderr).toBe(0)
      return { id: r.job as string, label, priority }
    }
    runs.push(...(await Promise.all([0, 1, 2, 3, 4].map(submit))))
    runs.push(...(await Promise.all([5, 6, 7, 8, 9].map(submit))))
    // three hosts: network namespaces with their own addresses when permitted, else plain processes
    const pgPort = Number(new URL(catalogUrl).port || 5432)
    const s3Port = Number(new URL(env.AWS_ENDPOINT_URL_S3 as string).port)
    hosts = await namespaceHosts(3, [pgPort, s3Port])
    console.info(
      `[workers] the three workers run ${hosts ? 'in network namespaces (ip netns)' : 'as plain processes (ip netns not permitted)'}`,
    )
    for (let i = 0; i < 3; i++) {
      const host = hosts?.[i]
      const url = new URL(catalogUrl)
      if (host) url.host = host.address(pgPort)
      const hostEnv = {
        ...env,
        TARN_HOME: join(root, `host${i}`),
        TARN_CATALOG_URL: url.toString(),
        ...(host ? { AWS_ENDPOINT_URL_S3: `http://${host.address(s3Port)}` } : {}),
      }
      workers.push(
        startWorker(hostEnv, ['--cpus', '1', '--heartbeat', '300', '--lease', '8000'], host?.prefix ?? []),
      )
    }
    // kill the first worker while it runs a node (after some nodes are done elsewhere)
    const victim = workers[0] as WorkerProcess
    const victimId = await (async () => {
      for (let i = 0; i < 600; i++) {
        const rows = await db
          .query(`SELECT id FROM ${queueSchema}.tarn_workers WHERE pid = $1`, [victim.pid])
          .catch(() => ({ rows: [] }))
        const id = (rows.rows[0] as { id: string } | undefined)?.id
        if (id !== undefined) {
          const ex = await executions()
          const busy = ex.some((e) => e.worker === id && e.finished_at === null && e.task === 'slow')
          if (busy && ex.filter((e) => e.outcome === 'done').length >= 2) return id
        }
        await sleep(50)
      }
      throw new Error(`the first worker never ran a node:\n${victim.stderr()}`)
    })()
    victim.child.kill('SIGKILL')
    expect(await victim.exited).toBe('SIGKILL')
    const killedAt = Date.now()

    // every run ends
    const records = await (async () => {
      for (let i = 0; i < 1200; i++) {
        const jobs = await Promise.all(runs.map((r) => lake.getJob(r.id)))
        if (jobs.every((j) => j.status !== 'running')) return jobs
        await sleep(100)
      }
      throw new Error(`runs did not finish:\n${workers.map((w) => w.stderr()).join('\n---\n')}`)
    })()

    // every run landed exactly once: one landing merge on main each, the rows it appended present once; the run
    // whose model failed is sealed as failed and left main untouched
    const landings = new Map<string, number>()
    for (const c of await lake.log('main', { limit: 200 })) {
      const landed = c.properties['tarn.landed_job']
      if (landed) landings.set(landed, (landings.get(landed) ?? 0) + 1)
    }
    const failing = runs.find((r) => r.label === FAILING) as { id: string }
    const failed = records.find((j) => j.id === failing.id)
    expect(failed?.status).toBe('failed')
    expect(failed?.error?.message).toContain(`model slow of ${FAILING} fails`)
    expect(failed?.mergeCommit ?? null).toBeNull()
    expect(landings.has(failing.id)).toBe(false)
    const branches = await lake.listBranches()
    expect(branches.find((b) => b.name === `run/${failing.id}`)?.sealed).toBe(true)
    for (const j of records.filter((r) => r.id !== failing.id)) {
      expect(j.status, JSON.stringify(j.error)).toBe('succeeded')
      expect(landings.get(j.id)).toBe(1)
      expect(j.mergeCommit).not.toBeNull()
    }
    const counts = await lake.query(
      "SELECT run, count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS d FROM tarn.events WHERE run <> 'seed' GROUP BY run ORDER BY run",
    )
    expect(counts.table.toArray().map((r) => ({ run: r.run, n: r.n, d: r.d }))).toEqual(
      runs
        .filter((r) => r.label !== FAILING)
        .map((r) => ({ run: r.label, n: 20, d: 20 }))
        .sort((a, b) => a.run.localeCompare(b.run)),
    )

    // the killed worker was declared lost, its node ran again elsewhere, and every counted node ran on a live worker
    const state = await db.query(`SELECT id, state FROM ${queueSchema}.tarn_workers`)
    expect(state.rows.find((w: { id: string }) => w.id === victimId)?.state).toBe('lost')
    const ex = await executions()
    const lost = ex.filter((e) => e.worker === victimId && e.outcome === 'lost')
    expect(lost.length).toBeGreaterThan(0)
    for (const l of lost) {
      const retried = ex.find((e) => e.job_id === l.job_id && e.task === l.task && e.attempt > l.attempt)
      expect(retried?.worker).not.toBe(victimId)
      expect(retried?.outcome).toBe(l.job_id === failing.id ? 'failed' : 'done')
    }
    const tasks = (
      await db.query(`SELECT job_id, task, attempt, worker, state FROM ${queueSchema}.tarn_tasks`)
    ).rows as { job_id: string; task: string; attempt: number; worker: string; state: string }[]
    expect(tasks).toHaveLength(20)
    for (const t of tasks) {
      if (t.job_id === failing.id) {
        expect(t.state).toBe(t.task === 'slow' ? 'failed' : 'waiting')
        continue
      }
      expect(t.state).toBe('done')
      const e = ex.find((x) => x.job_id === t.job_id && x.task === t.task && x.attempt === t.attempt)
      expect(e?.outcome).toBe('done')
      if (t.worker === victimId)
        expect(e?.finished_at?.getTime() ?? Number.POSITIVE_INFINITY).toBeLessThan(killedAt)
    }

    // priority held while capacity was short: no batch node started while an interactive one waited in the queue
    const jobs = (
      await db.query(
        `SELECT data->>'jobId' AS job, priority, created_on, started_on, retry_count FROM ${queueSchema}.job WHERE name = 'tarn-node-default'`,
      )
    ).rows as { job: string; priority: number; created_on: Date; started_on: Date; retry_count: number }[]
    const interactive = new Set(runs.filter((r) => r.priority === 'interactive').map((r) => r.id))
    const first = ex.slice(0, 3)
    expect(first.every((e) => interactive.has(e.job_id))).toBe(true)
    for (const b of jobs.filter(
      (j) => !interactive.has(j.job) && j.retry_count === 0 && j.started_on !== null,
    )) {
      const waiting = jobs.filter(
        (i) =>
          interactive.has(i.job) &&
          i.retry_count === 0 &&
          i.started_on !== null &&
          i.created_on.getTime() < b.started_on.getTime() - 250 &&
          i.started_on.getTime() > b.started_on.getTime(),
      )
      expect(waiting).toEqual([])
    }

    // SIGTERM drains the survivors: they exit 0
    for (const w of workers.slice(1)) w.child.kill('SIGTERM')
    for (const w of workers.slice(1)) expect(await w.exited).toBe(0)
  }, 240_000)
})
