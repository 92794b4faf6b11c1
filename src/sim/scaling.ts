import type { CpuScaling } from '../runtime/scheduler/policy.js'

/**
 * Every CPU scaling function name Eudoxia knows.
 */
export const CPU_SCALINGS: readonly CpuScaling[] = [
  'const',
  'log',
  'sqrt',
  'linear3',
  'linear7',
  'squared',
  'exp',
]

/**
 * True when `s` names a CPU scaling function.
 */
export function isCpuScaling(s: string): s is CpuScaling {
  return (CPU_SCALINGS as readonly string[]).includes(s)
}

/**
 * CPU seconds an operator needs on `cpus` CPUs given its single-CPU time, with Eudoxia's scaling functions.
 */
export function cpuSeconds(scaling: CpuScaling, cpus: number, baseline: number): number {
  switch (scaling) {
    case 'const':
      return baseline
    case 'linear3':
      return cpus < 3 ? baseline / cpus : baseline / 3
    case 'linear7':
      return cpus < 7 ? baseline / cpus : baseline / 7
    case 'log':
      return baseline / (Math.log(cpus) + 1)
    case 'sqrt':
      return baseline / Math.sqrt(cpus)
    case 'squared':
      return baseline / cpus ** 2
    case 'exp':
      return baseline / (cpus < 4 ? 2 ** cpus : 16)
  }
}

/**
 * Storage scan speed in GB per second (NVMe), Eudoxia's `DISK_SCAN_GB_SEC`: memory grows at this rate while an
 * operator reads, and a suspended container writes its memory to disk at it.
 */
export const DISK_SCAN_GB_SEC = 20
