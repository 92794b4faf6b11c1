import { describe, expect, it } from 'vitest'
import { generateWorkload } from '../../src/sim/generator.js'
import { operatorTicks } from '../../src/sim/operator-timing.js'
import { DEFAULT_PARAMS } from '../../src/sim/params.js'
import { cpuSeconds, DISK_SCAN_GB_SEC } from '../../src/sim/scaling.js'
import type { OperatorSpec } from '../../src/sim/workload.js'
import { seededRandom } from '../../src/util/random.js'

/** Eudoxia's per-tick execution of one operator, stepped tick by tick: returns [ticks run, OOM]. */
function stepOperator(o: OperatorSpec, cpu: number, ram: number, tps: number): [number, boolean] {
  const tl = 1.0 / tps
  const io = Math.trunc(o.storageReadGb / DISK_SCAN_GB_SEC / tl)
  const total = Math.max(1, io + Math.trunc(cpuSeconds(o.cpuScaling, cpu, o.baselineCpuSeconds) / tl))
  for (let i = 0; i < total; i++) {
    let mem: number
    if (i < io) mem = o.memoryGb ?? (i + 1) * tl * DISK_SCAN_GB_SEC
    else mem = o.memoryGb ?? o.storageReadGb
    if (mem > ram) return [i + 1, true]
  }
  return [total, false]
}

describe('container model', () => {
  it('matches a tick-by-tick execution of operators for many sizes', () => {
    const rng = seededRandom(99)
    const ops = generateWorkload({
      ...DEFAULT_PARAMS,
      fixedMemoryProb: 0.3,
      duration: 120,
    }).pipelines.flatMap((p) => p.operators)
    let checked = 0
    let ooms = 0
    for (const o of ops) {
      for (const tps of [100, 1000]) {
        const cpu = 1 + Math.floor(rng.next() * 16)
        const ram = [o.storageReadGb, Math.ceil(o.storageReadGb), 1 + Math.floor(rng.next() * 80)][
          checked % 3
        ] as number
        const plan = operatorTicks(o, cpu, ram, tps)
        const [ticks, oom] = stepOperator(o, cpu, ram, tps)
        expect(plan.oomAt >= 0).toBe(oom)
        expect(oom ? plan.oomAt + 1 : plan.total).toBe(ticks)
        checked++
        if (oom) ooms++
      }
    }
    expect(checked).toBeGreaterThan(100)
    expect(ooms).toBeGreaterThan(10)
  })

  it('runs out of memory on the first tick that reading at 20 GB/s exceeds 25 GB (1.26 s)', () => {
    const op: OperatorSpec = {
      name: 'op1',
      parents: [],
      baselineCpuSeconds: 1,
      cpuScaling: 'const',
      memoryGb: null,
      storageReadGb: 55,
    }
    expect(operatorTicks(op, 6, 25, 100)).toEqual({ ioTicks: 275, total: 375, oomAt: 125 })
  })
})
