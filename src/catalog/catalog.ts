import type { CanonicalValue } from '../util/canonical.js'
import { canonicalJson } from '../util/canonical.js'
import { type Clock, systemClock } from '../util/clock.js'
import { TarnError } from '../util/errors.js'
import { firstParentHistory, isAncestor, mergeBase, walkHistory } from './ancestry.js'
import type { CatalogBackend } from './backend.js'
import { makeCommit, shortHash } from './commit.js'
import {
  asNamespaceState,
  asTableState,
  entryKey,
  namespaceValue,
  parseEntryKey,
  tableValue,
} from './entries.js'
import { EMPTY_STATE, LakeStates } from './lake-state.js'
import { assertIdentifier, assertRefName, parseTableKey } from './names.js'
import { parseRefSpec } from './ref-spec.js'
import type {
  DiffMode,
  LakeDiff,
  MergeConflict,
  MergeResult,
  ResolvedRef,
  RevertPlan,
  RevertResult,
  RevertStep,
} from './results.js'
import type { TableMerger, TableReverter } from './table-merger.js'
import { Tree, type TreeDiffEntry } from './tree.js'
import type { Change, Commit, LakeState, NamespaceState, RefInfo, RefKind, TableState } from './types.js'

/**
 * The namespace every new lake starts with.
 *
 * @example
 * ```ts
 * parseTableKey('orders', DEFAULT_NAMESPACE).key // 'tarn.orders'
 * ```
 */
export const DEFAULT_NAMESPACE = 'tarn'
/**
 * The branch every new lake starts with.
 *
 * @example
 * ```ts
 * await catalog.getBranch(DEFAULT_BRANCH)
 * ```
 */
export const DEFAULT_BRANCH = 'main'

/** The administration record kind that marks a protected branch. */
const PROTECTED_BRANCH = 'protected-branch'

/**
 * Options of {@link Catalog}.
 *
 * @example
 * ```ts
 * new Catalog(backend, { clock: fixedClock(0), author: 'alice', tableMerger })
 * ```
 */
export interface CatalogOptions {
  readonly clock?: Clock
  /** Default author of commits. */
  readonly author?: string
  /** Asked when both sides of a merge changed one table. */
  readonly tableMerger?: TableMerger
  /** Asked when a table the reverted commit changed has changed again since. */
  readonly tableReverter?: TableReverter
  /** How many times a commit or merge that lost a race is retried. */
  readonly maxAttempts?: number
}

/**
 * A request to commit changes to a branch.
 *
 * @example
 * ```ts
 * await catalog.commit({ branch: 'main', changes: [{ type: 'dropTable', key: 'orders' }], message: 'drop orders' })
 * ```
 */
export interface CommitRequest {
  readonly branch: string
  readonly changes: readonly Change[]
  readonly message: string
  readonly author?: string
  readonly properties?: Readonly<Record<string, string>>
  /**
   * The head the changes were based on. When the branch has moved since, the commit is retried on the new head only
   * if the commits in between touched none of the same tables or namespaces; otherwise `BRANCH_HEAD_CHANGED`.
   */
  readonly expectedHead?: string
  /** With `expectedHead`: fail with `BRANCH_HEAD_CHANGED` as soon as the head moved, never rebase. */
  readonly strict?: boolean
}

/**
 * Filters of {@link Catalog.log}.
 *
 * @example
 * ```ts
 * await catalog.log('main', { limit: 10, property: { key: 'tarn.job_id' } })
 * ```
 */
export interface LogOptions {
  readonly limit?: number
  /** Case-insensitive substring of the message. */
  readonly message?: string
  /** Case-insensitive substring of the author. */
  readonly author?: string
  /** A property that must be present, optionally with this value. */
  readonly property?: { readonly key: string; readonly value?: string }
  /** Follow only first parents (the branch's own line of commits and its merge commits). */
  readonly firstParent?: boolean
}

type ChangeMap = Map<string, CanonicalValue | null>

/**
 * The Git-for-data core: content-addressed commits of the whole lake, branches and tags, ref resolution, diff,
 * three-way merge with a table-merge hook, and revert — over any {@link CatalogBackend}. Commit cost depends only on
 * the number of changed tables (the lake state is a persistent hash trie), and ancestry queries use generation
 * numbers so they do not walk whole histories.
 *
 * @example
 * ```ts
 * const catalog = new Catalog(SqliteBackend.open(':memory:'))
 * await catalog.init()
 * await catalog.createBranch('alice.dev', { from: 'main' })
 * await catalog.commit({ branch: 'alice.dev', changes: [{ type: 'createNamespace', name: 'sales' }], message: 'add sales' })
 * const result = await catalog.merge('alice.dev', { into: 'main' })
 * ```
 */
export class Catalog {
  readonly backend: CatalogBackend
  readonly #states: LakeStates
  readonly #clock: Clock
  readonly #author: string
  readonly #merger: TableMerger | undefined
  readonly #reverter: TableReverter | undefined
  readonly #maxAttempts: number
  readonly #commits = new Map<string, Commit>()

  constructor(backend: CatalogBackend, options: CatalogOptions = {}) {
    this.backend = backend
    this.#states = new LakeStates(new Tree(backend))
    this.#clock = options.clock ?? systemClock
    this.#author = options.author ?? 'tarn'
    this.#merger = options.tableMerger
    this.#reverter = options.tableReverter
    this.#maxAttempts = options.maxAttempts ?? 100
  }

  /** Creates the schema, the root commit (with namespace `tarn`) and branch `main` when missing. Idempotent. */
  async init(): Promise<RefInfo> {
    await this.backend.migrate()
    const existing = await this.backend.getRef(DEFAULT_BRANCH)
    if (existing) return existing
    const { state, created } = await this.#states.apply(
      EMPTY_STATE,
      new Map([[entryKey.namespace(DEFAULT_NAMESPACE), namespaceValue({ properties: {} })]]),
    )
    const now = this.#clock.now()
    const commit = makeCommit(
      {
        parents: [],
        ...state,
        author: this.#author,
        message: 'Initialize lake',
        timestamp: now,
        properties: {},
      },
      1,
    )
    await this.backend.putCommit(commit, [Tree.emptyNode, ...created])
    await this.backend.createRef(
      { name: DEFAULT_BRANCH, kind: 'branch', head: commit.hash, sealed: false, createdAt: now },
      'init',
    )
    return (await this.backend.getRef(DEFAULT_BRANCH)) as RefInfo
  }

  /** True when {@link init} has run on this catalog. */
  async isInitialized(): Promise<boolean> {
    try {
      return (
        (await this.backend.getRef(DEFAULT_BRANCH)) !== undefined ||
        (await this.backend.listRefs()).length > 0
      )
    } catch {
      return false
    }
  }

  // ---------------------------------------------------------------- commits and refs

  /** Loads commits (cached: commits never change). Throws `COMMIT_NOT_FOUND` for an unknown hash. */
  async getCommits(hashes: readonly string[]): Promise<Commit[]> {
    const missing = hashes.filter((h) => !this.#commits.has(h))
    if (missing.length > 0) {
      const found = await this.backend.getCommits(missing)
      for (const [h, c] of found) {
        if (this.#commits.size > 100_000) this.#commits.clear()
        this.#commits.set(h, c)
      }
    }
    return hashes.map((h) => {
      const c = this.#commits.get(h)
      if (!c) throw new TarnError('COMMIT_NOT_FOUND', `commit ${h} does not exist`, { commit: h })
      return c
    })
  }

  /** One commit by full hash. */
  async getCommit(hash: string): Promise<Commit> {
    return (await this.getCommits([hash]))[0] as Commit
  }

  readonly #load = (hashes: readonly string[]): Promise<Commit[]> => this.getCommits(hashes)

  /** The ref named `name` (branch or tag), or undefined. */
  async getRef(name: string): Promise<RefInfo | undefined> {
    return this.backend.getRef(name)
  }

  /** The branch named `name`; `BRANCH_NOT_FOUND` or `NOT_A_BRANCH` otherwise. */
  async getBranch(name: string): Promise<RefInfo> {
    const ref = await this.backend.getRef(name)
    if (!ref)
      throw new TarnError('BRANCH_NOT_FOUND', `branch ${JSON.stringify(name)} does not exist`, {
        branch: name,
      })
    if (ref.kind !== 'branch') {
      throw new TarnError(
        'NOT_A_BRANCH',
        `${JSON.stringify(name)} is a tag, not a branch; only branches accept writes`,
        {
          ref: name,
        },
      )
    }
    return ref
  }

  /** Every branch, sorted by name. */
  async listBranches(): Promise<RefInfo[]> {
    return this.backend.listRefs('branch')
  }

  /** Every tag, sorted by name. */
  async listTags(): Promise<RefInfo[]> {
    return this.backend.listRefs('tag')
  }

  async #createRef(
    kind: RefKind,
    name: string,
    from: string,
    operation: string,
    seal: (commit: Commit) => Promise<boolean> = async () => false,
  ): Promise<RefInfo> {
    assertRefName(name, kind)
    const { commit, named } = await this.resolve(from)
    // A branch forked from a sealed (failed run) branch is a sealed, read-only copy for debugging.
    const sealed = kind === 'branch' && ((named?.kind === 'branch' && named.sealed) || (await seal(commit)))
    const ref: RefInfo = { name, kind, head: commit.hash, sealed, createdAt: this.#clock.now() }
    if (!(await this.backend.createRef(ref, operation))) {
      const existing = await this.backend.getRef(name)
      const code = existing?.kind === 'tag' ? 'TAG_EXISTS' : 'BRANCH_EXISTS'
      throw new TarnError(code, `${existing?.kind ?? kind} ${JSON.stringify(name)} already exists`, {
        [kind]: name,
      })
    }
    return ref
  }

  /**
   * Creates a branch at the commit `from` resolves to (O(1), copies nothing). The branch is sealed when `from` is a
   * sealed branch, or when `seal` says so of the commit (the lake seals forks of part of a run).
   */
  async createBranch(
    name: string,
    options: { from: string; seal?: (commit: Commit) => Promise<boolean> },
  ): Promise<RefInfo> {
    return this.#createRef('branch', name, options.from, `create from ${options.from}`, options.seal)
  }

  /** Creates a tag at the commit `from` resolves to. */
  async createTag(name: string, options: { from: string }): Promise<RefInfo> {
    return this.#createRef('tag', name, options.from, `create from ${options.from}`)
  }

  /** Deletes a branch. `main` cannot be deleted. */
  async deleteBranch(name: string): Promise<RefInfo> {
    const ref = await this.getBranch(name)
    if (name === DEFAULT_BRANCH) {
      throw new TarnError('BRANCH_PROTECTED', `branch ${DEFAULT_BRANCH} cannot be deleted`, { branch: name })
    }
    await this.#refuseProtected(name, 'deleted')
    if (!(await this.backend.deleteRef(name, 'branch', this.#clock.now()))) {
      throw new TarnError('BRANCH_NOT_FOUND', `branch ${JSON.stringify(name)} does not exist`, {
        branch: name,
      })
    }
    return ref
  }

  /** Deletes a tag. */
  async deleteTag(name: string): Promise<RefInfo> {
    const ref = await this.backend.getRef(name)
    if (ref?.kind !== 'tag' || !(await this.backend.deleteRef(name, 'tag', this.#clock.now()))) {
      throw new TarnError('TAG_NOT_FOUND', `tag ${JSON.stringify(name)} does not exist`, { tag: name })
    }
    return ref
  }

  /** Renames a branch. `main` cannot be renamed. */
  async renameBranch(from: string, to: string): Promise<RefInfo> {
    await this.getBranch(from)
    assertRefName(to, 'branch')
    if (from === DEFAULT_BRANCH) {
      throw new TarnError('BRANCH_PROTECTED', `branch ${DEFAULT_BRANCH} cannot be renamed`, { branch: from })
    }
    await this.#refuseProtected(from, 'renamed')
    const outcome = await this.backend.renameRef(from, to, this.#clock.now())
    if (outcome === 'missing') {
      throw new TarnError('BRANCH_NOT_FOUND', `branch ${JSON.stringify(from)} does not exist`, {
        branch: from,
      })
    }
    if (outcome === 'exists') {
      throw new TarnError('BRANCH_EXISTS', `a branch or tag named ${JSON.stringify(to)} already exists`, {
        branch: to,
      })
    }
    return this.getBranch(to)
  }

  /** Seals a branch: it stays readable, but commits and merges from or into it are refused (`BRANCH_SEALED`). */
  async sealBranch(name: string): Promise<RefInfo> {
    await this.getBranch(name)
    await this.backend.sealBranch(name, this.#clock.now())
    return this.getBranch(name)
  }

  /**
   * Resolves a ref expression (`main`, `v1`, `main@3fa1c2`, `@3fa1c2`, `main~2`, `main*2026-01-31T10:00:00Z`) to a
   * commit. A bare hex string that names no branch or tag is read as a commit hash prefix. Throws `INVALID_REF` for malformed text, `REF_NOT_FOUND`/`COMMIT_NOT_FOUND` for unknown names and hashes,
   * `AMBIGUOUS_REF` for a hash prefix that matches several commits.
   */
  async resolve(text: string): Promise<ResolvedRef> {
    const spec = parseRefSpec(text)
    let named: RefInfo | undefined
    let commit: Commit | undefined
    if (spec.name !== undefined) {
      named = await this.backend.getRef(spec.name)
      if (!named && /^[0-9a-fA-F]{4,64}$/.test(text)) return this.resolve(`@${text}`)
      if (!named) {
        throw new TarnError('REF_NOT_FOUND', `no branch or tag named ${JSON.stringify(spec.name)}`, {
          ref: text,
        })
      }
      commit = await this.getCommit(named.head)
    }
    if (spec.hash !== undefined) {
      const hashes = await this.backend.findCommitHashes(spec.hash, 2)
      if (hashes.length === 0) {
        throw new TarnError('COMMIT_NOT_FOUND', `no commit hash starts with ${spec.hash}`, {
          ref: text,
          commit: spec.hash,
        })
      }
      if (hashes.length > 1) {
        throw new TarnError(
          'AMBIGUOUS_REF',
          `commit prefix ${spec.hash} matches several commits; give more digits`,
          {
            ref: text,
            matches: hashes,
          },
        )
      }
      const target = await this.getCommit(hashes[0] as string)
      if (commit && !(await isAncestor(this.#load, target, commit))) {
        throw new TarnError(
          'REF_NOT_FOUND',
          `commit ${shortHash(target.hash)} is not in the history of ${spec.name}`,
          {
            ref: text,
            commit: target.hash,
          },
        )
      }
      commit = target
    }
    if (!commit) throw new TarnError('INVALID_REF', `invalid ref ${JSON.stringify(text)}`, { ref: text })
    if (spec.back !== undefined) {
      for (let i = 0; i < spec.back; i++) {
        const parent = commit.parents[0]
        if (parent === undefined) {
          throw new TarnError('REF_NOT_FOUND', `${text} goes back past the first commit`, { ref: text })
        }
        commit = await this.getCommit(parent)
      }
    }
    if (spec.at !== undefined) {
      while (commit.timestamp > spec.at) {
        const parent = commit.parents[0]
        if (parent === undefined) {
          throw new TarnError(
            'REF_NOT_FOUND',
            `no commit of ${spec.name ?? text} is at or before that time`,
            { ref: text },
          )
        }
        commit = await this.getCommit(parent)
      }
    }
    const exact = spec.hash === undefined && spec.back === undefined && spec.at === undefined
    return {
      ref: text,
      commit,
      ...(named ? { named } : {}),
      ...(exact && named?.kind === 'branch' ? { branch: named.name } : {}),
    }
  }

  // ---------------------------------------------------------------- reading state

  /** The whole lake state at a ref: its namespaces and tables. Costs O(tables). */
  async state(ref: string): Promise<LakeState> {
    const { commit } = await this.resolve(ref)
    return this.stateOf(commit)
  }

  /** The whole lake state of a commit. */
  async stateOf(commit: Commit): Promise<LakeState> {
    const namespaces: Record<string, NamespaceState> = {}
    const tables: Record<string, TableState> = {}
    for (const [k, v] of await this.#states.entries(commit)) {
      const e = parseEntryKey(k)
      if (e.kind === 'namespace') namespaces[e.name] = asNamespaceState(v)
      else tables[e.key] = asTableState(v)
    }
    return { commit, namespaces, tables }
  }

  /** One table at a ref, or undefined. Costs O(log tables). */
  async getTable(ref: string | Commit, table: string): Promise<TableState | undefined> {
    const commit = typeof ref === 'string' ? (await this.resolve(ref)).commit : ref
    const v = await this.#states.get(commit, entryKey.table(parseTableKey(table, DEFAULT_NAMESPACE).key))
    return v === undefined ? undefined : asTableState(v)
  }

  /** One namespace at a ref, or undefined. */
  async getNamespace(ref: string | Commit, name: string): Promise<NamespaceState | undefined> {
    const commit = typeof ref === 'string' ? (await this.resolve(ref)).commit : ref
    const v = await this.#states.get(commit, entryKey.namespace(name))
    return v === undefined ? undefined : asNamespaceState(v)
  }

  // ---------------------------------------------------------------- writing

  async #writableBranch(name: string): Promise<RefInfo> {
    const ref = await this.getBranch(name)
    if (ref.sealed) {
      throw new TarnError(
        'BRANCH_SEALED',
        `branch ${JSON.stringify(name)} is sealed: it can be read but not written or merged`,
        {
          branch: name,
        },
      )
    }
    return ref
  }

  /** Turns a commit request into tree changes, validating it against the state at `commit`. */
  async #toTreeChanges(commit: Commit, changes: readonly Change[]): Promise<ChangeMap> {
    const out: ChangeMap = new Map()
    const has = async (k: string): Promise<boolean> =>
      out.has(k) ? out.get(k) !== null : (await this.#states.get(commit, k)) !== undefined
    for (const c of changes) {
      switch (c.type) {
        case 'createNamespace': {
          assertIdentifier(c.name, 'namespace')
          const k = entryKey.namespace(c.name)
          if (await has(k)) {
            throw new TarnError('NAMESPACE_EXISTS', `namespace ${JSON.stringify(c.name)} already exists`, {
              namespace: c.name,
            })
          }
          out.set(k, namespaceValue({ properties: c.properties ?? {} }))
          break
        }
        case 'dropNamespace': {
          const k = entryKey.namespace(c.name)
          if (!(await has(k))) {
            throw new TarnError('NAMESPACE_NOT_FOUND', `namespace ${JSON.stringify(c.name)} does not exist`, {
              namespace: c.name,
            })
          }
          out.set(k, null)
          break
        }
        case 'putTable': {
          const key = parseTableKey(c.key, DEFAULT_NAMESPACE)
          out.set(entryKey.table(key.key), tableValue(c.state))
          break
        }
        case 'dropTable': {
          const key = parseTableKey(c.key, DEFAULT_NAMESPACE)
          const k = entryKey.table(key.key)
          if (!(await has(k)))
            throw new TarnError('TABLE_NOT_FOUND', `table ${key.key} does not exist`, { table: key.key })
          out.set(k, null)
          break
        }
      }
    }
    return out
  }

  /** Checks that every table lives in an existing namespace and no namespace is dropped while it holds tables. */
  /**
   * Throws `TABLE_EXISTS` / `NAMESPACE_EXISTS` when creating these tables or namespaces at `commit` would put them
   * next to one whose name differs only in letter case (checked before writing any data; commits check it too).
   *
   * @example
   * ```ts
   * await catalog.checkNewNames(head, { tables: ['tarn.ZONES2'] }) // TABLE_EXISTS when tarn.zones2 exists
   * ```
   */
  async checkNewNames(
    commit: Commit,
    names: { readonly tables?: readonly string[]; readonly namespaces?: readonly string[] },
  ): Promise<void> {
    const changes: ChangeMap = new Map()
    for (const t of names.tables ?? []) changes.set(entryKey.table(t), {})
    for (const n of names.namespaces ?? []) changes.set(entryKey.namespace(n), {})
    await this.#checkCaseClashes(commit, changes)
  }

  /**
   * Refuses a namespace or table that would exist next to another whose name differs only in letter case: DuckDB
   * resolves identifiers case-insensitively, so one query could not tell them apart. Reads the whole lake state, but
   * only when the changes create a name.
   */
  async #checkCaseClashes(commit: Commit, changes: ChangeMap): Promise<void> {
    const created: string[] = []
    for (const [k, v] of changes) {
      if (v !== null && (await this.#states.get(commit, k)) === undefined) created.push(k)
    }
    if (created.length === 0) return
    const byFolded = new Map<string, string>()
    for (const [k] of await this.#states.entries(commit)) {
      if (changes.get(k) !== null) byFolded.set(k.toLowerCase(), k)
    }
    for (const [k, v] of changes) {
      if (v !== null && !created.includes(k)) byFolded.set(k.toLowerCase(), k)
    }
    for (const k of created) {
      const other = byFolded.get(k.toLowerCase())
      if (other !== undefined && other !== k) {
        const e = parseEntryKey(k)
        const o = parseEntryKey(other)
        const name = e.kind === 'table' ? e.key : e.name
        const otherName = o.kind === 'table' ? o.key : o.name
        const what = e.kind === 'table' ? 'table' : 'namespace'
        throw new TarnError(
          e.kind === 'table' ? 'TABLE_EXISTS' : 'NAMESPACE_EXISTS',
          `${what} ${name} clashes with the existing ${what} ${otherName}: names that differ only in case are not allowed`,
          { [what]: name, existing: otherName },
        )
      }
      byFolded.set(k.toLowerCase(), k)
    }
  }

  async #checkIntegrity(commit: Commit, changes: ChangeMap): Promise<void> {
    await this.#checkCaseClashes(commit, changes)
    for (const [k, v] of changes) {
      const e = parseEntryKey(k)
      if (e.kind === 'table' && v !== null) {
        const ns = e.key.slice(0, e.key.indexOf('.'))
        const nk = entryKey.namespace(ns)
        const present = changes.has(nk)
          ? changes.get(nk) !== null
          : (await this.#states.get(commit, nk)) !== undefined
        if (!present) {
          throw new TarnError('NAMESPACE_NOT_FOUND', `namespace ${JSON.stringify(ns)} does not exist`, {
            namespace: ns,
            table: e.key,
          })
        }
      }
      if (e.kind === 'namespace' && v === null) {
        const prefix = entryKey.table(`${e.name}.`)
        const remaining = (await this.#states.entries(commit, prefix)).filter(
          ([tk]) => changes.get(tk) !== null,
        )
        const added = [...changes].filter(([tk, tv]) => tk.startsWith(prefix) && tv !== null)
        if (remaining.length + added.length > 0) {
          throw new TarnError(
            'NAMESPACE_NOT_EMPTY',
            `namespace ${JSON.stringify(e.name)} still holds tables`,
            {
              namespace: e.name,
              tables: [...remaining, ...added].map(([tk]) => tk.slice(2)),
            },
          )
        }
      }
    }
  }

  async #advance(
    branch: string,
    head: Commit,
    changes: ChangeMap,
    meta: {
      message: string
      author?: string
      properties?: Readonly<Record<string, string>>
      parents?: string[]
    },
    operation: string,
  ): Promise<Commit | 'moved'> {
    await this.#checkIntegrity(head, changes)
    const { state, created } = await this.#states.apply(head, changes)
    const parents = meta.parents ?? [head.hash]
    const parentCommits = await this.getCommits(parents)
    const commit = makeCommit(
      {
        parents,
        ...state,
        author: meta.author ?? this.#author,
        message: meta.message,
        timestamp: Math.max(this.#clock.now(), head.timestamp),
        properties: meta.properties ?? {},
      },
      1 + Math.max(...parentCommits.map((p) => p.generation)),
    )
    const outcome = await this.backend.updateBranch({
      name: branch,
      expectedHead: head.hash,
      newHead: commit.hash,
      commit,
      objects: created,
      at: this.#clock.now(),
      operation,
    })
    if (outcome === 'ok') {
      this.#commits.set(commit.hash, commit)
      return commit
    }
    if (outcome === 'moved') return 'moved'
    if (outcome === 'sealed') {
      throw new TarnError('BRANCH_SEALED', `branch ${JSON.stringify(branch)} is sealed`, { branch })
    }
    if (outcome === 'not-branch')
      throw new TarnError('NOT_A_BRANCH', `${JSON.stringify(branch)} is not a branch`, { ref: branch })
    throw new TarnError('BRANCH_NOT_FOUND', `branch ${JSON.stringify(branch)} does not exist`, { branch })
  }

  async #backoff(attempt: number): Promise<void> {
    await new Promise((r) => setTimeout(r, Math.min(50, attempt * 2)))
  }

  /**
   * Commits changes to a branch with compare-and-swap on its head. A commit that loses a race is retried on the new
   * head when the commits it raced with touched none of the same keys; otherwise `BRANCH_HEAD_CHANGED`.
   */
  async commit(request: CommitRequest): Promise<Commit> {
    if (request.changes.length === 0) {
      throw new TarnError('NOTHING_TO_COMMIT', 'a commit needs at least one change', {
        branch: request.branch,
      })
    }
    await this.#refuseProtected(request.branch, 'committed to directly')
    let baseHash = request.expectedHead
    for (let attempt = 1; ; attempt++) {
      const ref = await this.#writableBranch(request.branch)
      const head = await this.getCommit(ref.head)
      baseHash ??= head.hash
      if (baseHash !== head.hash) {
        const base = await this.#commitForHash(baseHash)
        const ours = await this.#toTreeChanges(head, request.changes)
        const moved = (await this.#states.diff(base, head)).map((d) => d.key).filter((k) => ours.has(k))
        if (request.strict || moved.length > 0 || !(await isAncestor(this.#load, base, head))) {
          throw new TarnError(
            'BRANCH_HEAD_CHANGED',
            `branch ${request.branch} moved from ${shortHash(baseHash)} to ${shortHash(head.hash)}` +
              (moved.length > 0 ? ` and changed ${moved.map((k) => k.slice(2)).join(', ')} meanwhile` : ''),
            {
              branch: request.branch,
              expectedHead: baseHash,
              actualHead: head.hash,
              keys: moved.map((k) => k.slice(2)),
            },
          )
        }
      }
      const changes = await this.#toTreeChanges(head, request.changes)
      const result = await this.#advance(
        request.branch,
        head,
        changes,
        {
          message: request.message,
          ...(request.author !== undefined ? { author: request.author } : {}),
          ...(request.properties !== undefined ? { properties: request.properties } : {}),
        },
        'commit',
      )
      if (result !== 'moved') return result
      if (attempt >= this.#maxAttempts) {
        throw new TarnError(
          'BRANCH_HEAD_CHANGED',
          `gave up committing to ${request.branch} after ${attempt} races`,
          {
            branch: request.branch,
          },
        )
      }
      await this.#backoff(attempt)
    }
  }

  async #commitForHash(hash: string): Promise<Commit> {
    return hash.length === 64 ? this.getCommit(hash) : (await this.resolve(`@${hash}`)).commit
  }

  // ---------------------------------------------------------------- history and comparison

  /**
   * Commit history reachable from `ref`, newest first (children before parents; commits of parallel lines of the same
   * depth by time), filtered. With `firstParent`, only the first-parent chain: the branch's own commits and the
   * merge commits that landed other work on it, as `git log --first-parent` shows.
   */
  async log(ref: string, options: LogOptions = {}): Promise<Commit[]> {
    const { commit } = await this.resolve(ref)
    const msg = options.message?.toLowerCase()
    const author = options.author?.toLowerCase()
    const prop = options.property
    const accept = (c: Commit): boolean => {
      if (msg !== undefined && !c.message.toLowerCase().includes(msg)) return false
      if (author !== undefined && !c.author.toLowerCase().includes(author)) return false
      if (prop !== undefined) {
        const v = c.properties[prop.key]
        if (v === undefined || (prop.value !== undefined && v !== prop.value)) return false
      }
      return true
    }
    const limit = options.limit ?? Number.POSITIVE_INFINITY
    if (options.firstParent) return firstParentHistory(this.#load, commit, limit, accept)
    return walkHistory(this.#load, [commit], limit, accept)
  }

  /** The best common ancestor of two refs, or undefined. */
  async mergeBase(a: string, b: string): Promise<Commit | undefined> {
    const [ca, cb] = await Promise.all([this.resolve(a), this.resolve(b)])
    return mergeBase(this.#load, ca.commit, cb.commit)
  }

  /**
   * What `to` has that `from` lacks: namespaces and tables added, removed and changed, with both states. `two-way`
   * (the default here) compares the two states; `three-dot` lists only the changes made on `to` since its merge base
   * with `from` (what merging `to` into `from` would bring), so changes `from` made on its own never show up.
   */
  async diff(to: string, from: string, options: { mode?: DiffMode } = {}): Promise<LakeDiff> {
    const mode = options.mode ?? 'two-way'
    const [rt, rf] = await Promise.all([this.resolve(to), this.resolve(from)])
    const before = mode === 'two-way' ? rf.commit : await mergeBase(this.#load, rt.commit, rf.commit)
    const entries = await this.#states.diff(before ?? EMPTY_STATE, rt.commit)
    return toLakeDiff(
      entries,
      mode,
      before?.hash ?? null,
      { ref: from, hash: rf.commit.hash },
      { ref: to, hash: rt.commit.hash },
    )
  }

  /**
   * The changes one commit made against its first parent (against the empty lake for the first commit), as a diff
   * whose `to` is the commit and `from` its first parent.
   */
  async diffCommit(commit: Commit): Promise<LakeDiff> {
    const parent = commit.parents[0]
    const entries = await this.changesOf(commit)
    const self = { ref: `@${commit.hash}`, hash: commit.hash }
    const from = parent === undefined ? { ref: '(empty)', hash: '' } : { ref: `@${parent}`, hash: parent }
    return toLakeDiff(entries, 'two-way', parent ?? null, from, self)
  }

  /** The changes a single commit made relative to its first parent. */
  async changesOf(commit: Commit): Promise<TreeDiffEntry[]> {
    const parent = commit.parents[0]
    const before = parent === undefined ? EMPTY_STATE : await this.getCommit(parent)
    return this.#states.diff(before, commit)
  }

  // ---------------------------------------------------------------- merge and revert

  /**
   * Merges `source` (any ref) into the branch `into`: fast-forward when the target has not moved since the fork;
   * otherwise a three-way merge against the merge base, table by table. A table both sides changed goes to the table
   * merger (when configured); what it cannot combine is a conflict. Conflicts throw `MERGE_CONFLICT` naming every
   * conflicting table and leave the target unchanged; with `dryRun` the result lists them instead and nothing moves.
   */
  async merge(
    source: string,
    options: {
      into: string
      message?: string
      author?: string
      properties?: Readonly<Record<string, string>>
      dryRun?: boolean
      /**
       * The job whose run this merge lands. Its commits may come in, and the merge always makes a merge commit
       * (never a fast-forward) marked `tarn.landed_job`, so the whole run is one commit on the target.
       */
      job?: string
    },
  ): Promise<MergeResult> {
    const dryRun = options.dryRun ?? false
    for (let attempt = 1; ; attempt++) {
      const src = await this.resolve(source)
      const target = await this.#writableBranch(options.into)
      if (src.named?.kind === 'branch' && src.named.sealed) {
        throw new TarnError(
          'BRANCH_SEALED',
          `branch ${JSON.stringify(src.named.name)} is sealed and cannot be merged`,
          {
            branch: src.named.name,
          },
        )
      }
      const ours = await this.getCommit(target.head)
      const theirs = src.commit
      const base = await mergeBase(this.#load, ours, theirs)
      const summary = { ref: source, hash: theirs.hash }
      const result = (
        kind: MergeResult['kind'],
        after: string,
        changes: MergeResult['changes'],
        conflicts: MergeConflict[] = [],
        commit?: Commit,
      ): MergeResult => ({
        kind,
        dryRun,
        source: summary,
        target: { branch: options.into, before: ours.hash, after },
        base: base?.hash ?? null,
        ...(commit ? { commit } : {}),
        changes,
        conflicts,
      })
      if (base?.hash === theirs.hash)
        return result('up-to-date', ours.hash, { tables: [], namespaces: [], combined: [] })
      await this.#refuseUnlandedRuns(source, base, theirs, options.job)
      const theirDiff = await this.#states.diff(base ?? EMPTY_STATE, theirs)
      if (base?.hash === ours.hash && options.job === undefined) {
        const changes = summarize(
          theirDiff.map((d) => d.key),
          [],
        )
        if (dryRun) return result('fast-forward', theirs.hash, changes)
        const outcome = await this.backend.updateBranch({
          name: options.into,
          expectedHead: ours.hash,
          newHead: theirs.hash,
          at: this.#clock.now(),
          operation: `merge ${source} (fast-forward)`,
        })
        if (outcome === 'ok') return result('fast-forward', theirs.hash, changes)
      } else {
        const ourDiff = new Map((await this.#states.diff(base ?? EMPTY_STATE, ours)).map((d) => [d.key, d]))
        const changes: ChangeMap = new Map()
        const conflicts: MergeConflict[] = []
        const combined: string[] = []
        for (const t of theirDiff) {
          const o = ourDiff.get(t.key)
          const e = parseEntryKey(t.key)
          const name = e.kind === 'table' ? e.key : e.name
          if (!o) {
            changes.set(t.key, t.after ?? null)
          } else if (same(o.after, t.after)) {
            // both sides made the same change
          } else if (e.kind === 'table' && o.after !== undefined && t.after !== undefined && this.#merger) {
            const outcome = await this.#merger({
              key: e.key,
              base: t.before === undefined ? undefined : asTableState(t.before),
              ours: asTableState(o.after),
              theirs: asTableState(t.after),
            })
            if (outcome.kind === 'merged') {
              changes.set(t.key, tableValue(outcome.state))
              combined.push(e.key)
            } else {
              conflicts.push({ kind: 'table', name, reason: outcome.reason })
            }
          } else {
            conflicts.push({ kind: e.kind, name, reason: describeConflict(o, t) })
          }
        }
        if (conflicts.length === 0) {
          try {
            await this.#checkIntegrity(ours, changes)
          } catch (err) {
            if (!(err instanceof TarnError)) throw err
            if (err.code === 'TABLE_EXISTS') {
              conflicts.push({ kind: 'table', name: String(err.context.table ?? ''), reason: err.message })
            } else {
              const ns = String(err.context.namespace ?? '')
              conflicts.push({ kind: 'namespace', name: ns, reason: err.message })
            }
          }
        }
        const summaryChanges = summarize([...changes.keys()], combined)
        if (conflicts.length > 0) {
          if (dryRun) return result('conflict', ours.hash, summaryChanges, conflicts)
          const tables = conflicts.filter((c) => c.kind === 'table').map((c) => c.name)
          throw new TarnError(
            'MERGE_CONFLICT',
            `cannot merge ${source} into ${options.into}: ${conflicts.map((c) => `${c.kind} ${c.name}`).join(', ')} changed on both sides`,
            {
              source,
              target: options.into,
              base: base?.hash ?? null,
              tables,
              namespaces: conflicts.filter((c) => c.kind === 'namespace').map((c) => c.name),
              conflicts,
            },
          )
        }
        if (dryRun) return result('merge', ours.hash, summaryChanges)
        const commit = await this.#advance(
          options.into,
          ours,
          changes,
          {
            message: options.message ?? `Merge ${source} into ${options.into}`,
            ...(options.author !== undefined ? { author: options.author } : {}),
            properties: {
              ...(options.properties ?? {}),
              ...(options.job !== undefined ? { 'tarn.landed_job': options.job } : {}),
            },
            parents: [ours.hash, theirs.hash],
          },
          `merge ${source}`,
        )
        if (commit !== 'moved') return result('merge', commit.hash, summaryChanges, [], commit)
      }
      if (attempt >= this.#maxAttempts) {
        throw new TarnError(
          'BRANCH_HEAD_CHANGED',
          `gave up merging into ${options.into} after ${attempt} races`,
          {
            branch: options.into,
          },
        )
      }
      await this.#backoff(attempt)
    }
  }

  /**
   * Refuses a merge that would bring in commits of a run that has not landed (a failed or unfinished run): commits
   * carrying `tarn.job_id` may reach another branch only through their own run's landing merge (marked
   * `tarn.landed_job`), or through history that already contains that landing. Walks only the incoming commits.
   */
  async #refuseUnlandedRuns(
    source: string,
    base: Commit | undefined,
    theirs: Commit,
    job: string | undefined,
  ): Promise<void> {
    const floor = base?.generation ?? 0
    const landed = new Set<string>()
    const incoming = await walkHistory(
      (hashes) => this.getCommits(hashes).then((cs) => cs.filter((c) => c.generation > floor)),
      theirs.generation > floor ? [theirs] : [],
      Number.POSITIVE_INFINITY,
      () => true,
    )
    for (const c of incoming) {
      const landedJob = c.properties['tarn.landed_job']
      if (landedJob !== undefined) landed.add(landedJob)
      const runJob = c.properties['tarn.job_id']
      if (runJob !== undefined && runJob !== job && !landed.has(runJob)) {
        throw new TarnError(
          'RUN_INCOMPLETE',
          `${source} holds commits of run ${runJob}, which has not landed (failed or still running); they cannot be merged`,
          { source, job: runJob, commit: c.hash },
        )
      }
    }
  }

  /** The commit to revert and the diff entries to undo (all, or one table's), with the multi-table warning. */
  async #revertTarget(
    ref: string,
    table: string | undefined,
  ): Promise<{ commit: Commit; diff: TreeDiffEntry[]; warning?: string }> {
    const { commit } = await this.resolve(ref)
    if (commit.parents.length === 0) {
      throw new TarnError('INVALID_ARGUMENT', 'the first commit of a lake cannot be reverted', {
        commit: commit.hash,
      })
    }
    let diff = await this.changesOf(commit)
    const tableKeys = diff.filter((d) => d.key.startsWith('t/'))
    let warning: string | undefined
    if (table !== undefined) {
      const k = entryKey.table(parseTableKey(table, DEFAULT_NAMESPACE).key)
      diff = diff.filter((d) => d.key === k)
      if (diff.length === 0) {
        throw new TarnError(
          'TABLE_NOT_CHANGED',
          `commit ${shortHash(commit.hash)} did not change table ${k.slice(2)}`,
          {
            commit: commit.hash,
            table: k.slice(2),
          },
        )
      }
      if (tableKeys.length > 1) {
        warning = `commit ${shortHash(commit.hash)} changed ${tableKeys.length} tables; reverting only ${k.slice(2)} gives a state that no run produced`
      }
    }
    if (diff.length === 0) {
      throw new TarnError('NOTHING_TO_COMMIT', `commit ${shortHash(commit.hash)} changed nothing`, {
        commit: commit.hash,
      })
    }
    return { commit, diff, ...(warning ? { warning } : {}) }
  }

  /**
   * The changes that undo `diff` on `head`, one step per key. Throws `REVERT_CONFLICT` naming every table that cannot
   * be undone, and `NOTHING_TO_COMMIT` when everything is undone already. With `dryRun` the table reverter writes
   * nothing and the changes are left empty for the tables it would handle.
   */
  async #revertChanges(
    commit: Commit,
    diff: readonly TreeDiffEntry[],
    head: Commit,
    branch: string,
    dryRun: boolean,
  ): Promise<{ changes: ChangeMap; steps: RevertStep[] }> {
    const changes: ChangeMap = new Map()
    const steps: RevertStep[] = []
    const conflicts: { name: string; reason: string }[] = []
    for (const d of diff) {
      const now = await this.#states.get(head, d.key)
      const kind = d.key.startsWith('t/') ? 'table' : 'namespace'
      const name = d.key.slice(2)
      if (same(now, d.after)) {
        changes.set(d.key, d.before ?? null)
        steps.push({ kind, name, action: d.before === undefined ? 'drop' : 'restore' })
      } else if (same(now, d.before)) {
        steps.push({ kind, name, action: 'already-undone' })
      } else if (kind === 'table' && now !== undefined && d.after !== undefined && this.#reverter) {
        const outcome = await this.#reverter({
          key: name,
          before: d.before === undefined ? undefined : asTableState(d.before),
          after: asTableState(d.after),
          now: asTableState(now),
          ...(dryRun ? { dryRun: true } : {}),
        })
        if (outcome.kind === 'conflict') conflicts.push({ name, reason: outcome.reason })
        else {
          if (outcome.kind === 'reverted') changes.set(d.key, tableValue(outcome.state))
          steps.push({
            kind,
            name,
            action: 'remove-appended-files',
            ...(outcome.removedFiles !== undefined ? { removedFiles: outcome.removedFiles } : {}),
            ...(outcome.removedRecords !== undefined ? { removedRecords: outcome.removedRecords } : {}),
          })
        }
      } else conflicts.push({ name, reason: `${name} changed again since` })
    }
    if (conflicts.length > 0) {
      throw new TarnError(
        'REVERT_CONFLICT',
        `cannot revert ${shortHash(commit.hash)} on ${branch}: ${conflicts.map((c) => c.reason).join('; ')}`,
        {
          commit: commit.hash,
          branch,
          tables: conflicts.map((c) => c.name),
          conflicts,
        },
      )
    }
    if (steps.every((s) => s.action === 'already-undone')) {
      throw new TarnError(
        'NOTHING_TO_COMMIT',
        `commit ${shortHash(commit.hash)} is already undone on ${branch}`,
        { commit: commit.hash, branch },
      )
    }
    return { changes, steps }
  }

  /**
   * What {@link revert} would do on branch `on`, without writing anything: one step per table and namespace (restore,
   * drop, or remove exactly the files an append-only commit added). Throws what the revert would throw
   * (`REVERT_CONFLICT`, `NOTHING_TO_COMMIT`, ...).
   */
  async planRevert(ref: string, options: { on: string; table?: string }): Promise<RevertPlan> {
    const branch = await this.#writableBranch(options.on)
    const { commit, diff, warning } = await this.#revertTarget(ref, options.table)
    const head = await this.getCommit(branch.head)
    const { steps } = await this.#revertChanges(commit, diff, head, options.on, true)
    const changed = steps.filter((s) => s.action !== 'already-undone')
    return {
      reverted: commit.hash,
      branch: options.on,
      head: head.hash,
      tables: changed
        .filter((s) => s.kind === 'table')
        .map((s) => s.name)
        .sort(),
      namespaces: changed
        .filter((s) => s.kind === 'namespace')
        .map((s) => s.name)
        .sort(),
      steps,
      ...(warning ? { warning } : {}),
    }
  }

  /**
   * Undoes a commit with a new commit on branch `on`: every table and namespace it changed goes back to its state
   * before it. With `table`, only that table is reverted (and a warning says the result is a state no run produced
   * when the commit changed more). A table changed again since the commit goes to the table reverter (the Iceberg
   * one removes exactly the files an append-only commit added); what it cannot undo is a `REVERT_CONFLICT` naming the
   * tables, and nothing changes. Keys already back at their old state are left alone; when all are,
   * `NOTHING_TO_COMMIT`.
   */
  async revert(
    ref: string,
    options: { on: string; table?: string; message?: string; author?: string },
  ): Promise<RevertResult> {
    let branch = await this.#writableBranch(options.on)
    await this.#refuseProtected(options.on, 'reverted on directly')
    const { commit, diff, warning } = await this.#revertTarget(ref, options.table)
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) branch = await this.#writableBranch(options.on)
      const head = await this.getCommit(branch.head)
      const { changes, steps } = await this.#revertChanges(commit, diff, head, options.on, false)
      const result = await this.#advance(
        options.on,
        head,
        changes,
        {
          message: options.message ?? `Revert "${commit.message}" (${shortHash(commit.hash)})`,
          ...(options.author !== undefined ? { author: options.author } : {}),
          properties: {
            'tarn.revert_of': commit.hash,
            ...(options.table ? { 'tarn.revert_table': options.table } : {}),
          },
        },
        `revert ${shortHash(commit.hash)}`,
      )
      if (result !== 'moved') {
        const s = summarize([...changes.keys()], [])
        return {
          commit: result,
          reverted: commit.hash,
          tables: s.tables,
          namespaces: s.namespaces,
          steps,
          ...(warning ? { warning } : {}),
        }
      }
      if (attempt >= this.#maxAttempts) {
        throw new TarnError(
          'BRANCH_HEAD_CHANGED',
          `gave up reverting on ${options.on} after ${attempt} races`,
          {
            branch: options.on,
          },
        )
      }
      await this.#backoff(attempt)
    }
  }

  // ---------------------------------------------------------------- protected branches

  /**
   * Protects a branch: it then takes only merges (no direct commit or revert) and cannot be deleted or renamed until
   * {@link unprotectBranch}. Idempotent.
   */
  async protectBranch(name: string): Promise<RefInfo> {
    const ref = await this.getBranch(name)
    await this.backend.insertRecord({
      kind: PROTECTED_BRANCH,
      id: name,
      value: JSON.stringify({ since: this.#clock.now() }),
    })
    return ref
  }

  /** Lifts the protection of a branch. Idempotent. */
  async unprotectBranch(name: string): Promise<RefInfo> {
    const ref = await this.getBranch(name)
    await this.backend.deleteRecord(PROTECTED_BRANCH, name)
    return ref
  }

  /** Names of the protected branches, sorted. */
  async protectedBranches(): Promise<string[]> {
    return (await this.backend.listRecords(PROTECTED_BRANCH)).map((r) => r.id)
  }

  /** Throws `BRANCH_PROTECTED` (context `reason: 'protected'`) when `name` is protected. */
  async #refuseProtected(name: string, what: string): Promise<void> {
    if ((await this.backend.getRecord(PROTECTED_BRANCH, name)) === undefined) return
    throw new TarnError(
      'BRANCH_PROTECTED',
      `branch ${JSON.stringify(name)} is protected: it takes only merges, so it cannot be ${what} (\`tarn branch unprotect\` lifts this)`,
      { branch: name, reason: 'protected' },
    )
  }

  /** Releases the backend. */
  async close(): Promise<void> {
    await this.backend.close()
  }
}

function same(a: CanonicalValue | undefined, b: CanonicalValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return canonicalJson(a) === canonicalJson(b)
}

function describeConflict(ours: TreeDiffEntry, theirs: TreeDiffEntry): string {
  const verb = (d: TreeDiffEntry): string =>
    d.before === undefined ? 'created' : d.after === undefined ? 'dropped' : 'changed'
  return `target ${verb(ours)} it and source ${verb(theirs)} it`
}

function summarize(keys: readonly string[], combined: readonly string[]): MergeResult['changes'] {
  const tables: string[] = []
  const namespaces: string[] = []
  for (const k of keys) {
    const e = parseEntryKey(k)
    if (e.kind === 'table') tables.push(e.key)
    else namespaces.push(e.name)
  }
  return { tables: tables.sort(), namespaces: namespaces.sort(), combined: [...combined].sort() }
}

function toLakeDiff(
  entries: readonly TreeDiffEntry[],
  mode: DiffMode,
  before: string | null,
  from: LakeDiff['from'],
  to: LakeDiff['to'],
): LakeDiff {
  const tables = {
    added: [] as { table: string; state: TableState }[],
    removed: [] as { table: string; state: TableState }[],
    changed: [] as { table: string; from: TableState; to: TableState }[],
  }
  const namespaces = {
    added: [] as { namespace: string; state: NamespaceState }[],
    removed: [] as { namespace: string; state: NamespaceState }[],
    changed: [] as { namespace: string; from: NamespaceState; to: NamespaceState }[],
  }
  for (const d of entries) {
    const e = parseEntryKey(d.key)
    if (e.kind === 'table') {
      if (d.before === undefined && d.after !== undefined)
        tables.added.push({ table: e.key, state: asTableState(d.after) })
      else if (d.after === undefined && d.before !== undefined)
        tables.removed.push({ table: e.key, state: asTableState(d.before) })
      else if (d.before !== undefined && d.after !== undefined)
        tables.changed.push({ table: e.key, from: asTableState(d.before), to: asTableState(d.after) })
    } else {
      if (d.before === undefined && d.after !== undefined)
        namespaces.added.push({ namespace: e.name, state: asNamespaceState(d.after) })
      else if (d.after === undefined && d.before !== undefined)
        namespaces.removed.push({ namespace: e.name, state: asNamespaceState(d.before) })
      else if (d.before !== undefined && d.after !== undefined)
        namespaces.changed.push({
          namespace: e.name,
          from: asNamespaceState(d.before),
          to: asNamespaceState(d.after),
        })
    }
  }
  return { mode, from, to, before, tables, namespaces }
}
