import type { Catalog } from '../catalog/catalog.js'
import type { RefInfo } from '../catalog/types.js'

/**
 * What {@link Lake.deleteSealedBranches} did (or, with `dryRun`, would do): the sealed branches deleted, how many
 * sealed branches are kept (younger, or active).
 *
 * @example
 * ```ts
 * const r: SealedBranchCleanup = { dryRun: true, deleted: [], kept: 0 }
 * ```
 */
export interface SealedBranchCleanup {
  readonly dryRun: boolean
  readonly deleted: readonly RefInfo[]
  readonly kept: number
  /** Set when the active branch is sealed and old enough: it is never deleted. */
  readonly keptActive?: string
}

/**
 * Deletes every sealed branch (failed runs' branches and their sealed forks), optionally only those created more
 * than `olderThanMs` before `now`; the `active` branch is kept. With `dryRun`, lists what would go.
 */
export async function deleteSealedBranches(
  catalog: Catalog,
  at: { readonly now: number; readonly active: string },
  options: { olderThanMs?: number; dryRun?: boolean },
): Promise<SealedBranchCleanup> {
  const sealed = (await catalog.listBranches()).filter((b) => b.sealed)
  const old = sealed.filter(
    (b) => options.olderThanMs === undefined || at.now - b.createdAt > options.olderThanMs,
  )
  const chosen = old.filter((b) => b.name !== at.active)
  const deleted: RefInfo[] = []
  for (const b of chosen) deleted.push(options.dryRun ? b : await catalog.deleteBranch(b.name))
  return {
    dryRun: options.dryRun === true,
    deleted,
    kept: sealed.length - deleted.length,
    ...(chosen.length < old.length ? { keptActive: at.active } : {}),
  }
}
