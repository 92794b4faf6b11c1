import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { PlanCache } from './execute-task.js'
import type { RunQueue } from './run-queue.js'

/** Where a worker keeps the projects of remote runs, rebuilt from their code snapshots (one folder per code hash). */
export function projectCacheDir(home: string): string {
  return join(home, 'cache', 'remote-projects')
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Removes the project snapshots of a worker's cache that no unfinished run uses any more (the run landed or was
 * sealed), and the half-written ones of processes that are gone; forgets the plans of finished runs. Called when the
 * worker starts (stale ones of earlier processes) and as runs end. Returns the folders removed.
 */
export async function cleanProjectCache(queue: RunQueue, home: string, plans: PlanCache): Promise<string[]> {
  const dir = projectCacheDir(home)
  const entries = await readdir(dir).catch(() => [] as string[])
  const active = (
    await queue.pool.query(
      "SELECT job_id, spec->>'codeHash' AS code FROM tarn_runs WHERE state IN ('running', 'landing', 'failing')",
    )
  ).rows as { job_id: string; code: string }[]
  const activeJobs = new Set(active.map((r) => r.job_id))
  for (const job of [...plans.keys()]) if (!activeJobs.has(job)) plans.delete(job)
  const used = new Set(active.map((r) => r.code))
  const removed: string[] = []
  for (const name of entries) {
    const tmp = /\.tmp-(\d+)-\d+$/.exec(name)
    const stale = tmp ? !alive(Number(tmp[1])) : !used.has(name)
    if (!stale) continue
    await rm(join(dir, name), { recursive: true, force: true })
    removed.push(name)
  }
  return removed
}
