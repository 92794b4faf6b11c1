import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'

/**
 * Which operating-system process does a piece of work: its host, its pid and, on Linux, the kernel's boot id and
 * the process's start time (clock ticks after boot), so that a pid reused by a later process (a restarted server in
 * a container is pid 1 again) is not taken for the one that started the work. Plain data, stored in job records.
 */
export interface ProcessIdentity {
  readonly host: string
  readonly pid: number
  /** `/proc/sys/kernel/random/boot_id` (Linux). */
  readonly boot?: string
  /** Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks after boot (Linux). */
  readonly startTicks?: number
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  } catch {
    return undefined
  }
}

/** The start time of `pid` in clock ticks after boot, or undefined when /proc has no such process (or no /proc). */
function startTicksOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the fields after the command name (which may hold spaces and parentheses) start at the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[19])
    return Number.isFinite(ticks) ? ticks : undefined
  } catch {
    return undefined
  }
}

/** The identity of the running process. */
export function currentProcess(): ProcessIdentity {
  const boot = bootId()
  const startTicks = startTicksOf(process.pid)
  return {
    host: hostname(),
    pid: process.pid,
    ...(boot !== undefined ? { boot } : {}),
    ...(startTicks !== undefined ? { startTicks } : {}),
  }
}

/**
 * True when the process `p` names has certainly ended: it ran on this host and the host rebooted since, or no process
 * has its pid any more, or the process with its pid started at another time. False when it may still run, and for a
 * process of another host (this host cannot tell).
 */
export function processEnded(p: ProcessIdentity): boolean {
  if (p.host !== hostname()) return false
  const boot = bootId()
  if (p.boot !== undefined && boot !== undefined) {
    if (p.boot !== boot) return true
    const ticks = startTicksOf(p.pid)
    if (ticks === undefined) return true
    return p.startTicks !== undefined && ticks !== p.startTicks
  }
  if (p.pid === process.pid) return false
  try {
    process.kill(p.pid, 0)
    return false
  } catch (e) {
    const errno = (e as { code?: string }).code
    return errno === 'ESRCH'
  }
}
