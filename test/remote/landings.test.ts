import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lake } from '../../src/lake/lake.js'
import type { JobRecord } from '../../src/pipeline/run/job-record.js'
import { freshSchemaUrl, postgresUrl } from '../helpers/postgres.js'
import { startWorker, type WorkerProcess } from './worker-hosts.js'

const pgBase = await postgresUrl()

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

interface RunRow {
  job_id: string
  land_worker: string
  /** From the end of the run's last node to the landing's start. */
  waited_ms: number
}

describe.skipIf(pgBase === undefined)(
  'landings go to the lander, the live worker of the pool registered first',
  () => {
    let root: string
    let env: Record<string, string>
    let lake: Lake
    let db: pg.Pool
    let queueSchema: string
    const workers: WorkerProcess[] = []
    let queued = 0

    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), 'tarn-landings-'))
      const catalogUrl = freshSchemaUrl(pgBase as string, 'ld')
      env = { TARN_CATALOG_URL: catalogUrl, TARN_WAREHOUSE: join(root, 'warehouse') }
      const home = join(root, 'client')
      lake = await Lake.init({ home, env: { ...process.env, ...env, TARN_HOME: home, TARN_USER: 'tester' } })
      writeFileSync(join(root, 'nums.csv'), 'id\n1\n2\n3\n')
      await lake.createTable('nums', { from: [join(root, 'nums.csv')] })
      queueSchema = `${new URL(catalogUrl).searchParams.get('schema')}_queue`.toLowerCase()
      db = new pg.Pool({ connectionString: pgBase as string, max: 2 })
    }, 60_000)

    afterAll(async () => {
      for (const w of workers) {
        w.child.kill('SIGCONT')
        if (w.child.exitCode === null) w.child.kill('SIGKILL')
      }
      await db?.end()
      await lake?.close()
    })

    /** Starts a worker and waits until it is registered; returns its id. */
    const worker = async (
      landingWaitMs: number,
      pool = 'default',
    ): Promise<{ id: string; process: WorkerProcess }> => {
      const w = startWorker({ ...env, TARN_HOME: join(root, `worker${workers.length}`) }, [
        '--heartbeat',
        '200',
        '--landing-wait',
        String(landingWaitMs),
        '--pool',
        pool,
      ])
      workers.push(w)
      const until = Date.now() + 60_000
      for (;;) {
        const r = await db
          .query(`SELECT id FROM ${queueSchema}.tarn_workers WHERE pid = $1 AND state = 'live'`, [w.pid])
          .catch(() => ({ rows: [] }))
        const id = (r.rows[0] as { id: string } | undefined)?.id
        if (id !== undefined) return { id, process: w }
        if (Date.now() > until) throw new Error(`the worker did not register:\n${w.stderr()}`)
        await sleep(50)
      }
    }

    /** Queues `n` one-model SQL runs, each replacing a table of its own. */
    const queueRuns = async (n: number, pool = 'default'): Promise<string[]> => {
      const ids: string[] = []
      for (let i = 0; i < n; i++) {
        const name = `p${queued++}`
        const dir = join(root, name)
        mkdirSync(dir, { recursive: true })
        writeFileSync(join(dir, 'tarn_project.yml'), `name: ${name}\nnamespace: tarn\n`)
        writeFileSync(
          join(dir, `out_${name}.sql`),
          `-- tarn: materialize=REPLACE\nSELECT '${name}' AS run, id FROM nums\n`,
        )
        ids.push((await lake.runRemote({ dir, priority: 'batch', pool, wait: false })).id)
      }
      return ids
    }

    const finished = async (ids: readonly string[]): Promise<JobRecord[]> => {
      const until = Date.now() + 120_000
      while (Date.now() < until) {
        const jobs = await Promise.all(ids.map((id) => lake.getJob(id)))
        if (jobs.every((j) => j.status !== 'running')) return jobs
        await sleep(100)
      }
      throw new Error(`runs did not finish:\n${workers.map((w) => w.stderr()).join('\n---\n')}`)
    }

    const runRows = async (ids: readonly string[]): Promise<RunRow[]> =>
      (
        await db.query(
          `SELECT r.job_id, r.land_worker,
                  (SELECT extract(epoch FROM r.land_started_at - max(e.finished_at)) * 1000
                     FROM ${queueSchema}.tarn_executions e WHERE e.job_id = r.job_id)::float8 AS waited_ms
             FROM ${queueSchema}.tarn_runs r WHERE r.job_id = ANY($1::text[])`,
          [ids],
        )
      ).rows as RunRow[]

    let lander: { id: string; process: WorkerProcess }

    it('lands every run on the worker registered first, while the other worker runs nodes too', async () => {
      lander = await worker(60_000)
      const other = await worker(60_000)
      const ids = await queueRuns(8)
      const jobs = await finished(ids)
      expect(jobs.map((j) => j.status)).toEqual(ids.map(() => 'succeeded'))
      const rows = await runRows(ids)
      expect(rows.map((r) => r.land_worker)).toEqual(ids.map(() => lander.id))
      const ran = await db.query(
        `SELECT DISTINCT worker FROM ${queueSchema}.tarn_executions WHERE job_id = ANY($1::text[]) AND outcome = 'done'`,
        [ids],
      )
      expect(ran.rows.map((r: { worker: string }) => r.worker)).toContain(other.id)
      const tables = (await lake.listTables()).map((t) => t.name)
      for (let i = 0; i < 8; i++) expect(tables).toContain(`out_p${i}`)
      // every node's and landing's pg-boss job is completed (each in the statement that recorded its outcome)
      const queueJobs = await db.query(
        `SELECT name, state, count(*)::int AS n FROM ${queueSchema}.job WHERE data->>'jobId' = ANY($1::text[])
        GROUP BY name, state ORDER BY name`,
        [ids],
      )
      expect(queueJobs.rows).toEqual([
        { name: 'tarn-land', state: 'completed', n: 8 },
        { name: 'tarn-node-default', state: 'completed', n: 8 },
      ])
    }, 120_000)

    it('lets another worker land a run whose landing waited --landing-wait for a lander that stopped', async () => {
      // the lander is still live in the queue (its lease has not run out) but does nothing
      lander.process.child.kill('SIGSTOP')
      const patient = await worker(400)
      const ids = await queueRuns(2)
      const jobs = await finished(ids)
      expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded'])
      for (const r of await runRows(ids)) {
        // the other worker of the first test waits 60 s: the one with the short wait landed it, after waiting
        expect(r.land_worker).toBe(patient.id)
        expect(r.waited_ms).toBeGreaterThanOrEqual(400)
      }
    }, 120_000)

    it("lands a pool's runs on that pool's lander at once, while the first worker of another pool is stopped", async () => {
      // registered after every worker of the other tests, but the first of its pool; it waits 60 s for other landers
      const own = await worker(60_000, 'nightly')
      const ids = await queueRuns(3, 'nightly')
      const jobs = await finished(ids)
      expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'succeeded'])
      for (const r of await runRows(ids)) {
        expect(r.land_worker).toBe(own.id)
        // taken at once, not after the other pool's worker waited --landing-wait (400 ms) for a lander
        expect(r.waited_ms).toBeLessThan(400)
      }
    }, 120_000)
  },
)
