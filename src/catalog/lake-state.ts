import { type CanonicalValue, canonicalJson } from '../util/canonical.js'
import { Tree, type TreeDiffEntry } from './tree.js'
import type { StoredObject } from './types.js'

/**
 * Changes to the lake state: a value sets a key, null deletes it.
 */
export type Overlay = Readonly<Record<string, CanonicalValue | null>>

/**
 * How a commit records the lake state: a checkpoint tree plus a small overlay of the changes made since that
 * checkpoint. Plain data.
 */
export interface StateRef {
  /** Root hash of the checkpoint tree. */
  readonly tree: string
  /** Keys changed since the checkpoint, at most {@link OVERLAY_LIMIT}. */
  readonly overlay: Overlay
}

/**
 * Most keys an overlay holds before a commit folds it into a new checkpoint tree. Most commits then write one row
 * (the commit, with its overlay) whatever the size of the lake; every few commits one writes the tree nodes of all
 * the keys gathered meanwhile.
 */
export const OVERLAY_LIMIT = 8

/**
 * The state of an empty lake.
 */
export const EMPTY_STATE: StateRef = { tree: Tree.emptyRoot, overlay: {} }

function sortedOverlay(o: Record<string, CanonicalValue | null>): Overlay {
  const out: Record<string, CanonicalValue | null> = {}
  for (const k of Object.keys(o).sort()) out[k] = o[k] as CanonicalValue | null
  return Object.freeze(out)
}

function same(a: CanonicalValue | undefined, b: CanonicalValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return canonicalJson(a) === canonicalJson(b)
}

const has = (o: Overlay, k: string): boolean => Object.hasOwn(o, k)

/**
 * Reads and updates lake states (checkpoint tree + overlay). Every read applies the overlay over the tree; `apply`
 * grows the overlay and folds it into the tree once it exceeds {@link OVERLAY_LIMIT}; `diff` compares effective
 * states, skipping shared subtrees of the checkpoints.
 */
export class LakeStates {
  readonly tree: Tree

  constructor(tree: Tree) {
    this.tree = tree
  }

  /** The value of a key, or undefined. */
  async get(s: StateRef, key: string): Promise<CanonicalValue | undefined> {
    if (has(s.overlay, key)) return s.overlay[key] ?? undefined
    return this.tree.get(s.tree, key)
  }

  /** Every entry whose key starts with `prefix`, sorted by key. */
  async entries(s: StateRef, prefix = ''): Promise<[string, CanonicalValue][]> {
    const map = new Map(await this.tree.entries(s.tree, prefix))
    for (const [k, v] of Object.entries(s.overlay)) {
      if (!k.startsWith(prefix)) continue
      if (v === null) map.delete(k)
      else map.set(k, v)
    }
    return [...map].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  }

  /** The state with `changes` applied, and the tree nodes to store with it (none unless the overlay was folded). */
  async apply(
    s: StateRef,
    changes: ReadonlyMap<string, CanonicalValue | null>,
  ): Promise<{ state: StateRef; created: StoredObject[] }> {
    const overlay: Record<string, CanonicalValue | null> = { ...s.overlay }
    for (const [k, v] of changes) overlay[k] = v
    if (Object.keys(overlay).length <= OVERLAY_LIMIT) {
      return { state: { tree: s.tree, overlay: sortedOverlay(overlay) }, created: [] }
    }
    const { root, created } = await this.tree.apply(s.tree, new Map(Object.entries(overlay)))
    return { state: { tree: root, overlay: Object.freeze({}) }, created }
  }

  /** The differences between two states, sorted by key. */
  async diff(a: StateRef, b: StateRef): Promise<TreeDiffEntry[]> {
    const base = await this.tree.diff(a.tree, b.tree)
    if (Object.keys(a.overlay).length === 0 && Object.keys(b.overlay).length === 0) return base
    const byKey = new Map(base.map((d) => [d.key, d]))
    const keys = new Set([...byKey.keys(), ...Object.keys(a.overlay), ...Object.keys(b.overlay)])
    const out: TreeDiffEntry[] = []
    for (const key of keys) {
      const d = byKey.get(key)
      const before = has(a.overlay, key)
        ? (a.overlay[key] ?? undefined)
        : d
          ? d.before
          : await this.tree.get(a.tree, key)
      const after = has(b.overlay, key)
        ? (b.overlay[key] ?? undefined)
        : d
          ? d.after
          : await this.tree.get(b.tree, key)
      if (same(before, after)) continue
      out.push({
        key,
        ...(before !== undefined ? { before } : {}),
        ...(after !== undefined ? { after } : {}),
      })
    }
    return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
  }
}
