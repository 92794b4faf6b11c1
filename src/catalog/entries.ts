import { type CanonicalValue, canonicalJson } from '../util/canonical.js'
import type { NamespaceState, TableState } from './types.js'

/**
 * How namespaces and tables are keyed in a commit's tree: `n/<namespace>` and `t/<namespace>.<table>`.
 */
export const entryKey = {
  namespace: (name: string): string => `n/${name}`,
  table: (key: string): string => `t/${key}`,
}

/**
 * The parsed form of a tree key.
 */
export type EntryRef =
  | { readonly kind: 'namespace'; readonly name: string }
  | { readonly kind: 'table'; readonly key: string }

/**
 * Parses a tree key back into what it names.
 */
export function parseEntryKey(k: string): EntryRef {
  return k.startsWith('n/') ? { kind: 'namespace', name: k.slice(2) } : { kind: 'table', key: k.slice(2) }
}

/**
 * Encodes a table state as the tree value.
 */
export function tableValue(s: TableState): CanonicalValue {
  return {
    metadataLocation: s.metadataLocation,
    snapshotId: s.snapshotId,
    schemaId: s.schemaId,
    tableUuid: s.tableUuid,
  }
}

/**
 * Decodes a tree value into a table state.
 */
export function asTableState(v: CanonicalValue): TableState {
  const o = v as Record<string, CanonicalValue>
  return Object.freeze({
    metadataLocation: o.metadataLocation as string,
    snapshotId: (o.snapshotId ?? null) as string | null,
    schemaId: o.schemaId as number,
    tableUuid: o.tableUuid as string,
  })
}

/**
 * Encodes a namespace state as the tree value.
 */
export function namespaceValue(s: NamespaceState): CanonicalValue {
  return { properties: { ...s.properties } }
}

/**
 * Decodes a tree value into a namespace state.
 */
export function asNamespaceState(v: CanonicalValue): NamespaceState {
  const o = v as { properties?: Record<string, string> }
  return Object.freeze({ properties: Object.freeze({ ...(o.properties ?? {}) }) })
}

/**
 * True when two tree values (or their absence) are the same: both absent, or equal canonical JSON.
 */
export function sameEntryValue(a: CanonicalValue | undefined, b: CanonicalValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return canonicalJson(a) === canonicalJson(b)
}
