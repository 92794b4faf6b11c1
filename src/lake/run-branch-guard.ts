import type { Catalog } from '../catalog/catalog.js'
import type { Commit } from '../catalog/types.js'
import { getJob } from '../pipeline/run/job-store.js'
import { unfinishedRunAt } from '../pipeline/run/unfinished-run.js'
import type { ObjectStore } from '../storage/object-store.js'
import { TarnError } from '../util/errors.js'

/**
 * What the lake protects of runs' branches: the branch of a running or failed run cannot be deleted or renamed
 * (without `force`), and a branch forked at part of a run is a sealed, read-only copy.
 */
export class RunBranchGuard {
  readonly #catalog: Catalog
  readonly #store: ObjectStore

  constructor(catalog: Catalog, store: ObjectStore) {
    this.#catalog = catalog
    this.#store = store
  }

  /** Throws `BRANCH_PROTECTED` when `name` is the branch of a running or failed run; `what` ends the message. */
  async refuse(name: string, what: string): Promise<void> {
    const m = /^run\/(job-[0-9a-f]+)$/.exec(name)
    if (!m) return
    await this.#catalog.getBranch(name)
    const job = await getJob(this.#store, m[1] as string).catch(() => undefined)
    if (job === undefined || job.runBranch !== name || job.status === 'succeeded') return
    const why =
      job.status === 'running'
        ? `run ${job.id} is still running on it`
        : `it is the sealed branch of failed run ${job.id}, kept for debugging`
    throw new TarnError('BRANCH_PROTECTED', `branch ${name} cannot be ${what}: ${why} (--force overrides)`, {
      branch: name,
      job: job.id,
      status: job.status,
    })
  }

  /** True when a branch forked at `commit` must be sealed: the commit shows part of a run that has not landed. */
  readonly sealsFork = async (commit: Commit): Promise<boolean> =>
    (await unfinishedRunAt(this.#catalog, this.#store, commit)) !== undefined
}
