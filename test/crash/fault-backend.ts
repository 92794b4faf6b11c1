import type { BranchUpdate, CatalogBackend, UpdateBranchOutcome } from '../../src/catalog/backend.js'
import type { Commit, RefInfo, RefKind, ReflogEntry, StoredObject } from '../../src/catalog/types.js'
import { CrashedError, type FaultInjector, type IoEvent, TransientIoError } from './faults.js'

/**
 * A {@link CatalogBackend} that passes every call through a {@link FaultInjector}. A `crash` (or `torn`) on a write
 * drops the connection inside the transaction before it commits: nothing is stored (SQLite rolls back) and the
 * process dies. `ack-lost` lets the transaction commit and drops the connection before the reply. `transient` fails
 * the one call. `close` always reaches the inner backend, so the database file is released for the reopen.
 *
 * @example
 * ```ts
 * const backend = new FaultBackend(SqliteBackend.open(file), new FaultInjector({ at: 5, kind: 'ack-lost' }))
 * ```
 */
export class FaultBackend implements CatalogBackend {
  readonly kind: 'sqlite' | 'postgres'
  readonly location: string
  readonly #inner: CatalogBackend
  readonly #faults: FaultInjector

  constructor(inner: CatalogBackend, faults: FaultInjector) {
    this.#inner = inner
    this.#faults = faults
    this.kind = inner.kind
    this.location = inner.location
  }

  async #io<T>(op: string, write: boolean, run: () => Promise<T>): Promise<T> {
    const event: IoEvent = { target: 'catalog', op, write }
    const decision = this.#faults.next(event)
    switch (decision.action) {
      case 'proceed':
        return run()
      case 'transient':
        throw new TransientIoError(`simulated transient catalog error on ${op}`)
      case 'crash':
      case 'torn':
        this.#faults.crash()
        throw new CrashedError(`simulated connection drop inside ${op} (rolled back)`)
      case 'ack-lost':
        await run()
        this.#faults.crash()
        throw new CrashedError(`simulated connection drop after ${op} committed`)
    }
  }

  migrate(): Promise<void> {
    return this.#io('migrate', true, () => this.#inner.migrate())
  }
  getMeta(key: string): Promise<string | undefined> {
    return this.#io('getMeta', false, () => this.#inner.getMeta(key))
  }
  initMeta(key: string, value: string): Promise<string> {
    return this.#io('initMeta', true, () => this.#inner.initMeta(key, value))
  }
  getObjects(hashes: readonly string[]): Promise<ReadonlyMap<string, Uint8Array>> {
    return this.#io('getObjects', false, () => this.#inner.getObjects(hashes))
  }
  putObjects(objects: readonly StoredObject[]): Promise<void> {
    return this.#io('putObjects', true, () => this.#inner.putObjects(objects))
  }
  getCommits(hashes: readonly string[]): Promise<ReadonlyMap<string, Commit>> {
    return this.#io('getCommits', false, () => this.#inner.getCommits(hashes))
  }
  putCommit(commit: Commit, objects: readonly StoredObject[]): Promise<void> {
    return this.#io('putCommit', true, () => this.#inner.putCommit(commit, objects))
  }
  putCommits(commits: readonly Commit[], objects: readonly StoredObject[]): Promise<void> {
    return this.#io('putCommits', true, () => this.#inner.putCommits(commits, objects))
  }
  findCommitHashes(prefix: string, limit: number): Promise<string[]> {
    return this.#io('findCommitHashes', false, () => this.#inner.findCommitHashes(prefix, limit))
  }
  getRef(name: string): Promise<RefInfo | undefined> {
    return this.#io('getRef', false, () => this.#inner.getRef(name))
  }
  listRefs(kind?: RefKind): Promise<RefInfo[]> {
    return this.#io('listRefs', false, () => this.#inner.listRefs(kind))
  }
  createRef(ref: RefInfo, operation: string): Promise<boolean> {
    return this.#io('createRef', true, () => this.#inner.createRef(ref, operation))
  }
  updateBranch(update: BranchUpdate): Promise<UpdateBranchOutcome> {
    return this.#io('updateBranch', true, () => this.#inner.updateBranch(update))
  }
  deleteRef(name: string, kind: RefKind, at: number, expectedHead?: string): Promise<boolean> {
    return this.#io('deleteRef', true, () => this.#inner.deleteRef(name, kind, at, expectedHead))
  }
  renameRef(from: string, to: string, at: number): Promise<'ok' | 'missing' | 'exists'> {
    return this.#io('renameRef', true, () => this.#inner.renameRef(from, to, at))
  }
  sealBranch(name: string, at: number): Promise<boolean> {
    return this.#io('sealBranch', true, () => this.#inner.sealBranch(name, at))
  }
  reflog(name: string): Promise<ReflogEntry[]> {
    return this.#io('reflog', false, () => this.#inner.reflog(name))
  }
  close(): Promise<void> {
    return this.#inner.close()
  }
}
