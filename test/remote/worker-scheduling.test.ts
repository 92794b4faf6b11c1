import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { createServer, type Socket, connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lake } from '../../src/lake/lake.js'
import { executeTask } from '../../src/pipeline/remote/execute-task.js'
import type { RemoteRunSpec } from '../../src/pipeline/remote/remote-run-spec.js'
import type { JobRecord } from '../../src/pipeline/run/job-record.js'
import { freshSchemaUrl, postgresUrl } from '../helpers/postgres.js'
import { uvAvailable } from '../helpers/uv.js'
import { startWorker, type WorkerProcess } from './worker-hosts.js'

const pgBase = await postgresUrl()

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** A project of one TS model (`m` unless named; its body given) that replaces the table of its name. */
function writeProject(
  dir: string,
  name: string,
  options: string,
  body: readonly string[],
  model = 'm',
): void {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'tarn_project.yml'), `name: ${name}\nnamespace: tarn\n`)
  writeFileSync(
    join(dir, `${model}.ts`),
    [
      "import { input, model } from 'tarn'",
      '',
      `export const ${model} = model({ inputs: { nums: input('nums') }, materialize: 'REPLACE'${options} }, async ({ nums }) => {`,
      ...body.map((l) => `  ${l}`),
      `  return nums.toArray().map((r) => ({ run: '${name}', id: Number(r.id) }))`,
      '})',
      '',
    ].join('\n'),
  )
}

interface Execution {
  job_id: string
  task: string
  attempt: number
  worker: string
  memory_mb: number | null
  outcome: string | null
  error: string | null
  started_at: Date
  finished_at: Date | null
}

describe.skipIf(pgBase === undefined)('tarn worker schedules with the policies of runtime/scheduler', () => {
  let root: string
  let env: Record<string, string>
  let lake: Lake
  let db: pg.Pool
  let queueSchema: string
  const workers: WorkerProcess[] = []

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'tarn-worker-sched-'))
    const catalogUrl = freshSchemaUrl(pgBase as string, 'ws')
    env = { TARN_CATALOG_URL: catalogUrl, TARN_WAREHOUSE: join(root, 'warehouse') }
    const home = join(root, 'client')
    lake = await Lake.init({ home, env: { ...process.env, ...env, TARN_HOME: home, TARN_USER: 'tester' } })
    writeFileSync(join(root, 'nums.csv'), 'id\n1\n2\n3\n')
    await lake.createTable('nums', { from: [join(root, 'nums.csv')] })
    queueSchema = `${new URL(catalogUrl).searchParams.get('schema')}_queue`.toLowerCase()
    db = new pg.Pool({ connectionString: pgBase as string, max: 2 })
  }, 60_000)

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL')
    await db?.end()
    await lake?.close()
  })

  const executions = async (jobId: string): Promise<Execution[]> =>
    (
      await db.query(`SELECT * FROM ${queueSchema}.tarn_executions WHERE job_id = $1 ORDER BY attempt`, [
        jobId,
      ])
    ).rows as Execution[]

  const finished = async (ids: readonly string[], timeoutMs = 120_000): Promise<JobRecord[]> => {
    const until = Date.now() + timeoutMs
    while (Date.now() < until) {
      const jobs = await Promise.all(ids.map((id) => lake.getJob(id)))
      if (jobs.every((j) => j.status !== 'running')) return jobs
      await sleep(200)
    }
    throw new Error(`runs did not finish:\n${workers.map((w) => w.stderr()).join('\n---\n')}`)
  }

  const worker = (args: readonly string[]): WorkerProcess => {
    const w = startWorker({ ...env, TARN_HOME: join(root, `worker${workers.length}`) }, [
      '--heartbeat',
      '300',
      ...args,
    ])
    workers.push(w)
    return w
  }

  /** Writes a one-model project (see `writeProject`) under the test's root and queues it as a batch run of `pool`. */
  const queueBatch = async (name: string, model: string, pool: string, body: readonly string[] = []) => {
    writeProject(join(root, name), name, '', body, model)
    return lake.runRemote({ dir: join(root, name), priority: 'batch', pool, wait: false })
  }

  /** A finished run's log (written just after its final record). */
  const logOf = async (jobId: string): Promise<string> => {
    const until = Date.now() + 20_000
    for (;;) {
      const text = await lake.jobLog(jobId).catch(() => '')
      if (text !== '' || Date.now() > until) return text
      await sleep(100)
    }
  }

  const landedOnMain = async (jobId: string): Promise<boolean> =>
    (await lake.log('main', { limit: 100 })).some((c) => c.properties['tarn.landed_job'] === jobId)

  it('retries a TS node that runs out of memory with the size the policy gives it, lands the run once it fits, and seals the one the policy gives up on', async () => {
    // 70MB of live heap: over a 64MB limit, within the 128MB the priority policy doubles it to
    writeProject(join(root, 'grows'), 'grows', ", memory: '64MB'", [
      'const keep: number[][] = []',
      'for (let i = 0; i < 90; i++) keep.push(new Array(100000).fill(i))',
      'if (keep.length !== 90) throw new Error("lost")',
    ])
    // never fits: 64MB, then 128MB, then the policy gives up (256MB is half the worker)
    writeProject(join(root, 'hog'), 'hog', ", memory: '64MB'", [
      'const hog: number[][] = []',
      'for (;;) hog.push(new Array(100000).fill(nums.numRows))',
    ])
    const grows = await lake.runRemote({
      dir: join(root, 'grows'),
      priority: 'batch',
      pool: 'oom',
      wait: false,
    })
    const hog = await lake.runRemote({ dir: join(root, 'hog'), priority: 'batch', pool: 'oom', wait: false })
    worker(['--pool', 'oom', '--cpus', '8', '--memory', '512MB', '--policy', 'priority'])
    const [g, h] = await finished([grows.id, hog.id])

    expect(g?.status, JSON.stringify(g?.error)).toBe('succeeded')
    expect(await landedOnMain(grows.id)).toBe(true)
    const ge = await executions(grows.id)
    expect(ge.map((e) => [e.task, e.attempt, e.memory_mb, e.outcome])).toEqual([
      ['m', 1, 64, 'oom'],
      ['m', 2, 128, 'done'],
    ])
    expect(ge[0]?.error).toContain('out of memory (limit 64MB)')

    expect(h?.status).toBe('failed')
    expect(h?.error?.message).toBe(
      'node m ran out of memory with 128MB and the priority policy gives it no more',
    )
    expect(await landedOnMain(hog.id)).toBe(false)
    expect((await lake.listBranches()).find((b) => b.name === `run/${hog.id}`)?.sealed).toBe(true)
    expect((await executions(hog.id)).map((e) => [e.attempt, e.memory_mb, e.outcome])).toEqual([
      [1, 64, 'oom'],
      [2, 128, 'oom'],
    ])
    expect(await logOf(hog.id)).toContain(
      '[m] out of memory with 128MB: the priority policy does not run it again',
    )
    // the worker's snapshots of the two projects leave its cache once the runs ended
    const cache = join(root, 'worker0', 'cache', 'remote-projects')
    expect(existsSync(cache)).toBe(true)
    const until = Date.now() + 30_000
    while (readdirSync(cache).length > 0 && Date.now() < until) await sleep(200)
    expect(readdirSync(cache)).toEqual([])
  }, 180_000)

  it.runIf(uvAvailable('a Python node retried after running out of memory'))(
    'retries a Python node that runs out of memory with the larger size the policy gives it, and lands the run',
    async () => {
      // about 220MB more than the interpreter with pyarrow: over a 200MB limit, within the 400MB of the retry
      const dir = join(root, 'pygrows')
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, 'tarn_project.yml'), 'name: pygrows\nnamespace: tarn\n')
      writeFileSync(
        join(dir, 'm.py'),
        [
          'import tarn',
          '',
          '',
          '@tarn.model(materialize="REPLACE", memory="200MB")',
          'def m(nums=tarn.Model("nums")):',
          '    b = bytearray(220 * 1024 ** 2)',
          '    b[::4096] = b"x" * len(b[::4096])',
          '    return nums',
          '',
        ].join('\n'),
      )
      const run = await lake.runRemote({ dir, priority: 'batch', pool: 'pyoom', wait: false })
      worker(['--pool', 'pyoom', '--cpus', '8', '--memory', '2GB', '--policy', 'priority'])
      const [job] = await finished([run.id], 240_000)
      expect(job?.status, JSON.stringify(job?.error)).toBe('succeeded')
      expect(await landedOnMain(run.id)).toBe(true)
      const ex = await executions(run.id)
      expect(ex.map((e) => [e.task, e.attempt, e.memory_mb, e.outcome])).toEqual([
        ['m', 1, 200, 'oom'],
        ['m', 2, 400, 'done'],
      ])
      expect(ex[0]?.error).toContain('out of memory (limit 200MB)')
      expect((await lake.query('SELECT count(*) AS n FROM m', { ref: 'main' })).rows()).toEqual([{ n: 3n }])
    },
    300_000,
  )

  /**
   * Runs the project in `longDir` as a batch run on a one-slot worker of `pool`, then, once its node runs, the one in
   * `quickDir` as a query run; checks that both land, that the batch node was preempted once and ran again after the
   * query node. Returns the batch node's executions.
   */
  const preemptedForQuery = async (longDir: string, quickDir: string, pool: string): Promise<Execution[]> => {
    const long = await lake.runRemote({ dir: longDir, priority: 'batch', pool, wait: false })
    worker(['--pool', pool, '--cpus', '1', '--memory', '1GB', '--policy', 'priority'])
    // the query run arrives once the batch node runs
    const until = Date.now() + 60_000
    while ((await executions(long.id)).length === 0) {
      if (Date.now() > until) throw new Error(`the batch node never started:\n${workers.at(-1)?.stderr()}`)
      await sleep(100)
    }
    const quick = await lake.runRemote({ dir: quickDir, priority: 'query', pool, wait: false })
    const [l, q] = await finished([long.id, quick.id])
    expect(l?.status, JSON.stringify(l?.error)).toBe('succeeded')
    expect(q?.status, JSON.stringify(q?.error)).toBe('succeeded')
    const le = await executions(long.id)
    expect(le.map((e) => [e.attempt, e.outcome, e.error])).toEqual([
      [1, 'preempted', null],
      [2, 'done', null],
    ])
    const [qe] = await executions(quick.id)
    // the query node ran in the slot the batch node gave up, before the batch node's second attempt
    const preemptedAt = le[0]?.finished_at?.getTime() ?? 0
    expect(qe?.started_at.getTime()).toBeGreaterThanOrEqual(preemptedAt)
    expect(qe?.finished_at?.getTime()).toBeLessThanOrEqual(le[1]?.started_at.getTime() ?? 0)
    expect(await logOf(long.id)).toContain('[m] preempted by the scheduler: queued again')
    return le
  }

  it('preempts a long batch node on a full worker when a query run arrives, records it as preempted and runs it again after', async () => {
    writeProject(join(root, 'long'), 'long', '', ['await new Promise((r) => setTimeout(r, 6000))'])
    writeProject(join(root, 'quick'), 'quick', '', [], 'q')
    const le = await preemptedForQuery(join(root, 'long'), join(root, 'quick'), 'one')
    expect((le[0]?.finished_at?.getTime() ?? 0) - (le[0]?.started_at.getTime() ?? 0)).toBeLessThan(6000)
  }, 180_000)

  it('preempts a long SQL node by interrupting its DuckDB query when a query run arrives, and runs it again after', async () => {
    const dir = join(root, 'longsql')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'tarn_project.yml'), 'name: longsql\nnamespace: tarn\n')
    // a few seconds of DuckDB work that checks for interruption at every chunk
    writeFileSync(
      join(dir, 'm.sql'),
      '-- tarn: materialize=REPLACE\nSELECT id, (SELECT count(*) FROM range(1500000000) WHERE range % 7 = 3) AS n FROM nums\n',
    )
    writeProject(join(root, 'quicksql'), 'quicksql', '', [], 'q')
    await preemptedForQuery(dir, join(root, 'quicksql'), 'sqlone')
    const rows = await lake.query('SELECT count(*) AS c, min(n) AS n FROM m', { ref: 'main' })
    expect(rows.rows()).toEqual([{ c: 3n, n: 214285714n }])
  }, 180_000)

  it('commits a node output once when two attempts of the node commit to the run branch at the same time', async () => {
    const dir = join(root, 'twice')
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'tarn_project.yml'), 'name: twice\nnamespace: tarn\n')
    writeFileSync(join(dir, 'events.sql'), '-- tarn: materialize=APPEND\nSELECT id FROM nums\n')
    // no worker serves this pool: the test runs the node's two attempts itself, side by side
    const run = await lake.runRemote({ dir, priority: 'batch', pool: 'nobody', wait: false })
    const row = (await db.query(`SELECT spec, job FROM ${queueSchema}.tarn_runs WHERE job_id = $1`, [run.id]))
      .rows[0] as { spec: RemoteRunSpec; job: JobRecord }
    const attempt = (n: number) =>
      executeTask(lake, row.spec, row.job, 'events', { attempt: n, memoryMb: null, plans: new Map() })
    const results = await Promise.all([attempt(1), attempt(2), attempt(3)])
    for (const r of results) {
      expect(r.error).toBeUndefined()
      expect(r.tables).toEqual({ 'tarn.events': 3 })
    }
    const commits = (await lake.log(`run/${run.id}`, { limit: 20 })).filter(
      (c) => c.properties['tarn.model'] === 'events',
    )
    expect(commits).toHaveLength(1)
    expect(results.flatMap((r) => r.log).filter((l) => l.includes('already committed'))).toHaveLength(2)
  }, 120_000)

  it('fails and seals a run whose landing fails on every try, leaving main untouched', async () => {
    const run = await queueBatch('unlucky', 'u', 'land')
    // the catalog's database refuses the landing merge of this run (a fault of the catalog, not of the run)
    const catalogSchema = queueSchema.replace(/_queue$/, '')
    await db.query(
      `CREATE FUNCTION ${catalogSchema}.refuse_landing() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'landing refused by the test'; END $$`,
    )
    await db.query(
      `CREATE TRIGGER refuse_landing BEFORE INSERT ON ${catalogSchema}.commits FOR EACH ROW
         WHEN (NEW.properties->>'tarn.landed_job' = '${run.id}') EXECUTE FUNCTION ${catalogSchema}.refuse_landing()`,
    )
    const before = (await lake.getBranch('main')).head
    worker(['--pool', 'land', '--cpus', '1', '--memory', '1GB'])
    const [j] = await finished([run.id])
    expect(j?.status).toBe('failed')
    expect(j?.error?.message).toMatch(
      new RegExp(`^landing ${run.id} on main failed 11 times: .*landing refused by the test`),
    )
    expect((await lake.getBranch('main')).head).toBe(before)
    expect((await lake.listBranches()).find((b) => b.name === `run/${run.id}`)?.sealed).toBe(true)
    const state = await db.query(`SELECT state FROM ${queueSchema}.tarn_runs WHERE job_id = $1`, [run.id])
    expect(state.rows[0]).toEqual({ state: 'failed' })
  }, 120_000)

  it('lands exactly once a run whose landing merged but lost its answer: the next try finds the merge', async () => {
    const run = await queueBatch('forgetful', 'f', 'lost')
    // the first landing's merge commits, then recording the run as landed fails once (a sequence is not rolled back)
    await db.query(`CREATE SEQUENCE ${queueSchema}.lose_once`)
    await db.query(
      `CREATE FUNCTION ${queueSchema}.lose_answer() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF nextval('${queueSchema}.lose_once') = 1 THEN RAISE EXCEPTION 'answer lost by the test'; END IF;
         RETURN NEW; END $$`,
    )
    await db.query(
      `CREATE TRIGGER lose_answer BEFORE UPDATE ON ${queueSchema}.tarn_runs FOR EACH ROW
         WHEN (NEW.job_id = '${run.id}' AND NEW.state = 'succeeded') EXECUTE FUNCTION ${queueSchema}.lose_answer()`,
    )
    worker(['--pool', 'lost', '--cpus', '1', '--memory', '1GB'])
    const [j] = await finished([run.id])
    expect(j?.status, JSON.stringify(j?.error)).toBe('succeeded')
    const tries = await db.query(`SELECT last_value FROM ${queueSchema}.lose_once`)
    expect(Number(tries.rows[0].last_value)).toBeGreaterThanOrEqual(2)
    const landings = (await lake.log('main', { limit: 50 })).filter(
      (c) => c.properties['tarn.landed_job'] === run.id,
    )
    expect(landings.map((c) => c.hash)).toEqual([j?.mergeCommit])
  }, 120_000)

  it('stops a worker cut off from PostgreSQL once its lease runs out, and runs its node again elsewhere, once', async () => {
    // the worker reaches PostgreSQL through a relay the test can cut, as a network partition would
    const target = new URL(env.TARN_CATALOG_URL as string)
    const sockets = new Set<Socket>()
    const relay = createServer((client) => {
      const upstream = tcpConnect(Number(target.port || 5432), target.hostname)
      for (const s of [client, upstream]) {
        sockets.add(s)
        s.on('error', () => undefined)
        s.on('close', () => sockets.delete(s))
      }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r))
    const relayed = new URL(target)
    relayed.hostname = '127.0.0.1'
    relayed.port = String((relay.address() as { port: number }).port)
    const run = await queueBatch('partitioned', 'p', 'cut', ['await new Promise((r) => setTimeout(r, 3000))'])
    const cutOff = startWorker(
      { ...env, TARN_CATALOG_URL: relayed.toString(), TARN_HOME: join(root, 'cut-worker') },
      ['--pool', 'cut', '--heartbeat', '200', '--lease', '1500'],
    )
    workers.push(cutOff)
    const until = Date.now() + 60_000
    while ((await executions(run.id)).length === 0 && Date.now() < until) await sleep(100)
    relay.close()
    for (const s of sockets) s.destroy()
    // cut off, the worker gives up its lease and exits before its node could write anything
    expect(await cutOff.exited).toBe(1)
    expect(cutOff.stderr()).toMatch(/lost its lease \(cannot reach the queue/)
    worker(['--pool', 'cut', '--cpus', '1', '--lease', '1500'])
    const [j] = await finished([run.id])
    expect(j?.status).toBe('succeeded')
    const ex = await executions(run.id)
    expect(ex.map((e) => e.outcome)).toEqual(['lost', 'done'])
    expect(ex[1]?.worker).not.toBe(ex[0]?.worker)
    const commits = (await lake.log('main', { limit: 100 })).filter(
      (c) => c.properties['tarn.job_id'] === run.id && c.properties['tarn.model'] === 'p',
    )
    expect(commits).toHaveLength(1)
  }, 120_000)

  it('fails a run whose node needs more memory than any live worker of its pool, naming the node and the memory', async () => {
    writeProject(join(root, 'huge'), 'huge', ", memory: '4GB'", [])
    // a snapshot an earlier worker process left behind in this worker's cache
    const stale = join(root, `worker${workers.length}`, 'cache', 'remote-projects', 'f'.repeat(64))
    mkdirSync(stale, { recursive: true })
    writeFileSync(join(stale, 'tarn_project.yml'), 'name: stale\n')
    const huge = await lake.runRemote({
      dir: join(root, 'huge'),
      priority: 'interactive',
      pool: 'small',
      wait: false,
    })
    worker(['--pool', 'small', '--cpus', '1', '--memory', '1GB'])
    const [j] = await finished([huge.id])
    expect(j?.status).toBe('failed')
    expect(j?.error?.message).toBe(
      'node m failed: it needs 4GB of memory, more than any live worker of pool small has (the largest has 1GB)',
    )
    expect(await executions(huge.id)).toEqual([])
    expect(existsSync(stale)).toBe(false)
    expect(await landedOnMain(huge.id)).toBe(false)
  }, 120_000)
})
