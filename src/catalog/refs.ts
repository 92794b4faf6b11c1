import type { Clock } from '../util/clock.js'
import { TarnError } from '../util/errors.js'
import { isAncestor } from './ancestry.js'
import type { CatalogBackend } from './backend.js'
import { shortHash } from './commit.js'
import type { CommitCache } from './commit-cache.js'
import { DEFAULT_BRANCH } from './defaults.js'
import { assertRefName } from './names.js'
import type { ProtectedBranches } from './protected-branches.js'
import { parseRefSpec } from './ref-spec.js'
import type { ResolvedRef } from './results.js'
import type { Commit, RefInfo, RefKind } from './types.js'

/**
 * Branches and tags: looking them up, creating, deleting, renaming and sealing them, and resolving ref expressions
 * to commits. The catalog's facade delegates here.
 */
export class Refs {
  readonly #backend: CatalogBackend
  readonly #commits: CommitCache
  readonly #clock: Clock
  readonly #protected: ProtectedBranches

  constructor(
    backend: CatalogBackend,
    commits: CommitCache,
    clock: Clock,
    protectedBranches: ProtectedBranches,
  ) {
    this.#backend = backend
    this.#commits = commits
    this.#clock = clock
    this.#protected = protectedBranches
  }

  /** The ref named `name` (branch or tag), or undefined. */
  get(name: string): Promise<RefInfo | undefined> {
    return this.#backend.getRef(name)
  }

  /** The branch named `name`; `BRANCH_NOT_FOUND` or `NOT_A_BRANCH` otherwise. */
  async branch(name: string): Promise<RefInfo> {
    const ref = await this.#backend.getRef(name)
    if (!ref) {
      throw new TarnError('BRANCH_NOT_FOUND', `branch ${JSON.stringify(name)} does not exist`, {
        branch: name,
      })
    }
    if (ref.kind !== 'branch') {
      throw new TarnError(
        'NOT_A_BRANCH',
        `${JSON.stringify(name)} is a tag, not a branch; only branches accept writes`,
        { ref: name },
      )
    }
    return ref
  }

  /** The branch named `name` when it accepts writes; `BRANCH_SEALED` when it is sealed. */
  async writableBranch(name: string): Promise<RefInfo> {
    const ref = await this.branch(name)
    if (ref.sealed) {
      throw new TarnError(
        'BRANCH_SEALED',
        `branch ${JSON.stringify(name)} is sealed: it can be read but not written or merged`,
        { branch: name },
      )
    }
    return ref
  }

  /** Every ref of one kind, sorted by name. */
  list(kind: RefKind): Promise<RefInfo[]> {
    return this.#backend.listRefs(kind)
  }

  /**
   * Creates a branch or tag at the commit `from` resolves to (O(1), copies nothing). A branch is sealed when `from`
   * is a sealed branch, or when `seal` says so of the commit.
   */
  async create(
    kind: RefKind,
    name: string,
    from: string,
    seal: (commit: Commit) => Promise<boolean> = async () => false,
  ): Promise<RefInfo> {
    assertRefName(name, kind)
    const { commit, named } = await this.resolve(from)
    // A branch forked from a sealed (failed run) branch is a sealed, read-only copy for debugging.
    const sealed = kind === 'branch' && ((named?.kind === 'branch' && named.sealed) || (await seal(commit)))
    const ref: RefInfo = { name, kind, head: commit.hash, sealed, createdAt: this.#clock.now() }
    if (!(await this.#backend.createRef(ref, `create from ${from}`))) {
      const existing = await this.#backend.getRef(name)
      const code = existing?.kind === 'tag' ? 'TAG_EXISTS' : 'BRANCH_EXISTS'
      throw new TarnError(code, `${existing?.kind ?? kind} ${JSON.stringify(name)} already exists`, {
        [kind]: name,
      })
    }
    return ref
  }

  /** Deletes a branch. `main` and protected branches cannot be deleted. */
  async deleteBranch(name: string): Promise<RefInfo> {
    const ref = await this.branch(name)
    if (name === DEFAULT_BRANCH) {
      throw new TarnError('BRANCH_PROTECTED', `branch ${DEFAULT_BRANCH} cannot be deleted`, { branch: name })
    }
    await this.#protected.refuse(name, 'deleted')
    if (!(await this.#backend.deleteRef(name, 'branch', this.#clock.now()))) {
      throw new TarnError('BRANCH_NOT_FOUND', `branch ${JSON.stringify(name)} does not exist`, {
        branch: name,
      })
    }
    return ref
  }

  /** Deletes a tag. */
  async deleteTag(name: string): Promise<RefInfo> {
    const ref = await this.#backend.getRef(name)
    if (ref?.kind !== 'tag' || !(await this.#backend.deleteRef(name, 'tag', this.#clock.now()))) {
      throw new TarnError('TAG_NOT_FOUND', `tag ${JSON.stringify(name)} does not exist`, { tag: name })
    }
    return ref
  }

  /** Renames a branch. `main` and protected branches cannot be renamed. */
  async renameBranch(from: string, to: string): Promise<RefInfo> {
    await this.branch(from)
    assertRefName(to, 'branch')
    if (from === DEFAULT_BRANCH) {
      throw new TarnError('BRANCH_PROTECTED', `branch ${DEFAULT_BRANCH} cannot be renamed`, { branch: from })
    }
    await this.#protected.refuse(from, 'renamed')
    const outcome = await this.#backend.renameRef(from, to, this.#clock.now())
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
    return this.branch(to)
  }

  /** Seals a branch: it stays readable, but commits and merges from or into it are refused (`BRANCH_SEALED`). */
  async sealBranch(name: string): Promise<RefInfo> {
    await this.branch(name)
    await this.#backend.sealBranch(name, this.#clock.now())
    return this.branch(name)
  }

  /**
   * Resolves a ref expression (`main`, `v1`, `main@3fa1c2`, `@3fa1c2`, `main~2`, `main*2026-01-31T10:00:00Z`) to a
   * commit. A bare hex string that names no branch or tag is read as a commit hash prefix. Throws `INVALID_REF` for
   * malformed text, `REF_NOT_FOUND`/`COMMIT_NOT_FOUND` for unknown names and hashes, `AMBIGUOUS_REF` for a hash
   * prefix that matches several commits.
   */
  async resolve(text: string): Promise<ResolvedRef> {
    const spec = parseRefSpec(text)
    let named: RefInfo | undefined
    let commit: Commit | undefined
    if (spec.name !== undefined) {
      named = await this.#backend.getRef(spec.name)
      if (!named && /^[0-9a-fA-F]{4,64}$/.test(text)) return this.resolve(`@${text}`)
      if (!named) {
        throw new TarnError('REF_NOT_FOUND', `no branch or tag named ${JSON.stringify(spec.name)}`, {
          ref: text,
        })
      }
      commit = await this.#commits.getOne(named.head)
    }
    if (spec.hash !== undefined) {
      const target = await this.#commitByPrefix(spec.hash, text)
      if (commit && !(await isAncestor(this.#commits.load, target, commit))) {
        throw new TarnError(
          'REF_NOT_FOUND',
          `commit ${shortHash(target.hash)} is not in the history of ${spec.name}`,
          { ref: text, commit: target.hash },
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
        commit = await this.#commits.getOne(parent)
      }
    }
    if (spec.at !== undefined) {
      while (commit.timestamp > spec.at) {
        const parent = commit.parents[0]
        if (parent === undefined) {
          throw new TarnError(
            'REF_NOT_FOUND',
            `no commit of ${spec.name ?? text} is at or before that time`,
            {
              ref: text,
            },
          )
        }
        commit = await this.#commits.getOne(parent)
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

  /** A full hash as is, a prefix through {@link resolve}. */
  async commitForHash(hash: string): Promise<Commit> {
    return hash.length === 64 ? this.#commits.getOne(hash) : (await this.resolve(`@${hash}`)).commit
  }

  /** The one commit whose hash starts with `prefix`; `COMMIT_NOT_FOUND` or `AMBIGUOUS_REF` otherwise. */
  async #commitByPrefix(prefix: string, text: string): Promise<Commit> {
    const hashes = await this.#backend.findCommitHashes(prefix, 2)
    if (hashes.length === 0) {
      throw new TarnError('COMMIT_NOT_FOUND', `no commit hash starts with ${prefix}`, {
        ref: text,
        commit: prefix,
      })
    }
    if (hashes.length > 1) {
      throw new TarnError(
        'AMBIGUOUS_REF',
        `commit prefix ${prefix} matches several commits; give more digits`,
        {
          ref: text,
          matches: hashes,
        },
      )
    }
    return this.#commits.getOne(hashes[0] as string)
  }
}
