import { cpuSeconds, DISK_SCAN_GB_SEC } from './scaling.js'
import type { OperatorSpec, PipelineSpec } from './workload.js'

/**
 * Eudoxia's arrival tick of each trace pipeline: the first tick at or after `arrival_seconds / tick_length` (computed
 * in floating point exactly as Eudoxia does), never before the previous pipeline of the file.
 */
export function arrivalTicks(pipelines: readonly PipelineSpec[], ticksPerSecond: number): number[] {
  const tickLength = 1.0 / ticksPerSecond
  const out: number[] = []
  let prev = 0
  for (const p of pipelines) {
    const t = p.arrivalTick ?? Math.max(0, Math.ceil(p.arrivalSeconds / tickLength))
    prev = Math.max(prev, t)
    out.push(prev)
  }
  return out
}

/**
 * The memory an operator holds at its peak: its fixed need, or all the data it reads.
 */
export function peakMemory(o: OperatorSpec): number {
  return o.memoryGb ?? o.storageReadGb
}

/**
 * The execution plan of one operator in a container with `cpu` CPUs and `ramGb` RAM at `ticksPerSecond`: ticks of IO,
 * total ticks (at least 1), and the offset of the tick that runs out of memory (-1 if none). Memory grows by
 * 20 GB/s while reading (unless the operator has a fixed need) and sits at the peak during the CPU phase.
 */
export function operatorTicks(
  o: OperatorSpec,
  cpu: number,
  ramGb: number,
  ticksPerSecond: number,
): { ioTicks: number; total: number; oomAt: number } {
  const tl = 1.0 / ticksPerSecond
  const ioTicks = Math.trunc(o.storageReadGb / DISK_SCAN_GB_SEC / tl)
  const cpuTicks = Math.trunc(cpuSeconds(o.cpuScaling, cpu, o.baselineCpuSeconds) / tl)
  const total = Math.max(1, ioTicks + cpuTicks)
  let oomAt = -1
  if (o.memoryGb !== null) {
    if (o.memoryGb > ramGb) oomAt = 0
  } else {
    const mem = (i: number): number => (i + 1) * tl * DISK_SCAN_GB_SEC
    if (ioTicks > 0 && mem(ioTicks - 1) > ramGb) {
      let lo = 0
      let hi = ioTicks - 1
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (mem(mid) > ramGb) hi = mid
        else lo = mid + 1
      }
      oomAt = lo
    } else if (o.storageReadGb > ramGb && ioTicks < total) {
      oomAt = ioTicks
    }
  }
  return { ioTicks, total, oomAt }
}
