import type { CpuScaling, Priority } from '../runtime/scheduler/policy.js'
import type { Random } from '../util/random.js'
import { seededRandom } from '../util/random.js'
import type { SimParams } from './params.js'
import type { OperatorSpec, PipelineSpec, Workload } from './workload.js'
import { inTopologicalOrder } from './workload.js'

/**
 * A normal-distribution sampler over a seeded uniform source (Box-Muller, one value per draw pair kept).
 */
export function normalSampler(rng: Random): (mean: number, sd: number) => number {
  let spare: number | null = null
  return (mean, sd) => {
    if (spare !== null) {
      const z = spare
      spare = null
      return mean + sd * z
    }
    let u = 0
    while (u === 0) u = rng.next()
    const v = rng.next()
    const r = Math.sqrt(-2 * Math.log(u))
    spare = r * Math.sin(2 * Math.PI * v)
    return mean + sd * r * Math.cos(2 * Math.PI * v)
  }
}

interface Seg {
  baselineCpuSeconds: number
  cpuScaling: CpuScaling
  storageReadGb: number
}

/**
 * Eudoxia's operator categories: below -1 the most IO heavy, rising to the most CPU bound at 1.5 and above.
 */
export function segmentFromValue(val: number): Seg {
  if (val < -1) return { baselineCpuSeconds: 1, cpuScaling: 'const', storageReadGb: 55 }
  if (val < -0.5) return { baselineCpuSeconds: 2, cpuScaling: 'sqrt', storageReadGb: 55 }
  if (val < 0) return { baselineCpuSeconds: 5, cpuScaling: 'linear3', storageReadGb: 45 }
  if (val < 0.5) return { baselineCpuSeconds: 15, cpuScaling: 'linear3', storageReadGb: 37.5 }
  if (val < 1) return { baselineCpuSeconds: 20, cpuScaling: 'linear7', storageReadGb: 30 }
  if (val < 1.5) return { baselineCpuSeconds: 40, cpuScaling: 'linear7', storageReadGb: 20 }
  return { baselineCpuSeconds: 80, cpuScaling: 'squared', storageReadGb: 10 }
}

type Shape = 'linear' | 'branch_in' | 'branch_out' | 'diamond'

function shapeParents(shape: Shape, n: number): number[][] {
  const parents: number[][] = []
  for (let i = 0; i < n; i++) {
    if (shape === 'linear' || n < 2) parents.push(i === 0 ? [] : [i - 1])
    else if (shape === 'branch_out') parents.push(i === 0 ? [] : [0])
    else if (shape === 'branch_in') parents.push(i < n - 1 ? [] : Array.from({ length: n - 1 }, (_, k) => k))
    else if (n < 3) parents.push(i === 0 ? [] : [0])
    else if (i === 0) parents.push([])
    else if (i < n - 1) parents.push([0])
    else parents.push(Array.from({ length: n - 2 }, (_, k) => k + 1))
  }
  return parents
}

/**
 * Generates a workload from Eudoxia's parameters with a seeded PRNG: batches of `num_pipelines` pipelines every
 * ~`waiting_seconds_mean` seconds (normal, sd a quarter of the mean), priorities drawn with the given probabilities,
 * one-operator queries, non-query DAGs of ~`num_operators` operators whose roots are IO heavy and others drawn
 * around `cpu_io_ratio`. tarn adds DAG shapes (`dag_*_prob`, including diamonds) and fixed memory needs
 * (`fixed_memory_prob`). Same parameters, same workload; it is not numpy-identical to Eudoxia's.
 */
export function generateWorkload(params: SimParams): Workload {
  const rng = seededRandom(params.randomSeed)
  const normal = normalSampler(rng)
  const tps = params.ticksPerSecond
  const maxTicks = Math.trunc(params.duration * tps)
  const meanTicks = Math.trunc(params.waitingSecondsMean * tps)
  const priorities: [Priority, number][] = [
    ['interactive', params.interactiveProb],
    ['query', params.queryProb],
    ['batch', params.batchProb],
  ]
  const shapes: [Shape, number][] = [
    ['linear', params.dagLinearProb],
    ['branch_in', params.dagBranchInProb],
    ['branch_out', params.dagBranchOutProb],
    ['diamond', params.dagDiamondProb],
  ]
  const choose = <T>(items: [T, number][]): T => {
    const total = items.reduce((a, [, w]) => a + w, 0)
    let u = rng.next() * total
    for (const [item, w] of items) {
      if (u < w) return item
      u -= w
    }
    return items[items.length - 1]![0]
  }
  const pipelines: PipelineSpec[] = []
  let counter = 0
  let tick = 0
  while (tick < maxTicks) {
    for (let k = 0; k < params.numPipelines; k++) {
      const priority = choose(priorities)
      counter++
      const id = `p${counter}`
      let ops: OperatorSpec[]
      if (priority === 'query') {
        ops = [
          {
            name: 'op1',
            parents: [],
            baselineCpuSeconds: 15,
            cpuScaling: 'linear3',
            memoryGb: null,
            storageReadGb: 35,
          },
        ]
      } else {
        const n = Math.max(1, Math.trunc(normal(params.numOperators, params.numOperators / 4)))
        const shape = choose(shapes)
        const parents = shapeParents(shape, n)
        ops = parents.map((ps, i) => {
          const seg =
            ps.length === 0
              ? segmentFromValue(-2)
              : segmentFromValue(Math.max(-1, normal(params.cpuIoRatio, 1)))
          const fixed = params.fixedMemoryProb > 0 && rng.next() < params.fixedMemoryProb
          const memoryGb = fixed ? Math.round(seg.storageReadGb * (0.25 + rng.next())) : null
          return { name: `op${i + 1}`, parents: ps, ...seg, memoryGb }
        })
        ops = inTopologicalOrder(ops)
      }
      pipelines.push({ id, priority, arrivalSeconds: tick / tps, arrivalTick: tick, operators: ops })
    }
    let wait = Math.trunc(normal(meanTicks, meanTicks / 4))
    if (wait <= 0) wait = meanTicks
    tick += wait + 1
  }
  return { source: 'generated', pipelines }
}
