import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * A host of its own for one process on this machine: a CPU cgroup with a quota of `cores` CPUs, so that several
 * worker processes on one machine each get the CPU of a small host instead of contending for all cores at once.
 * Processes moved into it (and every process or thread they start later) share the quota.
 */
export interface CpuHost {
  readonly cores: number
  /** Moves a running process (all its threads) into the host. */
  admit(pid: number): void
  /** Removes the cgroup; call once every admitted process has exited. */
  close(): void
}

const PERIOD_US = 100_000

/** cgroup v2 with the cpu controller, or v1's cpu hierarchy: the directory new groups go in, or null. */
function cgroupRoot(): { dir: string; v2: boolean } | null {
  for (const dir of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    const controllers = join(dir, 'cgroup.controllers')
    if (existsSync(controllers) && readFileSync(controllers, 'utf8').split(/\s+/).includes('cpu')) {
      const subtree = join(dir, 'cgroup.subtree_control')
      if (!readFileSync(subtree, 'utf8').split(/\s+/).includes('cpu')) writeFileSync(subtree, '+cpu')
      return { dir, v2: true }
    }
  }
  if (existsSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')) return { dir: '/sys/fs/cgroup/cpu', v2: false }
  return null
}

/**
 * Makes a host of `cores` CPUs named `name`, or returns why it cannot (no writable CPU cgroup: not root, or a
 * container without cgroup delegation).
 */
export function cpuHost(name: string, cores: number): CpuHost | string {
  try {
    const root = cgroupRoot()
    if (root === null) return 'no CPU cgroup controller on this machine'
    const dir = join(root.dir, name)
    mkdirSync(dir, { recursive: true })
    const quota = Math.round(cores * PERIOD_US)
    if (root.v2) writeFileSync(join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`)
    else {
      writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US))
      writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota))
    }
    return {
      cores,
      admit: (pid) => writeFileSync(join(dir, 'cgroup.procs'), String(pid)),
      close: () => rmdirSync(dir),
    }
  } catch (e) {
    return `cannot make a CPU cgroup: ${(e as Error).message}`
  }
}
