import { TarnError } from '../util/errors.js'
import type { CommitLoader } from './ancestry.js'
import type { CatalogBackend } from './backend.js'
import type { Commit } from './types.js'

/** How many commits the cache holds before it starts over. */
const MAX_CACHED = 100_000

/**
 * Commits by hash, loaded from the backend once and then kept (commits never change).
 */
export class CommitCache {
  readonly #backend: CatalogBackend
  readonly #commits = new Map<string, Commit>()

  constructor(backend: CatalogBackend) {
    this.#backend = backend
  }

  /** Loads commits in the order of `hashes`. Throws `COMMIT_NOT_FOUND` for an unknown hash. */
  async get(hashes: readonly string[]): Promise<Commit[]> {
    const missing = hashes.filter((h) => !this.#commits.has(h))
    if (missing.length > 0) {
      for (const [, c] of await this.#backend.getCommits(missing)) this.remember(c)
    }
    return hashes.map((h) => {
      const c = this.#commits.get(h)
      if (!c) throw new TarnError('COMMIT_NOT_FOUND', `commit ${h} does not exist`, { commit: h })
      return c
    })
  }

  /** One commit by full hash. */
  async getOne(hash: string): Promise<Commit> {
    return (await this.get([hash]))[0] as Commit
  }

  /** Keeps a commit just written, so reading it back costs nothing. */
  remember(commit: Commit): void {
    if (this.#commits.size > MAX_CACHED) this.#commits.clear()
    this.#commits.set(commit.hash, commit)
  }

  /** The cache as the loader the ancestry queries take. */
  readonly load: CommitLoader = (hashes) => this.get(hashes)
}
