import { describe, expect, it } from 'vitest'
import { liveDecide, oomRetryMb } from '../../src/pipeline/remote/live-decide.js'
import {
  buildLiveView,
  type LiveRun,
  type LiveState,
  type LiveTask,
  withRunsTaken,
} from '../../src/pipeline/remote/live-view.js'
import type { Policy } from '../../src/runtime/scheduler/policy.js'
import { builtinPolicy } from '../../src/runtime/scheduler/registry.js'

const policy = (name: string): Policy => builtinPolicy(name) as Policy

function task(name: string, state: string, extra: Partial<LiveTask> = {}): LiveTask {
  return {
    task: name,
    dependsOn: [],
    state,
    memoryMb: null,
    queueJob: state === 'queued' ? `q-${name}` : null,
    lastFailure: null,
    ...extra,
  }
}

function run(jobId: string, priority: LiveRun['priority'], submittedAt: number, tasks: LiveTask[]): LiveRun {
  return { jobId, priority, submittedAt, tasks }
}

describe('live scheduling steps on hand-made queue states', () => {
  it('builds the policy snapshot: live workers as pools less their running executions, runs as pipelines in topological order', () => {
    const state: LiveState = {
      now: 5000,
      workers: [
        { id: 'w-b', cpus: 2, memoryMb: 4096 },
        { id: 'w-a', cpus: 1, memoryMb: 8192 },
      ],
      runs: [
        run('job-1', 'batch', 1000, [
          task('c', 'waiting', { dependsOn: ['b'] }),
          task('b', 'queued', { dependsOn: ['a'], memoryMb: 2048 }),
          task('a', 'running'),
        ]),
      ],
      running: [{ jobId: 'job-1', task: 'a', attempt: 1, worker: 'w-b', priority: 'batch', memoryMb: 1024 }],
    }
    const { view, workers } = buildLiveView(state)
    expect(workers.map((w) => w.id)).toEqual(['w-a', 'w-b'])
    expect(view.pools.map((p) => [p.totalCpu, p.availCpu, p.totalRamGb, p.availRamGb])).toEqual([
      [1, 1, 8, 8],
      [2, 1, 4, 3],
    ])
    expect(view.pools[1]?.containers.map((c) => [c.id, c.ramGb, c.priority, c.ops])).toEqual([
      ['job-1/a/1', 1, 'batch', [{ pipelineId: 'job-1', index: 0 }]],
    ])
    const p = view.pipeline('job-1')
    expect(p.operators.map((o) => [o.name, o.parents, o.state, o.estimate.memoryGb])).toEqual([
      ['a', [], 'running', 1],
      ['b', [0], 'pending', 2],
      ['c', [1], 'pending', 1],
    ])
    expect(view.arrivals.map((a) => a.id)).toEqual(['job-1'])
  })

  it('gives the free worker the interactive node before the batch one submitted earlier (priority policy)', () => {
    const state: LiveState = {
      now: 0,
      workers: [
        { id: 'w-a', cpus: 1, memoryMb: 8192 },
        { id: 'w-b', cpus: 1, memoryMb: 8192 },
      ],
      runs: [
        run('job-batch', 'batch', 1, [task('m', 'queued')]),
        run('job-busy', 'batch', 0, [task('m', 'running')]),
        run('job-inter', 'interactive', 2, [task('m', 'queued')]),
      ],
      running: [
        { jobId: 'job-busy', task: 'm', attempt: 1, worker: 'w-a', priority: 'batch', memoryMb: 1024 },
      ],
    }
    const d = liveDecide(policy('priority'), state)
    expect(d.claims).toEqual([
      { worker: 'w-b', jobId: 'job-inter', task: 'm', queueJob: 'q-m', memoryMb: 1024 },
    ])
    expect(d.suspensions).toEqual([])
    // the decisions do not depend on the order the workers were read in
    expect(liveDecide(policy('priority'), { ...state, workers: [...state.workers].reverse() })).toEqual(d)
  })

  it('keeps a node on the worker that asks when the policy sees two equally free workers', () => {
    const state: LiveState = {
      now: 0,
      workers: [
        { id: 'w-a', cpus: 1, memoryMb: 8192 },
        { id: 'w-b', cpus: 1, memoryMb: 8192 },
      ],
      runs: [
        run('job-batch', 'batch', 0, [task('m', 'queued')]),
        run('job-inter', 'interactive', 1, [task('m', 'queued')]),
      ],
      running: [],
    }
    const claims = (self?: string) =>
      liveDecide(policy('priority'), state, self).claims.map((c) => [c.worker, c.jobId])
    expect(claims()).toEqual([
      ['w-a', 'job-inter'],
      ['w-b', 'job-batch'],
    ])
    // w-b asking takes the interactive node itself rather than the batch one
    expect(claims('w-b')).toEqual([
      ['w-b', 'job-inter'],
      ['w-a', 'job-batch'],
    ])
  })

  it('gives the asking worker the next node when another worker holds the run of the first, still counting its executions', () => {
    const state: LiveState = {
      now: 0,
      workers: [
        { id: 'w-a', cpus: 1, memoryMb: 8192 },
        { id: 'w-b', cpus: 2, memoryMb: 8192 },
      ],
      runs: [
        run('job-0', 'batch', 0, [task('m', 'running')]),
        run('job-1', 'batch', 1, [task('a', 'running'), task('b', 'queued')]),
        run('job-2', 'batch', 2, [task('m', 'queued')]),
      ],
      running: [
        { jobId: 'job-0', task: 'm', attempt: 1, worker: 'w-a', priority: 'batch', memoryMb: 1024 },
        { jobId: 'job-1', task: 'a', attempt: 1, worker: 'w-b', priority: 'batch', memoryMb: 1024 },
      ],
    }
    const claims = (s: LiveState) =>
      liveDecide(policy('priority'), s, 'w-b').claims.map((c) => [c.worker, c.jobId, c.task])
    expect(claims(state)).toEqual([['w-b', 'job-1', 'b']])
    // w-b lost its claim on job-1 to another worker: its next step takes job-2, and job-1's running node still
    // uses one of w-b's two CPUs
    const taken = withRunsTaken(state, new Set(['job-1']))
    expect(claims(taken)).toEqual([['w-b', 'job-2', 'm']])
    expect(buildLiveView(taken, 'w-b').view.pools.map((p) => p.availCpu)).toEqual([1, 0])
  })

  it('runs only the nodes whose inputs are done', () => {
    const state: LiveState = {
      now: 0,
      workers: [{ id: 'w-a', cpus: 4, memoryMb: 16384 }],
      runs: [
        run('job-1', 'batch', 0, [
          task('a', 'done'),
          task('b', 'queued', { dependsOn: ['a'] }),
          task('c', 'waiting', { dependsOn: ['b'] }),
        ]),
      ],
      running: [],
    }
    for (const name of ['naive', 'priority', 'right-size']) {
      expect(liveDecide(policy(name), state).claims.map((c) => c.task)).toEqual(['b'])
    }
  })

  it('moves a node whose memory does not fit the worker the policy chose to a bigger one', () => {
    const state: LiveState = {
      now: 0,
      workers: [
        { id: 'w-a', cpus: 1, memoryMb: 2048 },
        { id: 'w-b', cpus: 1, memoryMb: 16384 },
      ],
      runs: [run('job-1', 'batch', 0, [task('big', 'queued', { memoryMb: 8192 })])],
      running: [],
    }
    // naive hands the first free pool (w-a) its first pipeline; 8GB does not fit there
    expect(liveDecide(policy('naive'), state).claims).toEqual([
      { worker: 'w-b', jobId: 'job-1', task: 'big', queueJob: 'q-big', memoryMb: 8192 },
    ])
    // a node that fits only a busy worker waits for it
    const busy: LiveState = {
      ...state,
      runs: [...state.runs, run('job-0', 'batch', 0, [task('m', 'running')])],
      running: [{ jobId: 'job-0', task: 'm', attempt: 1, worker: 'w-b', priority: 'batch', memoryMb: 1024 }],
    }
    expect(liveDecide(policy('naive'), busy)).toEqual({ claims: [], suspensions: [], unplaceable: [] })
  })

  it('reports a node bigger than every live worker as unplaceable, with its memory and the largest worker', () => {
    const state: LiveState = {
      now: 0,
      workers: [
        { id: 'w-a', cpus: 1, memoryMb: 8192 },
        { id: 'w-b', cpus: 1, memoryMb: 16384 },
      ],
      runs: [
        run('job-1', 'interactive', 0, [task('huge', 'queued', { memoryMb: 32768 }), task('ok', 'queued')]),
      ],
      running: [],
    }
    for (const name of ['priority', 'right-size']) {
      const d = liveDecide(policy(name), state)
      expect(d.unplaceable).toEqual([{ jobId: 'job-1', task: 'huge', memoryMb: 32768, largestMb: 16384 }])
      expect(d.claims.map((c) => c.task)).toEqual(['ok'])
    }
  })

  it('suspends a running batch node when a query node waits and no worker is free (priority policy)', () => {
    const state: LiveState = {
      now: 0,
      workers: [{ id: 'w-a', cpus: 1, memoryMb: 4096 }],
      runs: [
        run('job-batch', 'batch', 0, [task('long', 'running')]),
        run('job-query', 'query', 1, [task('q', 'queued')]),
      ],
      running: [
        { jobId: 'job-batch', task: 'long', attempt: 1, worker: 'w-a', priority: 'batch', memoryMb: 1024 },
      ],
    }
    const d = liveDecide(policy('priority'), state)
    expect(d.claims).toEqual([])
    expect(d.suspensions).toEqual([state.running[0]])
    // the right-size policy never preempts
    expect(liveDecide(policy('right-size'), state).suspensions).toEqual([])
    // a waiting interactive node does not preempt either
    const inter: LiveState = {
      ...state,
      runs: [state.runs[0] as LiveRun, run('job-query', 'interactive', 1, [task('q', 'queued')])],
    }
    expect(liveDecide(policy('priority'), inter).suspensions).toEqual([])
  })

  it('shows a node queued again after running out of memory as a failed operator with its out-of-memory result', () => {
    const state: LiveState = {
      now: 0,
      workers: [{ id: 'w-a', cpus: 8, memoryMb: 8192 }],
      runs: [
        run('job-1', 'batch', 0, [
          task('m', 'queued', { memoryMb: 2048, lastFailure: { outcome: 'oom', memoryMb: 1024 } }),
        ]),
      ],
      running: [],
    }
    const { view } = buildLiveView(state)
    expect(view.operator({ pipelineId: 'job-1', index: 0 }).state).toBe('failed')
    expect(view.results.map((r) => [r.error, r.ramGb])).toEqual([['OOM', 1]])
    expect(liveDecide(policy('priority'), state).claims).toEqual([
      { worker: 'w-a', jobId: 'job-1', task: 'm', queueJob: 'q-m', memoryMb: 2048 },
    ])
  })

  it('sizes an out-of-memory retry with the policy, or gives up as the policy does', () => {
    // a container is one of a worker's slots (its --cpus): priority doubles it, and gives up at half the worker
    const workers = [{ id: 'w-a', cpus: 8, memoryMb: 8192 }]
    const node = { jobId: 'job-1', task: 'm', priority: 'batch' as const, memoryMb: 1024 }
    expect(oomRetryMb(policy('priority'), workers, node, 1024)).toBe(2048)
    expect(oomRetryMb(policy('right-size'), workers, node, 1024)).toBe(2048)
    // priority drops a retry that would take half the worker or more; naive never retries
    expect(oomRetryMb(policy('priority'), workers, node, 2048)).toBeUndefined()
    expect(oomRetryMb(policy('naive'), workers, node, 1024)).toBeUndefined()
    expect(
      oomRetryMb(policy('priority'), [{ id: 'w-a', cpus: 2, memoryMb: 8192 }], node, 1024),
    ).toBeUndefined()
    // right-size retries as long as the doubled size fits a live worker
    expect(oomRetryMb(policy('right-size'), workers, node, 4096)).toBe(8192)
    expect(oomRetryMb(policy('right-size'), workers, node, 8192)).toBeUndefined()
  })
})
