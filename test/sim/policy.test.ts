import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadPolicyFile } from '../../src/sim/policy-loader.js'
import { runSim } from './helpers.js'

describe('scheduler policies', () => {
  it('right-size beats priority on adjusted latency for the default workload (sim compare)', async () => {
    const { stdout } = await runSim(['compare', '--schedulers', 'priority,right-size', '--json'])
    const [priority, ours] = JSON.parse(stdout) as {
      adjusted_latency: number
      pipelines_all: { completion_count: number }
    }[]
    expect(ours!.adjusted_latency).toBeLessThan(priority!.adjusted_latency)
    expect(ours!.pipelines_all.completion_count).toBeGreaterThanOrEqual(
      priority!.pipelines_all.completion_count,
    )
  })

  it('loads a policy from a TypeScript file and runs it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-sim-policy-'))
    const contract = resolve('src/runtime/scheduler/policy.ts')
    const file = join(dir, 'fifo.ts')
    writeFileSync(
      file,
      `import type { Assignment, Decision, Policy, SchedulerView } from '${contract}'

interface FifoState { readonly queue: readonly string[] }

/** One pipeline at a time per pool, 32 GB and 8 CPUs for its whole remaining DAG. */
const fifo: Policy<FifoState> = {
  name: 'fifo-ts',
  init: (): FifoState => ({ queue: [] }),
  decide(state: FifoState, view: SchedulerView): Decision<FifoState> {
    const queue = [...state.queue, ...view.arrivals.map((p) => p.id)]
    const assignments: Assignment[] = []
    const keep: string[] = []
    const free = view.pools.map((p) => ({ cpu: p.availCpu, ram: p.availRamGb }))
    for (const id of queue) {
      const p = view.pipeline(id)
      if (p.operators.every((o) => o.state === 'completed')) continue
      const ops = p.operators.filter((o) => o.state === 'pending' || o.state === 'failed')
      const ram = Math.ceil(Math.max(...p.operators.map((o) => o.estimate.memoryGb))) + 1
      const pool = free.findIndex((f) => f.cpu >= 8 && f.ram >= ram)
      if (ops.length === 0 || pool === -1 || ops.length !== p.operators.filter((o) => o.state !== 'completed').length) {
        keep.push(id)
        continue
      }
      free[pool]!.cpu -= 8
      free[pool]!.ram -= ram
      assignments.push({ pool, cpu: 8, ramGb: ram, priority: p.priority, pipelineId: id, ops: ops.map((o) => ({ pipelineId: id, index: o.index })) })
      keep.push(id)
    }
    return { state: { queue: keep }, suspensions: [], assignments }
  },
}
export default fifo
`,
    )
    const policy = await loadPolicyFile(file)
    expect(policy.name).toBe('fifo-ts')
    const { stdout } = await runSim(['run', '--scheduler', file, '--duration', '120', '--json'])
    const doc = JSON.parse(stdout) as {
      scheduler: string
      failures: number
      pipelines_all: { completion_count: number }
    }
    expect(doc.scheduler).toBe('fifo-ts')
    expect(doc.failures).toBe(0)
    expect(doc.pipelines_all.completion_count).toBeGreaterThan(0)
  })

  it('rejects a policy file that exports no policy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-sim-policy-'))
    const file = join(dir, 'empty.mjs')
    writeFileSync(file, 'export const x = 1\n')
    await expect(loadPolicyFile(file)).rejects.toThrow(/must export a policy/)
  })
})
