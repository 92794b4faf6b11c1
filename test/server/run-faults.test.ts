import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Lake, RemoteLake } from '../../src/index.js'
import { ensureBuilt } from '../helpers/build.js'
import { codeOf } from '../helpers/errors.js'
import { type ProjectFile, slowProject } from '../helpers/slow-project.js'
import { startServe } from './served-process.js'

/** A project: `first` (3 rows, SQL) materialised early, and `slow`, a TS model that waits `ms` before returning zones. */
const project = (ms: number): ProjectFile[] => slowProject(ms, { first: true })

interface RunProgress {
  /** Every event so far, in order. */
  readonly events: { event: string; [k: string]: unknown }[]
  /** Resolves once `ready` holds for the events so far (or rejects when the body ends first). */
  until(ready: (events: RunProgress['events']) => boolean): Promise<void>
  /** Resolves with every event once the body ends, or with the events so far when the connection broke. */
  readonly ended: Promise<RunProgress['events']>
}

/** Posts a run of `files` on `branch` and reads its JSON-lines progress as it comes. */
async function postRun(
  url: string,
  files: unknown,
  branch: string,
  signal?: AbortSignal,
): Promise<RunProgress> {
  const res = await fetch(`${url}/api/v1/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ files, branch }),
    ...(signal ? { signal } : {}),
  })
  expect(res.status).toBe(200)
  const events: RunProgress['events'] = []
  const waiters: (() => void)[] = []
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  const ended = (async () => {
    let rest = ''
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        rest += decoder.decode(r.value, { stream: true })
        const lines = rest.split('\n')
        rest = lines.pop() as string
        for (const line of lines) if (line.trim() !== '') events.push(JSON.parse(line))
        for (const w of waiters.splice(0)) w()
      }
    } catch {
      // the connection broke (aborted by the test, or the server died)
    }
    for (const w of waiters.splice(0)) w()
    return events
  })()
  let done = false
  void ended.then(() => {
    done = true
  })
  return {
    events,
    ended,
    until: async (ready) => {
      while (!ready(events)) {
        if (done) throw new Error(`the run's progress ended first: ${JSON.stringify(events.at(-1))}`)
        await new Promise<void>((resolve) => waiters.push(resolve))
      }
    },
  }
}

/** The latest status of every node reported so far. */
function nodeStates(events: RunProgress['events']): Map<string, string> {
  const states = new Map<string, string>()
  for (const e of events) {
    const node = e.node as { id: string; status: string } | undefined
    if (e.event === 'node' && node) states.set(node.id, node.status)
  }
  return states
}

const slowRunning = (events: RunProgress['events']): boolean => {
  const s = nodeStates(events)
  return (
    s.get('model:slow') === 'running' && [...s].some(([id, st]) => id.endsWith(':first') && st === 'done')
  )
}

async function lakeWithZones(): Promise<{ dir: string; home: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-run-faults-'))
  const home = join(dir, 'lake')
  writeFileSync(join(dir, 'zones.csv'), 'zone\n1\n2\n')
  const lake = await Lake.init({ home, author: 'setup', env: {} })
  try {
    await lake.createTable('zones', { from: join(dir, 'zones.csv') })
  } finally {
    await lake.close()
  }
  return { dir, home }
}

/** Opens the lake after the server stopped and checks what a run that landed whole leaves. */
async function expectLandedWhole(home: string, jobId: string): Promise<void> {
  const lake = await Lake.open({ home, env: {} })
  try {
    const job = await lake.getJob(jobId)
    expect(job.status).toBe('succeeded')
    expect((await lake.getBranch('main')).head).toBe(job.mergeCommit)
    expect((await lake.query('SELECT count(*) AS n FROM slow', { ref: 'main' })).rows()).toEqual([{ n: 2n }])
    expect((await lake.query('SELECT count(*) AS n FROM first', { ref: 'main' })).rows()).toEqual([{ n: 3n }])
    expect((await lake.listBranches()).map((b) => b.name)).toEqual(['main'])
  } finally {
    await lake.close()
  }
}

describe('tarn serve stopped in the middle of a run submitted over HTTP', () => {
  beforeAll(() => ensureBuilt())

  it('on SIGTERM lets the run land whole, streams its outcome to the client, and exits 0', async () => {
    const { home } = await lakeWithZones()
    const server = await startServe({ TARN_HOME: home })
    const run = await postRun(server.url, project(2500), 'main')
    await run.until(slowRunning)
    server.child.kill('SIGTERM')
    const events = await run.ended
    expect(await server.exited, server.stderr()).toBe(0)
    expect(server.stderr()).toContain('draining')
    const last = events.at(-1) as { event: string; job: { id: string; status: string } }
    expect(last.event).toBe('outcome')
    expect(last.job.status).toBe('succeeded')
    await expectLandedWhole(home, last.job.id)
  }, 120_000)

  it('on SIGTERM after the client went away still lets the run land whole before the lake closes', async () => {
    const { home } = await lakeWithZones()
    const server = await startServe({ TARN_HOME: home })
    const abort = new AbortController()
    const run = await postRun(server.url, project(2500), 'main', abort.signal)
    await run.until(slowRunning)
    const planned = run.events.find((e) => e.event === 'planned') as unknown as { job: { id: string } }
    abort.abort()
    await run.ended
    server.child.kill('SIGTERM')
    expect(await server.exited, server.stderr()).toBe(0)
    await expectLandedWhole(home, planned.job.id)
  }, 120_000)

  it('after SIGKILL restarts with the run reported interrupted, its run branch sealed, main untouched and every acknowledged write present', async () => {
    const { dir, home } = await lakeWithZones()
    const server = await startServe({ TARN_HOME: home })
    const remote = RemoteLake.connect({ url: server.url })
    const mainBefore = (await remote.getBranch('main')).head
    await remote.createBranch('side', { from: 'main' })
    const run = await postRun(server.url, project(60_000), 'main')
    // acknowledged imports on another branch while the run goes
    const acked: string[] = []
    let killed = false
    const writer = (async () => {
      for (let k = 0; !killed; k++) {
        const file = join(dir, `side-${k}.csv`)
        writeFileSync(file, `zone\n${100 + k}\n`)
        try {
          acked.push((await remote.importTable('zones', { from: file, branch: 'side' })).commit.hash)
        } catch {
          // unacknowledged: the server died first
        }
      }
    })()
    await run.until(slowRunning)
    while (acked.length < 2) await new Promise((r) => setTimeout(r, 10))
    const planned = run.events.find((e) => e.event === 'planned') as unknown as {
      job: { id: string; runBranch: string }
    }
    // the stored record follows the run's progress soon after the event: kill once it says the model is running
    for (let t = 0; t < 600; t++) {
      const stored = await remote.getJob(planned.job.id).catch(() => undefined)
      if (stored?.nodes.find((n) => n.id === 'model:slow')?.status === 'running') break
      await new Promise((r) => setTimeout(r, 50))
    }
    server.child.kill('SIGKILL')
    killed = true
    expect(await server.exited).toBe('SIGKILL')
    await Promise.all([writer, run.ended])
    expect(run.events.some((e) => e.event === 'outcome')).toBe(false)

    const restarted = await startServe({ TARN_HOME: home })
    try {
      const { id, runBranch } = planned.job
      expect(restarted.stderr()).toContain(`run ${id} was interrupted`)
      const again = RemoteLake.connect({ url: restarted.url })
      const job = await again.getJob(id)
      expect(job.status).toBe('failed')
      expect(job.error?.code).toBe('JOB_INTERRUPTED')
      expect(job.error?.message).toContain(`run branch ${runBranch} is sealed; main is untouched`)
      expect(job.nodes.find((n) => n.id === 'model:slow')?.status).toBe('failed')
      expect(await again.jobLog(id)).toContain('was interrupted')
      // main untouched; the run branch keeps the part that was written, sealed: readable, not writable
      expect((await again.getBranch('main')).head).toBe(mainBefore)
      expect(await codeOf(again.getTable('first', { ref: 'main' }))).toBe('TABLE_NOT_FOUND')
      expect((await again.getBranch(runBranch)).sealed).toBe(true)
      expect((await again.query('SELECT count(*) AS n FROM first', { ref: runBranch })).rows()).toEqual([
        { n: 3n },
      ])
      expect(await codeOf(again.createNamespace('later', { branch: runBranch }))).toBe('BRANCH_SEALED')
      // every acknowledged import is in the history of its branch
      const side = new Set((await again.log('side')).map((c) => c.hash))
      for (const hash of acked) expect(side.has(hash), `acknowledged import ${hash}`).toBe(true)
      // nothing is left running, and the restarted server runs and lands the project
      expect((await again.listAllJobs({ status: 'running' })).map((j) => j.id)).toEqual([])
      const dirOf = mkdtempSync(join(tmpdir(), 'tarn-run-faults-project-'))
      for (const f of project(10)) writeFileSync(join(dirOf, f.path), f.content)
      const { job: next } = await again.run({ dir: dirOf, branch: 'main' })
      expect(next.status).toBe('succeeded')
      expect((await again.getBranch('main')).head).toBe(next.mergeCommit)
    } finally {
      expect(await restarted.stop()).toBe(0)
    }
  }, 180_000)
})
