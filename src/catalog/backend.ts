import type { Commit, RefInfo, RefKind, ReflogEntry, StoredObject } from './types.js'

/**
 * Why a branch update did not happen.
 *
 * @example
 * ```ts
 * if ((await backend.updateBranch(update)) === 'moved') retry()
 * ```
 */
export type UpdateBranchOutcome = 'ok' | 'missing' | 'not-branch' | 'sealed' | 'moved'

/**
 * What to store atomically together with a branch update.
 *
 * @example
 * ```ts
 * const u: BranchUpdate = { name: 'main', expectedHead: a, newHead: c.hash, commit: c, at: Date.now(), operation: 'commit' }
 * ```
 */
export interface BranchUpdate {
  readonly name: string
  /** The head the caller read; the update happens only if the branch still points there. */
  readonly expectedHead: string
  readonly newHead: string
  /** A commit to store in the same transaction (with the tree nodes it introduced). */
  readonly commit?: Commit
  /**
   * Instead of `commit`: several commits stored in the same transaction, each the first-parent child of the one
   * before (the first of `expectedHead`, the last is `newHead`). The branch moves once; the reflog records one
   * movement per commit, as if each had been committed on its own (a group commit).
   */
  readonly chain?: readonly Commit[]
  readonly objects?: readonly StoredObject[]
  readonly at: number
  readonly operation: string
}

/**
 * The reflog movements of a branch update: one per commit of its `chain`, else one from `expectedHead` to `newHead`.
 */
export function reflogMoves(u: BranchUpdate): { readonly from: string; readonly to: string }[] {
  if (!u.chain || u.chain.length === 0) return [{ from: u.expectedHead, to: u.newHead }]
  let from = u.expectedHead
  return u.chain.map((c) => {
    const move = { from, to: c.hash }
    from = c.hash
    return move
  })
}

/**
 * A small record of lake administration kept next to the refs (an API key's hash and rules, a protected branch).
 * `value` is JSON text the owner of the kind interprets.
 *
 * @example
 * ```ts
 * await backend.insertRecord({ kind: 'protected-branch', id: 'main', value: '{}' })
 * ```
 */
export interface AdminRecord {
  readonly kind: string
  readonly id: string
  readonly value: string
}

/**
 * The storage contract of the versioned catalog. A backend stores immutable objects and commits and mutable refs,
 * and performs every ref update as an atomic compare-and-swap. It holds no Git-for-data logic: that lives in
 * {@link Catalog}, so both backends behave identically and pass one contract suite.
 *
 * @example
 * ```ts
 * const backend = await SqliteBackend.open('/tmp/lake/catalog.db')
 * await backend.migrate()
 * const ok = await backend.updateBranch({ name: 'main', expectedHead: a, newHead: b, at: Date.now(), operation: 'commit' })
 * await backend.close()
 * ```
 */
export interface CatalogBackend {
  /** `sqlite` or `postgres`. */
  readonly kind: 'sqlite' | 'postgres'
  /** Where the catalog lives (a file path or a redacted connection URL). */
  readonly location: string

  /** Creates the catalog schema if missing (idempotent). */
  migrate(): Promise<void>
  /** A lake setting, or undefined. */
  getMeta(key: string): Promise<string | undefined>
  /** Sets a lake setting only when it has no value yet; returns the value now in force. */
  initMeta(key: string, value: string): Promise<string>

  getObjects(hashes: readonly string[]): Promise<ReadonlyMap<string, Uint8Array>>
  putObjects(objects: readonly StoredObject[]): Promise<void>

  getCommits(hashes: readonly string[]): Promise<ReadonlyMap<string, Commit>>
  /** Stores a commit and its new objects (idempotent). */
  putCommit(commit: Commit, objects: readonly StoredObject[]): Promise<void>
  /** Stores many commits and objects in one transaction (bulk import of history; idempotent). */
  putCommits(commits: readonly Commit[], objects: readonly StoredObject[]): Promise<void>
  /** Full hashes that start with `prefix`, at most `limit`. */
  findCommitHashes(prefix: string, limit: number): Promise<string[]>

  getRef(name: string): Promise<RefInfo | undefined>
  listRefs(kind?: RefKind): Promise<RefInfo[]>
  /** Creates a ref; false when a ref of that name (of any kind) exists. */
  createRef(ref: RefInfo, operation: string): Promise<boolean>
  /** Atomically moves a branch from `expectedHead` to `newHead`, storing the commit in the same transaction. */
  updateBranch(update: BranchUpdate): Promise<UpdateBranchOutcome>
  /** Deletes a ref of the given kind; when `expectedHead` is given only if it still points there. */
  deleteRef(name: string, kind: RefKind, at: number, expectedHead?: string): Promise<boolean>
  /** Renames a ref. */
  renameRef(from: string, to: string, at: number): Promise<'ok' | 'missing' | 'exists'>
  /** Seals a branch: it stays readable but refuses writes and merges. */
  sealBranch(name: string, at: number): Promise<boolean>
  /** Movements of a ref, oldest first. */
  reflog(name: string): Promise<ReflogEntry[]>

  /** Lake administration records of a kind (API keys, branch protection), sorted by id. */
  listRecords(kind: string): Promise<AdminRecord[]>
  /** One administration record, or undefined. */
  getRecord(kind: string, id: string): Promise<AdminRecord | undefined>
  /** Creates a record; false when one of that kind and id exists. */
  insertRecord(record: AdminRecord): Promise<boolean>
  /** Deletes a record; false when there was none. */
  deleteRecord(kind: string, id: string): Promise<boolean>

  close(): Promise<void>
}
