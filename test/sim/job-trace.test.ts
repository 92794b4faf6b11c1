import { describe, expect, it } from 'vitest'
import { localRecordedJobs, remoteRecordedJobs } from '../../src/lake/recorded-jobs.js'
import type { JobRecord } from '../../src/pipeline/run/job-record.js'
import { builtinPolicy } from '../../src/runtime/scheduler/registry.js'
import type { RecordedJobs, RecordedRun } from '../../src/sim/job-trace.js'
import { dispatchOverheadMs, jobsToTrace } from '../../src/sim/job-trace.js'
import { compareOrders, parseSince, replayJobs } from '../../src/sim/replay.js'
import { isTarnError } from '../../src/util/errors.js'

const T0 = Date.UTC(2026, 11, 3, 18, 0, 0)

/** A run of one or more nodes, each executed once, successfully, on `worker` from `start` for `ms`. */
function run(
  id: string,
  priority: RecordedRun['priority'],
  submitted: number,
  nodes: { name: string; deps?: string[]; worker: string; start: number; ms: number; memoryMb?: number }[],
): RecordedRun {
  return {
    id,
    priority,
    pool: 'default',
    submittedAt: T0 + submitted,
    landedAt: null,
    status: 'succeeded',
    nodes: nodes.map((n) => ({
      name: n.name,
      dependsOn: n.deps ?? [],
      executions: [
        {
          worker: n.worker,
          attempt: 1,
          startedAt: T0 + n.start,
          finishedAt: T0 + n.start + n.ms,
          memoryMb: n.memoryMb ?? 1024,
          outcome: 'done',
        },
      ],
    })),
  }
}

const workers: RecordedJobs['workers'] = [
  { id: 'w1', pool: 'default', cpus: 1, memoryMb: 8192, startedAt: T0 + 500 },
  { id: 'w2', pool: 'default', cpus: 1, memoryMb: 4096, startedAt: T0 + 600 },
]

describe('job records to a simulator trace', () => {
  it('makes each complete run a pipeline at its priority, each node an operator taking its measured time', () => {
    const jobs: RecordedJobs = {
      source: 'workers',
      workers,
      runs: [
        run('job-b', 'interactive', 100, [
          { name: 'a', worker: 'w1', start: 500, ms: 1000 },
          { name: 'b', deps: ['a'], worker: 'w2', start: 1600, ms: 250, memoryMb: 2048 },
        ]),
        run('job-a', 'batch', 0, [{ name: 'only', worker: 'w2', start: 1000, ms: 2000 }]),
        { ...run('job-c', 'batch', 50, []), nodes: [{ name: 'x', dependsOn: [], executions: [] }] },
      ],
    }
    const t = jobsToTrace(jobs)
    // runs in submission order; arrivals count from the first worker's start (nothing could run before)
    expect(t.epochMs).toBe(T0 + 500)
    expect(t.workload.pipelines.map((p) => [p.id, p.priority, p.arrivalSeconds])).toEqual([
      ['job-a', 'batch', 0],
      ['job-b', 'interactive', 0],
    ])
    const b = t.workload.pipelines[1]
    expect(b?.operators).toEqual([
      {
        name: 'a',
        parents: [],
        baselineCpuSeconds: 1,
        cpuScaling: 'const',
        memoryGb: 1,
        storageReadGb: 0,
      },
      {
        name: 'b',
        parents: [0],
        baselineCpuSeconds: 0.25,
        cpuScaling: 'const',
        memoryGb: 2,
        storageReadGb: 0,
      },
    ])
    expect(t.skipped).toEqual([{ id: 'job-c', reason: 'node x never finished' }])
    // one pool per worker, as large as the largest, one node per container, long enough for everything in a row
    expect(t.params).toMatchObject({
      numPools: 2,
      cpusPerPool: 1,
      ramGbPerPool: 8,
      multiOperatorContainers: false,
      ticksPerSecond: 1000,
      maxJobSeconds: 0,
    })
    expect(t.params.duration).toBeGreaterThanOrEqual(3.25)
  })

  it('reads the queue rows of remote runs into recorded runs, lost attempts kept and the last success counted', () => {
    const jobs = remoteRecordedJobs({
      runs: [
        {
          jobId: 'job-1',
          state: 'succeeded',
          priority: 'query',
          pool: 'default',
          submittedAt: T0,
          finishedAt: T0 + 5000,
          landWorker: 'w2',
          landStartedAt: null,
        },
      ],
      tasks: [{ jobId: 'job-1', task: 'm', dependsOn: [] }],
      executions: [
        {
          jobId: 'job-1',
          task: 'm',
          attempt: 1,
          worker: 'w1',
          memoryMb: null,
          startedAt: T0 + 600,
          finishedAt: T0 + 2000,
          outcome: 'lost',
        },
        {
          jobId: 'job-1',
          task: 'm',
          attempt: 2,
          worker: 'w2',
          memoryMb: 512,
          startedAt: T0 + 2500,
          finishedAt: T0 + 3000,
          outcome: 'done',
        },
      ],
      workers,
    })
    expect(jobs.source).toBe('workers')
    expect(jobs.runs[0]?.priority).toBe('query')
    expect(jobs.runs[0]?.nodes[0]?.executions.map((e) => [e.worker, e.outcome, e.memoryMb])).toEqual([
      ['w1', 'lost', 1024],
      ['w2', 'done', 512],
    ])
    const t = jobsToTrace(jobs)
    expect(t.workload.pipelines[0]?.operators[0]?.baselineCpuSeconds).toBe(0.5)
    // the landing (from the last node's end to the run's end) is one more operator after the nodes
    expect(t.workload.pipelines[0]?.operators[1]).toMatchObject({
      name: '(landing)',
      parents: [0],
      baselineCpuSeconds: 2,
    })
    // the real side counts the lost attempt as busy time (1.4 s + 0.5 s, and 2 s of landing) on the slots of two
    // workers, from the first worker's start (the epoch) or their own, until the run landed 4.5 s after the epoch
    const r = replayJobs(jobs, builtinPolicy('priority') as NonNullable<ReturnType<typeof builtinPolicy>>)
    expect(r.real.busySeconds).toBeCloseTo(3.9, 6)
    expect(r.real.makespanSeconds).toBeCloseTo(4.5, 6)
    expect(r.real.availableSeconds).toBeCloseTo(4.5 + 4.4, 6)
    expect(r.real.utilisation).toBeCloseTo(3.9 / 8.9, 6)
  })

  it('measures a landing from the moment its worker took it, not from when it was queued after the last node', () => {
    const jobs = remoteRecordedJobs({
      runs: [
        {
          jobId: 'job-1',
          state: 'succeeded',
          priority: 'batch',
          pool: 'default',
          submittedAt: T0,
          finishedAt: T0 + 5000,
          landWorker: 'w1',
          // queued at 3 s (the node's end), taken by the lander at 4.2 s when its own node ended
          landStartedAt: T0 + 4200,
        },
      ],
      tasks: [{ jobId: 'job-1', task: 'm', dependsOn: [] }],
      executions: [
        {
          jobId: 'job-1',
          task: 'm',
          attempt: 1,
          worker: 'w2',
          memoryMb: 512,
          startedAt: T0 + 1000,
          finishedAt: T0 + 3000,
          outcome: 'done',
        },
      ],
      workers,
    })
    expect(jobs.runs[0]?.landStartedAt).toBe(T0 + 4200)
    const t = jobsToTrace(jobs)
    expect(t.workload.pipelines[0]?.operators[1]).toMatchObject({
      name: '(landing)',
      baselineCpuSeconds: 0.8,
    })
    const r = replayJobs(jobs, builtinPolicy('priority') as NonNullable<ReturnType<typeof builtinPolicy>>)
    // busy: the node's 2 s on w2 and the landing's 0.8 s on w1; the wait for the lander is nobody's work
    expect(r.real.busySeconds).toBeCloseTo(2.8, 6)
  })

  it('turns local job records into runs of the local process, as wide as the most nodes it ran at once', () => {
    const node = (
      id: string,
      kind: 'scan' | 'model' | 'materialize',
      deps: string[],
      s: number | null,
      e: number | null,
    ): JobRecord['nodes'][number] => ({
      id,
      kind,
      name: id.split(':')[1] as string,
      dependsOn: deps,
      status: 'done',
      rows: 1,
      startedAt: s === null ? null : T0 + s,
      finishedAt: e === null ? null : T0 + e,
      error: null,
    })
    const job: JobRecord = {
      id: 'job-local',
      kind: 'run',
      status: 'succeeded',
      project: 'p',
      target: 'main',
      runBranch: 'run/job-local',
      dataCommit: 'c',
      baseCommit: 'c',
      codeHash: 'h',
      params: {},
      select: null,
      strict: false,
      rerunOf: null,
      author: 'a',
      startedAt: T0,
      finishedAt: T0 + 1000,
      nodes: [
        node('scan:t', 'scan', [], null, null),
        node('model:x', 'model', ['scan:t'], 10, 400),
        node('model:y', 'model', ['scan:t'], 20, 300),
        node('materialize:x', 'materialize', ['model:x'], 400, 500),
      ],
      tables: {},
      mergeCommit: 'm',
      warnings: [],
      error: null,
    }
    const jobs = localRecordedJobs([job, { ...job, id: 'job-old', startedAt: T0 - 10_000 }], T0)
    expect(jobs.source).toBe('local')
    expect(jobs.runs.map((r) => r.id)).toEqual(['job-local'])
    expect(jobs.runs[0]?.priority).toBe('interactive')
    expect(jobs.runs[0]?.nodes.map((n) => [n.name, n.dependsOn])).toEqual([
      ['model:x', []],
      ['model:y', []],
      ['materialize:x', ['model:x']],
    ])
    expect(jobs.workers).toEqual([{ id: 'local', pool: 'local', cpus: 2, memoryMb: 8192, startedAt: T0 }])
  })

  it("adds the one-slot workers' mean gap between two activities to every operator, and counts it as not busy", () => {
    // one worker runs four one-node runs back to back with 100 ms between them, then idles 5 s before a fifth
    const starts = [0, 600, 1200, 1800, 7300]
    const jobs: RecordedJobs = {
      source: 'workers',
      workers: [{ id: 'w1', pool: 'default', cpus: 1, memoryMb: 8192, startedAt: T0 }],
      runs: starts.map((s, i) => run(`r${i}`, 'batch', i, [{ name: 'm', worker: 'w1', start: s, ms: 500 }])),
    }
    expect(dispatchOverheadMs(jobs)).toBe(100)
    const t = jobsToTrace(jobs)
    expect(t.dispatchSeconds).toBe(0.1)
    expect(t.workload.pipelines.map((p) => p.operators[0]?.baselineCpuSeconds)).toEqual([
      0.6, 0.6, 0.6, 0.6, 0.6,
    ])
    const r = replayJobs(jobs, builtinPolicy('priority') as NonNullable<ReturnType<typeof builtinPolicy>>)
    // simulated: five operators of 0.6 s in a row; busy is their 0.5 s of work each
    expect(r.simulated.makespanSeconds).toBeCloseTo(3, 2)
    expect(r.simulated.busySeconds).toBeCloseTo(2.5, 2)
    expect(r.simulated.utilisation).toBeCloseTo(2.5 / 3, 2)
  })

  it('compares completion orders by rank correlation and largest displacement', () => {
    expect(compareOrders(['a', 'b', 'c', 'd'], ['a', 'b', 'c', 'd'])).toEqual({
      rankCorrelation: 1,
      maxRankDisplacement: 0,
    })
    expect(compareOrders(['a', 'b', 'c', 'd'], ['d', 'c', 'b', 'a'])).toEqual({
      rankCorrelation: -1,
      maxRankDisplacement: 3,
    })
    expect(compareOrders(['a', 'b', 'c'], ['b', 'a', 'c'])).toEqual({
      rankCorrelation: 0.5,
      maxRankDisplacement: 1,
    })
  })

  it('replays a recorded run that matches the policy with the same order and utilisation', () => {
    // two one-slot workers, three runs at once: the interactive one and the first batch one start, the second batch
    // one when the interactive one is done — what `priority` does
    const jobs: RecordedJobs = {
      source: 'workers',
      workers: workers.map((w) => ({ ...w, startedAt: T0 })),
      runs: [
        run('b1', 'batch', 0, [{ name: 'm', worker: 'w2', start: 0, ms: 1000 }]),
        run('b2', 'batch', 0, [{ name: 'm', worker: 'w1', start: 500, ms: 2000 }]),
        run('i1', 'interactive', 0, [{ name: 'm', worker: 'w1', start: 0, ms: 500 }]),
      ],
    }
    const r = replayJobs(jobs, builtinPolicy('priority') as NonNullable<ReturnType<typeof builtinPolicy>>)
    expect(r.real.completionOrder).toEqual(['i1', 'b1', 'b2'])
    expect(r.real.utilisation).toBeCloseTo(3.5 / 5, 6)
    expect(r.simulated.completionOrder).toEqual(['i1', 'b1', 'b2'])
    expect(r.simulated.completions.map((c) => c.seconds)).toEqual([0.5, 1, 2.5])
    expect(r.differences).toMatchObject({ rankCorrelation: 1, maxRankDisplacement: 0, unfinished: [] })
    expect(Math.abs(r.differences.utilisationDelta)).toBeLessThan(0.01)
    // the naive policy gives a whole pool to the first arrival: another order
    const naive = replayJobs(jobs, builtinPolicy('naive') as NonNullable<ReturnType<typeof builtinPolicy>>)
    expect(naive.policy).toBe('naive')
    expect(naive.simulated.completionOrder).toHaveLength(3)
  })

  it('refuses to replay nothing with JOB_NOT_FOUND and reads --since as an ISO time or an age', () => {
    const policy = builtinPolicy('priority') as NonNullable<ReturnType<typeof builtinPolicy>>
    const none = (() => {
      try {
        replayJobs({ source: 'local', runs: [], workers: [] }, policy)
      } catch (e) {
        return e
      }
    })()
    expect(isTarnError(none) && none.code).toBe('JOB_NOT_FOUND')
    expect(parseSince('2h', T0)).toBe(T0 - 7_200_000)
    expect(parseSince('90s', T0)).toBe(T0 - 90_000)
    expect(parseSince('2026-12-03T18:00:00Z', 0)).toBe(T0)
    for (const bad of ['yesterday', '2h ago', '', '12'])
      expect(() => parseSince(bad, T0)).toThrow(/--since expects/)
  })
})
