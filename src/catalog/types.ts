import type { CanonicalValue } from '../util/canonical.js'

/**
 * Plain data of the versioned catalog: commits, refs, table and namespace states. Values are immutable and carry no
 * behaviour; the code that builds and executes them lives in the other files of this folder.
 */

/**
 * The state of one Iceberg table as a commit records it.
 *
 * @example
 * ```ts
 * const s: TableState = { metadataLocation: 'file:///w/t/metadata/v1.metadata.json', snapshotId: '1', schemaId: 0, tableUuid: 'u' }
 * ```
 */
export interface TableState {
  /** Absolute URI of the table's current metadata JSON. */
  readonly metadataLocation: string
  /** Current snapshot id as a decimal string (64-bit), or null for a table without snapshots. */
  readonly snapshotId: string | null
  /** Current schema id. */
  readonly schemaId: number
  /** The Iceberg table uuid. */
  readonly tableUuid: string
}

/**
 * The state of one namespace.
 *
 * @example
 * ```ts
 * const ns: NamespaceState = { properties: { owner: 'ops' } }
 * ```
 */
export interface NamespaceState {
  readonly properties: Readonly<Record<string, string>>
}

/**
 * An immutable, content-addressed record of the whole lake.
 *
 * @example
 * ```ts
 * const c: Commit = await catalog.getCommit(hash); c.parents.length // 2 for a merge
 * ```
 */
export interface Commit {
  /** SHA-256 (hex) of the canonical encoding of every other field but `generation`. */
  readonly hash: string
  /** 0 parents for the root commit, 1 for an ordinary commit, 2 for a merge (first parent = the target branch). */
  readonly parents: readonly string[]
  /** Hash of the root node of the checkpoint tree of namespaces and tables. */
  readonly tree: string
  /** Entries changed since the checkpoint tree (null = removed); the lake state is the tree with these applied. */
  readonly overlay: Readonly<Record<string, CanonicalValue | null>>
  /** 1 for the root commit, else 1 + the largest generation of the parents. Speeds up ancestry queries. */
  readonly generation: number
  readonly author: string
  readonly message: string
  /** Milliseconds since the epoch. */
  readonly timestamp: number
  /** Free-form string properties, e.g. `tarn.operation`. */
  readonly properties: Readonly<Record<string, string>>
}

/**
 * Kinds of named refs.
 *
 * @example
 * ```ts
 * const kind: RefKind = (await catalog.getRef('v1'))?.kind ?? 'branch'
 * ```
 */
export type RefKind = 'branch' | 'tag'

/**
 * A named pointer to a commit.
 *
 * @example
 * ```ts
 * const b: RefInfo = await catalog.getBranch('main'); b.sealed // false
 * ```
 */
export interface RefInfo {
  readonly name: string
  readonly kind: RefKind
  /** Hash of the commit the ref points to. */
  readonly head: string
  /** A sealed branch is readable but refuses writes and merges (failed run branches). */
  readonly sealed: boolean
  /** Milliseconds since the epoch. */
  readonly createdAt: number
}

/**
 * One recorded movement of a ref.
 *
 * @example
 * ```ts
 * for (const e of await backend.reflog('main')) console.log(e.operation, e.newHead)
 * ```
 */
export interface ReflogEntry {
  readonly name: string
  readonly oldHead: string | null
  readonly newHead: string | null
  readonly at: number
  readonly operation: string
}

/**
 * A content-addressed object (a tree node), as stored by a backend.
 *
 * @example
 * ```ts
 * await backend.putObjects([{ hash: sha256Hex(bytes), data: bytes }])
 * ```
 */
export interface StoredObject {
  readonly hash: string
  readonly data: Uint8Array
}

/**
 * The full lake state a commit determines.
 *
 * @example
 * ```ts
 * const { tables } = await catalog.state('main'); Object.keys(tables) // ['tarn.orders']
 * ```
 */
export interface LakeState {
  readonly commit: Commit
  readonly namespaces: Readonly<Record<string, NamespaceState>>
  readonly tables: Readonly<Record<string, TableState>>
}

/**
 * One change in a commit request. Table keys are `namespace.table`.
 *
 * @example
 * ```ts
 * const c: Change = { type: 'createNamespace', name: 'sales' }
 * ```
 */
export type Change =
  | { readonly type: 'putTable'; readonly key: string; readonly state: TableState }
  | { readonly type: 'dropTable'; readonly key: string }
  | { readonly type: 'createNamespace'; readonly name: string; readonly properties?: Record<string, string> }
  | { readonly type: 'dropNamespace'; readonly name: string }
