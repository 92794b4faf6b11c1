import { readFileSync } from 'node:fs'

/**
 * The resident memory of a process in bytes, from `/proc/<pid>/statm`; `null` where there is no `/proc` or the
 * process is gone. Function runners watch it, since a heap or address-space limit misses off-heap buffers.
 */
export function residentBytes(pid: number | undefined): number | null {
  if (pid === undefined) return null
  try {
    const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1])
    return Number.isFinite(pages) ? pages * 4096 : null
  } catch {
    return null
  }
}
