import type { Clock } from '../util/clock.js'
import { TarnError } from '../util/errors.js'
import type { CatalogBackend } from './backend.js'

/** The administration record kind that marks a protected branch. */
const PROTECTED_BRANCH = 'protected-branch'

/**
 * The set of protected branches, kept as administration records in the catalog: a protected branch takes only
 * merges (no direct commit or revert) and cannot be deleted or renamed. It checks no branch exists: callers do.
 */
export class ProtectedBranches {
  readonly #backend: CatalogBackend
  readonly #clock: Clock

  constructor(backend: CatalogBackend, clock: Clock) {
    this.#backend = backend
    this.#clock = clock
  }

  /** Marks `name` protected. Idempotent. */
  async protect(name: string): Promise<void> {
    await this.#backend.insertRecord({
      kind: PROTECTED_BRANCH,
      id: name,
      value: JSON.stringify({ since: this.#clock.now() }),
    })
  }

  /** Lifts the protection of `name`. Idempotent. */
  async unprotect(name: string): Promise<void> {
    await this.#backend.deleteRecord(PROTECTED_BRANCH, name)
  }

  /** Names of the protected branches, sorted. */
  async list(): Promise<string[]> {
    return (await this.#backend.listRecords(PROTECTED_BRANCH)).map((r) => r.id)
  }

  /** Throws `BRANCH_PROTECTED` (context `reason: 'protected'`) when `name` is protected; `what` ends the message. */
  async refuse(name: string, what: string): Promise<void> {
    if ((await this.#backend.getRecord(PROTECTED_BRANCH, name)) === undefined) return
    throw new TarnError(
      'BRANCH_PROTECTED',
      `branch ${JSON.stringify(name)} is protected: it takes only merges, so it cannot be ${what} (\`tarn branch unprotect\` lifts this)`,
      { branch: name, reason: 'protected' },
    )
  }
}
