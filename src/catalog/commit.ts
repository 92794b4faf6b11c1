import { canonicalJson, sha256Hex } from '../util/canonical.js'
import type { Commit } from './types.js'

/**
 * The fields of a commit that its hash covers.
 */
export type CommitContent = Omit<Commit, 'hash' | 'generation'>

/**
 * Builds an immutable commit: the hash is SHA-256 of the canonical JSON of parents, tree, author, message, timestamp
 * and properties, so equal content always yields the same hash and any change yields another.
 *
 * @example
 * ```ts
 * const c = makeCommit({ parents: [], tree: Tree.emptyRoot, overlay: {}, author: 'a', message: 'init', timestamp: 0, properties: {} }, 1)
 * c.hash.length // 64
 * ```
 */
export function makeCommit(content: CommitContent, generation: number): Commit {
  const hash = sha256Hex(
    canonicalJson({
      v: 1,
      parents: [...content.parents],
      tree: content.tree,
      overlay: { ...content.overlay },
      author: content.author,
      message: content.message,
      timestamp: content.timestamp,
      properties: { ...content.properties },
    }),
  )
  return Object.freeze({
    hash,
    parents: Object.freeze([...content.parents]),
    tree: content.tree,
    overlay: Object.freeze({ ...content.overlay }),
    generation,
    author: content.author,
    message: content.message,
    timestamp: content.timestamp,
    properties: Object.freeze({ ...content.properties }),
  })
}

/**
 * The abbreviated form of a hash shown to people (12 hex characters).
 *
 * @example
 * ```ts
 * shortHash('3fa1c2d4e5f60718293a4b5c6d7e8f90...') // '3fa1c2d4e5f6'
 * ```
 */
export function shortHash(hash: string): string {
  return hash.slice(0, 12)
}
