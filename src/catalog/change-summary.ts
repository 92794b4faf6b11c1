import { parseEntryKey } from './entries.js'
import type { MergeResult } from './results.js'

/**
 * The tables and namespaces that tree keys name, each list sorted, with the tables a table merger combined.
 */
export function summarizeChanges(
  keys: readonly string[],
  combined: readonly string[],
): MergeResult['changes'] {
  const tables: string[] = []
  const namespaces: string[] = []
  for (const k of keys) {
    const e = parseEntryKey(k)
    if (e.kind === 'table') tables.push(e.key)
    else namespaces.push(e.name)
  }
  return { tables: tables.sort(), namespaces: namespaces.sort(), combined: [...combined].sort() }
}
