import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Lake } from '../../src/index.js'
import type { JobRecord, OperationJobRecord } from '../../src/pipeline/run/job-record.js'
import { putJob } from '../../src/pipeline/run/job-store.js'
import { currentProcess, type ProcessIdentity } from '../../src/util/process-identity.js'

/** The identity of a child process that has already exited. */
function endedProcess(): ProcessIdentity {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  })
  return { ...currentProcess(), pid: Number(child.stdout), startTicks: -1 }
}

describe('settling jobs a dead process left running', () => {
  let lake: Lake
  beforeEach(async () => {
    lake = await Lake.init({ home: join(mkdtempSync(join(tmpdir(), 'tarn-interrupted-')), 'lake'), env: {} })
    await lake.createNamespace('sales')
  })
  afterEach(async () => {
    await lake.close()
  })

  /** A run job recorded as running on its forked run branch, with one materialisation committed there. */
  async function runningRun(id: string, runner: ProcessIdentity): Promise<JobRecord> {
    const head = (await lake.getBranch('main')).head
    const runBranch = `run/${id}`
    await lake.catalog.createBranch(runBranch, { from: 'main' })
    await lake.createNamespace(`part_${id.slice(-4)}`, { branch: runBranch })
    const job: JobRecord = {
      id,
      kind: 'run',
      status: 'running',
      project: 'p',
      target: 'main',
      runBranch,
      dataCommit: head,
      baseCommit: head,
      codeHash: '0'.repeat(64),
      params: {},
      select: null,
      strict: false,
      rerunOf: null,
      author: 'tester',
      runner,
      startedAt: 1,
      finishedAt: null,
      nodes: [
        {
          id: 'model:a',
          kind: 'model',
          name: 'a',
          status: 'done',
          rows: 1,
          startedAt: 1,
          finishedAt: 2,
          error: null,
        },
        {
          id: 'model:b',
          kind: 'model',
          name: 'b',
          status: 'running',
          rows: null,
          startedAt: 2,
          finishedAt: null,
          error: null,
        },
        {
          id: 'model:c',
          kind: 'model',
          name: 'c',
          status: 'waiting',
          rows: null,
          startedAt: null,
          finishedAt: null,
          error: null,
        },
      ],
      tables: {},
      mergeCommit: null,
      warnings: [],
      error: null,
    }
    await putJob(lake.store, job)
    return job
  }

  it('fails a run whose process ended, seals its run branch and leaves the target untouched', async () => {
    const before = (await lake.getBranch('main')).head
    const job = await runningRun('job-00000000dead', endedProcess())
    expect(await lake.settleInterruptedJobs()).toEqual([
      { id: job.id, kind: 'run', status: 'failed', runBranch: job.runBranch },
    ])
    const settled = await lake.getJob(job.id)
    expect(settled.status).toBe('failed')
    expect(settled.error?.code).toBe('JOB_INTERRUPTED')
    expect(settled.error?.context).toMatchObject({ job: job.id, runBranch: job.runBranch, target: 'main' })
    expect(settled.finishedAt).not.toBeNull()
    expect(settled.nodes.map((n) => n.status)).toEqual(['done', 'failed', 'skipped'])
    expect((await lake.getBranch(job.runBranch)).sealed).toBe(true)
    expect((await lake.getBranch('main')).head).toBe(before)
    expect(await lake.jobLog(job.id)).toContain(`run ${job.id} was interrupted`)
    // settled once: a second pass finds nothing
    expect(await lake.settleInterruptedJobs()).toEqual([])
  })

  it('marks succeeded a run whose landing merge committed before its process ended, and removes its run branch', async () => {
    const job = await runningRun('job-0000000000a1', endedProcess())
    const merged = await lake.catalog.merge(job.runBranch, {
      into: 'main',
      author: 'tester',
      message: 'Run p',
      properties: { 'tarn.job_id': job.id, 'tarn.operation': 'run-merge' },
      job: job.id,
    })
    expect(await lake.settleInterruptedJobs()).toEqual([
      { id: job.id, kind: 'run', status: 'succeeded', runBranch: job.runBranch },
    ])
    const settled = await lake.getJob(job.id)
    expect(settled.status).toBe('succeeded')
    expect(settled.mergeCommit).toBe(merged.target.after)
    expect((await lake.listBranches()).map((b) => b.name)).toEqual(['main'])
  })

  it('leaves alone the jobs of live processes, of other hosts, and records without a runner', async () => {
    await runningRun('job-0000000000b1', currentProcess())
    await runningRun('job-0000000000b2', { host: 'another-host.example', pid: 1 })
    const old = await runningRun('job-0000000000b3', currentProcess())
    const { runner: _, ...withoutRunner } = old
    await putJob(lake.store, withoutRunner)
    expect(await lake.settleInterruptedJobs()).toEqual([])
    expect((await lake.listJobs()).map((j) => j.status)).toEqual(['running', 'running', 'running'])
  })

  it('fails an import whose process ended, naming the branch whose log tells whether it committed', async () => {
    const record: OperationJobRecord = {
      id: 'import-00000000dead',
      kind: 'import',
      status: 'running',
      target: 'main',
      dataCommit: null,
      table: 'orders',
      sql: null,
      files: ['orders.csv'],
      rows: null,
      author: 'tester',
      runner: endedProcess(),
      startedAt: 1,
      finishedAt: null,
      error: null,
    }
    await putJob(lake.store, record)
    expect(await lake.settleInterruptedJobs()).toEqual([{ id: record.id, kind: 'import', status: 'failed' }])
    const settled = await lake.getAnyJob(record.id)
    expect(settled.status).toBe('failed')
    expect(settled.error?.code).toBe('JOB_INTERRUPTED')
    expect(settled.error?.message).toContain('the log of main shows whether it did')
  })
})
