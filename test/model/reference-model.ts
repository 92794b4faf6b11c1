/**
 * A small, obviously-correct reference model of tarn's Git-for-data semantics, written independently of
 * src/catalog: commits hold full table maps, ancestry is computed by brute force. Model-based tests run the same
 * operations here and on a real lake and compare what a user can observe.
 */

export type Tables = ReadonlyMap<string, string>

export interface ModelCommit {
  readonly id: number
  readonly parents: readonly number[]
  readonly tables: Tables
}

export type Outcome =
  | { readonly ok: true; readonly kind?: string }
  | { readonly ok: false; readonly code: string }

const ok = (kind?: string): Outcome => (kind ? { ok: true, kind } : { ok: true })
const fail = (code: string): Outcome => ({ ok: false, code })

/** The reference state machine. Mutable on purpose: it is a test oracle, not product code. */
export class ReferenceModel {
  readonly commits: ModelCommit[] = []
  readonly branches = new Map<string, number>()
  readonly tags = new Map<string, number>()
  readonly sealed = new Set<string>()
  /** Replaces the table map of a branch head (used when the oracle abstained). */
  adopt(branch: string, tables: Tables): void {
    const id = this.branches.get(branch) as number
    this.commits[id] = { ...(this.commits[id] as ModelCommit), tables }
  }

  /** Set when the last merge had several equally good bases with different states (the oracle abstains). */
  ambiguous = false

  constructor() {
    this.commits.push({ id: 0, parents: [], tables: new Map() })
    this.branches.set('main', 0)
  }

  head(branch: string): ModelCommit | undefined {
    const id = this.branches.get(branch)
    return id === undefined ? undefined : this.commits[id]
  }

  resolve(ref: string): ModelCommit | undefined {
    const id = this.branches.get(ref) ?? this.tags.get(ref)
    return id === undefined ? undefined : this.commits[id]
  }

  ancestors(id: number): Set<number> {
    const out = new Set<number>()
    const stack = [id]
    while (stack.length > 0) {
      const c = stack.pop() as number
      if (out.has(c)) continue
      out.add(c)
      stack.push(...(this.commits[c]?.parents ?? []))
    }
    return out
  }

  #add(parents: number[], tables: Tables): number {
    const id = this.commits.length
    this.commits.push({ id, parents, tables })
    return id
  }

  createRef(kind: 'branch' | 'tag', name: string, from: string): Outcome {
    const src = this.resolve(from)
    if (!src) return fail('REF_NOT_FOUND')
    if (this.branches.has(name)) return fail('BRANCH_EXISTS')
    if (this.tags.has(name)) return fail('TAG_EXISTS')
    ;(kind === 'branch' ? this.branches : this.tags).set(name, src.id)
    // A branch forked from a sealed branch is a sealed, read-only copy.
    if (kind === 'branch' && this.branches.has(from) && this.sealed.has(from)) this.sealed.add(name)
    return ok()
  }

  deleteBranch(name: string): Outcome {
    if (!this.branches.has(name)) return this.tags.has(name) ? fail('NOT_A_BRANCH') : fail('BRANCH_NOT_FOUND')
    if (name === 'main') return fail('BRANCH_PROTECTED')
    this.branches.delete(name)
    this.sealed.delete(name)
    return ok()
  }

  #writable(branch: string): Outcome | undefined {
    if (!this.branches.has(branch))
      return this.tags.has(branch) ? fail('NOT_A_BRANCH') : fail('BRANCH_NOT_FOUND')
    if (this.sealed.has(branch)) return fail('BRANCH_SEALED')
    return undefined
  }

  write(branch: string, table: string, value: string | null): Outcome {
    const bad = this.#writable(branch)
    if (bad) return bad
    const head = this.head(branch) as ModelCommit
    if (value === null && !head.tables.has(table)) return fail('TABLE_NOT_FOUND')
    const tables = new Map(head.tables)
    if (value === null) tables.delete(table)
    else tables.set(table, value)
    this.branches.set(branch, this.#add([head.id], tables))
    return ok()
  }

  seal(branch: string): Outcome {
    if (!this.branches.has(branch))
      return this.tags.has(branch) ? fail('NOT_A_BRANCH') : fail('BRANCH_NOT_FOUND')
    this.sealed.add(branch)
    return ok()
  }

  #bases(a: number, b: number): number[] {
    const common = [...this.ancestors(a)].filter((x) => this.ancestors(b).has(x))
    return common.filter((c) => !common.some((o) => o !== c && this.ancestors(o).has(c)))
  }

  merge(source: string, into: string): Outcome {
    this.ambiguous = false
    const src = this.resolve(source)
    if (!src) return fail('REF_NOT_FOUND')
    const bad = this.#writable(into)
    if (bad) return bad
    if (this.branches.has(source) && this.sealed.has(source)) return fail('BRANCH_SEALED')
    const ours = this.head(into) as ModelCommit
    if (this.ancestors(ours.id).has(src.id)) return ok('up-to-date')
    if (this.ancestors(src.id).has(ours.id)) {
      this.branches.set(into, src.id)
      return ok('fast-forward')
    }
    const bases = this.#bases(ours.id, src.id).map((id) => this.commits[id] as ModelCommit)
    const key = (t: Tables) => JSON.stringify([...t].sort())
    if (bases.length > 1 && new Set(bases.map((b) => key(b.tables))).size > 1) this.ambiguous = true
    const base = bases[0]?.tables ?? new Map<string, string>()
    const names = new Set([...base.keys(), ...ours.tables.keys(), ...src.tables.keys()])
    const result = new Map(ours.tables)
    for (const t of names) {
      const b = base.get(t)
      const o = ours.tables.get(t)
      const s = src.tables.get(t)
      if (s === b) continue
      if (o === b || o === s) {
        if (s === undefined) result.delete(t)
        else result.set(t, s)
        continue
      }
      return fail('MERGE_CONFLICT')
    }
    this.branches.set(into, this.#add([ours.id, src.id], result))
    return ok('merge')
  }

  /** Reverts the head commit of `of` onto branch `on`. */
  revertHead(of: string, on: string): Outcome {
    const bad = this.#writable(on)
    if (bad) return bad
    const c = this.resolve(of)
    if (!c) return fail('REF_NOT_FOUND')
    if (c.parents.length === 0) return fail('INVALID_ARGUMENT')
    const parent = this.commits[c.parents[0] as number] as ModelCommit
    const changed = [...new Set([...parent.tables.keys(), ...c.tables.keys()])].filter(
      (t) => parent.tables.get(t) !== c.tables.get(t),
    )
    if (changed.length === 0) return fail('NOTHING_TO_COMMIT')
    const head = this.head(on) as ModelCommit
    const undone = (t: string): boolean => head.tables.get(t) === parent.tables.get(t)
    if (changed.some((t) => head.tables.get(t) !== c.tables.get(t) && !undone(t)))
      return fail('REVERT_CONFLICT')
    if (changed.every(undone)) return fail('NOTHING_TO_COMMIT')
    const tables = new Map(head.tables)
    for (const t of changed.filter((x) => !undone(x))) {
      const before = parent.tables.get(t)
      if (before === undefined) tables.delete(t)
      else tables.set(t, before)
    }
    this.branches.set(on, this.#add([head.id], tables))
    return ok()
  }
}
