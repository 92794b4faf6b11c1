import type {
  AdminRecord,
  BranchUpdate,
  CatalogBackend,
  UpdateBranchOutcome,
} from '../../src/catalog/backend.js'
import type { Commit, RefInfo, RefKind, ReflogEntry, StoredObject } from '../../src/catalog/types.js'
import { CrashedError, type FaultInjector, type IoEvent, TransientIoError } from './faults.js'
import type { CutMode } from './pg-cut-proxy.js'

/**
 * Makes the catalog's connection drops real: runs the faulted call while the database connection is cut at the
 * call's commit point (see {@link CutMode}), then drops every connection of the process.
 *
 * @example
 * ```ts
 * const cutter: ConnectionCutter = { async cutAt(mode, run) { proxy.arm(mode); await run().catch(() => undefined); proxy.cut() } }
 * ```
 */
export interface ConnectionCutter {
  /** Runs `run` with the connection cut at its commit point; resolves (never rejects) once every connection dropped. */
  cutAt(mode: CutMode, run: () => Promise<unknown>): Promise<void>
}

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
  readonly #cutter: ConnectionCutter | undefined
  readonly #inFlight = new Set<Promise<unknown>>()

  /**
   * @param cutter when given, `crash` and `ack-lost` on a write really cut the database connection at the call's
   *   commit point (the server rolls back, or commits and the answer is lost) instead of skipping or completing the
   *   call above the backend
   */
  constructor(inner: CatalogBackend, faults: FaultInjector, cutter?: ConnectionCutter) {
    this.#inner = inner
    this.#faults = faults
    this.#cutter = cutter
    this.kind = inner.kind
    this.location = inner.location
  }

  /** Resolves once every call that reached the inner backend has settled. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight])
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#inFlight.add(p)
    const done = (): void => {
      this.#inFlight.delete(p)
    }
    p.then(done, done)
    return p
  }

  async #io<T>(op: string, write: boolean, run: () => Promise<T>): Promise<T> {
    const event: IoEvent = { target: 'catalog', op, write }
    const decision = this.#faults.next(event)
    const tracked = (): Promise<T> => this.#track(run())
    switch (decision.action) {
      case 'proceed':
        return tracked()
      case 'transient':
        throw new TransientIoError(`simulated transient catalog error on ${op}`)
      case 'crash':
      case 'torn':
        if (this.#cutter && write) await this.#cutter.cutAt('before-commit', tracked)
        this.#faults.crash()
        throw new CrashedError(`simulated connection drop inside ${op} (rolled back)`)
      case 'ack-lost':
        if (this.#cutter) await this.#cutter.cutAt('after-commit', tracked)
        else await tracked()
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
  listRecords(kind: string): Promise<AdminRecord[]> {
    return this.#io('listRecords', false, () => this.#inner.listRecords(kind))
  }
  getRecord(kind: string, id: string): Promise<AdminRecord | undefined> {
    return this.#io('getRecord', false, () => this.#inner.getRecord(kind, id))
  }
  insertRecord(record: AdminRecord): Promise<boolean> {
    return this.#io('insertRecord', true, () => this.#inner.insertRecord(record))
  }
  deleteRecord(kind: string, id: string): Promise<boolean> {
    return this.#io('deleteRecord', true, () => this.#inner.deleteRecord(kind, id))
  }
  close(): Promise<void> {
    return this.#inner.close()
  }
}
