import { type CanonicalValue, canonicalJson, sha256Hex } from '../util/canonical.js'
import { TarnError } from '../util/errors.js'
import type { StoredObject } from './types.js'

/**
 * Where tree nodes are read from (a catalog backend).
 */
export interface NodeSource {
  getObjects(hashes: readonly string[]): Promise<ReadonlyMap<string, Uint8Array>>
}

/**
 * One difference between two trees: `before` missing means added, `after` missing means removed.
 *
 * @example
 * ```ts
 * for (const d of await tree.diff(a, b)) if (d.before === undefined) console.log('added', d.key)
 * ```
 */
export interface TreeDiffEntry {
  readonly key: string
  readonly before?: CanonicalValue
  readonly after?: CanonicalValue
}

/**
 * The most entries a leaf holds before it splits into 16 children.
 */
export const LEAF_CAPACITY = 16

interface Entry {
  readonly key: string
  readonly value: CanonicalValue
  readonly json: string
}
type Node =
  | { readonly kind: 'leaf'; readonly entries: readonly Entry[] }
  | { readonly kind: 'inner'; readonly count: number; readonly children: readonly (string | undefined)[] }

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const keyHashes = new Map<string, string>()

function keyHash(key: string): string {
  let h = keyHashes.get(key)
  if (h === undefined) {
    h = sha256Hex(key)
    if (keyHashes.size > 200_000) keyHashes.clear()
    keyHashes.set(key, h)
  }
  return h
}

function nibble(key: string, depth: number): number {
  return Number.parseInt(keyHash(key)[depth] ?? '0', 16)
}

function encodeNode(node: Node): StoredObject {
  // Written by hand (not through canonicalJson) because this is the hot path of every commit; the output is the
  // canonical JSON of { l: [[key, value], ...] } or { c: [hash | null x 16], n: count }.
  const text =
    node.kind === 'leaf'
      ? `{"l":[${node.entries.map((e) => `[${JSON.stringify(e.key)},${e.json}]`).join(',')}]}`
      : `{"c":[${node.children.map((c) => (c === undefined ? 'null' : `"${c}"`)).join(',')}],"n":${node.count}}`
  const data = encoder.encode(text)
  return { hash: sha256Hex(data), data }
}

function decodeNode(hash: string, data: Uint8Array): Node {
  const raw = JSON.parse(decoder.decode(data)) as {
    l?: [string, CanonicalValue][]
    c?: (string | null)[]
    n?: number
  }
  if (raw.l)
    return {
      kind: 'leaf',
      entries: raw.l.map(([key, value]) => ({ key, value, json: canonicalJson(value) })),
    }
  if (raw.c && typeof raw.n === 'number') {
    return { kind: 'inner', count: raw.n, children: raw.c.map((c) => c ?? undefined) }
  }
  throw new TarnError('CATALOG_ERROR', `tree node ${hash} is malformed`, { hash })
}

const EMPTY_LEAF = encodeNode({ kind: 'leaf', entries: [] })

/**
 * A persistent, content-addressed hash trie mapping string keys to canonical JSON values: the lake state of a commit.
 * Keys are placed by the hex digits of SHA-256(key); a node holds up to {@link LEAF_CAPACITY} entries as a leaf, else
 * 16 children. The shape depends only on the set of entries, so equal states have equal root hashes and a diff skips
 * every shared subtree: updating k keys costs O(k log n) nodes whatever the size of the lake.
 *
 * @example
 * ```ts
 * const tree = new Tree(backend)
 * const { root, created } = await tree.apply(Tree.emptyRoot, new Map([['t/tarn.orders', { a: 1 }]]))
 * await backend.putObjects(created)
 * await tree.get(root, 't/tarn.orders') // { a: 1 }
 * ```
 */
export class Tree {
  /** The hash of the empty tree. */
  static readonly emptyRoot: string = EMPTY_LEAF.hash
  /** The stored form of the empty tree (backends store it once at initialisation). */
  static readonly emptyNode: StoredObject = EMPTY_LEAF

  readonly #source: NodeSource
  // Two-generation cache: O(1) inserts and lookups with LRU-like eviction (a Map used as a FIFO degrades because
  // deleting from its front leaves tombstones that every later iteration has to skip).
  #young = new Map<string, Node>()
  #old = new Map<string, Node>()
  readonly #generationSize: number

  constructor(source: NodeSource, cacheLimit = 50_000) {
    this.#source = source
    this.#generationSize = Math.max(16, cacheLimit >> 1)
    this.#remember(EMPTY_LEAF.hash, { kind: 'leaf', entries: [] })
  }

  #cached(hash: string): Node | undefined {
    const young = this.#young.get(hash)
    if (young) return young
    const old = this.#old.get(hash)
    if (old) this.#remember(hash, old)
    return old
  }

  #remember(hash: string, node: Node): void {
    if (this.#young.size >= this.#generationSize) {
      this.#old = this.#young
      this.#young = new Map()
    }
    this.#young.set(hash, node)
  }

  async #loadMany(hashes: readonly string[]): Promise<Node[]> {
    const out: (Node | undefined)[] = hashes.map((h) => this.#cached(h))
    const missing = [...new Set(hashes.filter((_, i) => out[i] === undefined))]
    if (missing.length === 0) return out as Node[]
    const found = await this.#source.getObjects(missing)
    const loaded = new Map<string, Node>()
    for (const h of missing) {
      const data = found.get(h)
      if (!data)
        throw new TarnError('CATALOG_ERROR', `tree node ${h} is missing from the catalog`, { hash: h })
      const node = decodeNode(h, data)
      loaded.set(h, node)
      this.#remember(h, node)
    }
    return out.map((n, i) => n ?? (loaded.get(hashes[i] as string) as Node))
  }

  async #load(hash: string): Promise<Node> {
    return this.#cached(hash) ?? ((await this.#loadMany([hash]))[0] as Node)
  }

  /** The value stored under `key`, or undefined. */
  async get(root: string, key: string): Promise<CanonicalValue | undefined> {
    let node = this.#cached(root) ?? (await this.#load(root))
    for (let depth = 0; ; depth++) {
      if (node.kind === 'leaf') return node.entries.find((e) => e.key === key)?.value
      const child = node.children[nibble(key, depth)]
      if (child === undefined) return undefined
      node = this.#cached(child) ?? (await this.#load(child))
    }
  }

  /** Every entry whose key starts with `prefix`, sorted by key. */
  async entries(root: string, prefix = ''): Promise<[string, CanonicalValue][]> {
    const out: [string, CanonicalValue][] = []
    let frontier = [root]
    while (frontier.length > 0) {
      const nodes = await this.#loadMany(frontier)
      frontier = []
      for (const node of nodes) {
        if (node.kind === 'leaf') {
          for (const e of node.entries) if (e.key.startsWith(prefix)) out.push([e.key, e.value])
        } else {
          for (const c of node.children) if (c !== undefined) frontier.push(c)
        }
      }
    }
    return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  }

  async #allEntries(hash: string): Promise<Entry[]> {
    const node = await this.#load(hash)
    if (node.kind === 'leaf') return [...node.entries]
    const parts = await Promise.all(
      node.children.filter((c): c is string => c !== undefined).map((c) => this.#allEntries(c)),
    )
    return parts.flat()
  }

  #build(entries: Entry[], depth: number, created: StoredObject[]): { hash: string; count: number } {
    if (entries.length <= LEAF_CAPACITY || depth >= 64) {
      const sorted = [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      const node: Node = { kind: 'leaf', entries: sorted }
      const stored = encodeNode(node)
      this.#remember(stored.hash, node)
      created.push(stored)
      return { hash: stored.hash, count: sorted.length }
    }
    const groups: Entry[][] = Array.from({ length: 16 }, () => [])
    for (const e of entries) groups[nibble(e.key, depth)]?.push(e)
    const children = groups.map((g) => (g.length === 0 ? undefined : this.#build(g, depth + 1, created).hash))
    const node: Node = { kind: 'inner', count: entries.length, children }
    const stored = encodeNode(node)
    this.#remember(stored.hash, node)
    created.push(stored)
    return { hash: stored.hash, count: entries.length }
  }

  async #applyAt(
    hash: string,
    depth: number,
    changes: readonly Entry[] | readonly { key: string; value: null }[],
    created: StoredObject[],
  ): Promise<{ hash: string; count: number }> {
    const node = this.#cached(hash) ?? (await this.#load(hash))
    if (node.kind === 'leaf') {
      const map = new Map(node.entries.map((e) => [e.key, e]))
      for (const c of changes) {
        if (c.value === null) map.delete(c.key)
        else map.set(c.key, c as Entry)
      }
      return this.#build([...map.values()], depth, created)
    }
    const groups = new Map<number, (Entry | { key: string; value: null })[]>()
    for (const c of changes) {
      const n = nibble(c.key, depth)
      const g = groups.get(n)
      if (g) g.push(c)
      else groups.set(n, [c])
    }
    const children = [...node.children]
    let count = node.count
    for (const [n, group] of groups) {
      const before = children[n]
      const beforeNode =
        before === undefined ? undefined : (this.#cached(before) ?? (await this.#load(before)))
      const beforeCount =
        beforeNode === undefined
          ? 0
          : beforeNode.kind === 'leaf'
            ? beforeNode.entries.length
            : beforeNode.count
      const after = await this.#applyAt(before ?? Tree.emptyRoot, depth + 1, group as Entry[], created)
      children[n] = after.count === 0 ? undefined : after.hash
      count += after.count - beforeCount
    }
    if (count <= LEAF_CAPACITY) {
      const all = (
        await Promise.all(
          children.filter((c): c is string => c !== undefined).map((c) => this.#allEntries(c)),
        )
      ).flat()
      return this.#build(all, depth, created)
    }
    const inner: Node = { kind: 'inner', count, children }
    const stored = encodeNode(inner)
    this.#remember(stored.hash, inner)
    created.push(stored)
    return { hash: stored.hash, count }
  }

  /**
   * A new root with `changes` applied (a null value deletes the key), plus the nodes it created, which the caller
   * must store before publishing the root.
   */
  async apply(
    root: string,
    changes: ReadonlyMap<string, CanonicalValue | null>,
  ): Promise<{ root: string; created: StoredObject[] }> {
    if (changes.size === 0) return { root, created: [] }
    const list = [...changes].map(([key, value]) =>
      value === null ? { key, value: null } : { key, value, json: canonicalJson(value) },
    )
    const created: StoredObject[] = []
    const result = await this.#applyAt(root, 0, list as Entry[], created)
    const seen = new Set<string>()
    return { root: result.hash, created: created.filter((o) => !seen.has(o.hash) && seen.add(o.hash)) }
  }

  /** The differences between two trees, sorted by key; shared subtrees are skipped without being read. */
  async diff(a: string, b: string): Promise<TreeDiffEntry[]> {
    const out: TreeDiffEntry[] = []
    await this.#diffAt(a, b, out)
    return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
  }

  async #diffAt(a: string | undefined, b: string | undefined, out: TreeDiffEntry[]): Promise<void> {
    if (a === b) return
    const [na, nb] = await this.#loadMany([a ?? Tree.emptyRoot, b ?? Tree.emptyRoot])
    if (na?.kind === 'inner' && nb?.kind === 'inner') {
      await Promise.all(na.children.map((c, i) => this.#diffAt(c, nb.children[i], out)))
      return
    }
    const ea = new Map((await this.#allEntries(a ?? Tree.emptyRoot)).map((e) => [e.key, e]))
    const eb = new Map((await this.#allEntries(b ?? Tree.emptyRoot)).map((e) => [e.key, e]))
    for (const [key, x] of ea) {
      const y = eb.get(key)
      if (!y) out.push({ key, before: x.value })
      else if (y.json !== x.json) out.push({ key, before: x.value, after: y.value })
    }
    for (const [key, y] of eb) if (!ea.has(key)) out.push({ key, after: y.value })
  }
}
