import { shortHash } from '../catalog/commit.js'
import type { RefDiff, TableChange } from '../lake/ref-diff.js'

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

function tableLines(t: TableChange): string[] {
  const sign = t.change === 'added' ? '+' : t.change === 'removed' ? '-' : '~'
  const snap =
    t.change === 'changed'
      ? `snapshot ${t.snapshot.from ?? '-'} -> ${t.snapshot.to ?? '-'}`
      : `snapshot ${(t.change === 'added' ? t.snapshot.to : t.snapshot.from) ?? '-'}`
  const lines = [
    `${sign} table ${t.table}  ${snap}${t.recreated && t.change === 'changed' ? '  (re-created)' : ''}`,
  ]
  const files: string[] = []
  if (t.dataFiles.added > 0 || t.change === 'added')
    files.push(`+${plural(t.dataFiles.added, 'data file')} (+${plural(t.records.added, 'row')})`)
  if (t.dataFiles.removed > 0 || t.change === 'removed')
    files.push(`-${plural(t.dataFiles.removed, 'data file')} (-${plural(t.records.removed, 'row')})`)
  if (t.deleteFiles.added > 0) files.push(`+${plural(t.deleteFiles.added, 'delete file')}`)
  if (t.deleteFiles.removed > 0) files.push(`-${plural(t.deleteFiles.removed, 'delete file')}`)
  if (files.length > 0) lines.push(`    files: ${files.join(', ')}`)
  const s = t.schema
  const schema = [
    ...s.added.map((f) => `+ ${f.name} ${f.type} (id ${f.id})`),
    ...s.dropped.map((f) => `- ${f.name} ${f.type} (id ${f.id})`),
    ...s.renamed.map((f) => `renamed ${f.from} -> ${f.to} (id ${f.id})`),
    ...s.widened.map((f) => `widened ${f.name} ${f.from} -> ${f.to} (id ${f.id})`),
    ...s.requiredChanged.map((f) => `${f.name} now ${f.required ? 'required' : 'optional'} (id ${f.id})`),
  ]
  for (const x of schema) lines.push(`    schema: ${x}`)
  if (t.partitionSpec.changed) {
    const spec = (p: readonly string[]): string => (p.length === 0 ? 'unpartitioned' : p.join(', '))
    lines.push(`    partition spec: ${spec(t.partitionSpec.from)} -> ${spec(t.partitionSpec.to)}`)
  }
  if (t.rows) {
    if (t.rows.added.length > 0) {
      lines.push(`    rows added (${t.rows.added.length} of ${t.records.added}):`)
      for (const r of t.rows.added) lines.push(`      + ${JSON.stringify(r)}`)
    }
    if (t.rows.removed.length > 0) {
      lines.push(`    rows removed (${t.rows.removed.length} of ${t.records.removed}):`)
      for (const r of t.rows.removed) lines.push(`      - ${JSON.stringify(r)}`)
    }
  }
  return lines
}

/**
 * The body of a diff in text: one line per namespace and table (`+` added, `-` removed, `~` changed), and under each
 * table its files and rows added and removed, schema changes by field id, partition spec change, and sample rows.
 */
export function diffBody(d: RefDiff): string[] {
  const lines: string[] = []
  for (const n of d.namespaces.added) lines.push(`+ namespace ${n.namespace}`)
  for (const n of d.namespaces.removed) lines.push(`- namespace ${n.namespace}`)
  for (const n of d.namespaces.changed) lines.push(`~ namespace ${n.namespace}`)
  for (const t of d.tableChanges) lines.push(...tableLines(t))
  return lines
}

/**
 * A diff between two refs in text, starting with a line that states its direction: three-dot, the changes on the
 * described ref since its merge base with the other; two-way, the described ref compared with the other.
 */
export function diffText(d: RefDiff): string {
  const head =
    d.mode === 'three-dot'
      ? `diff ${d.from.ref}...${d.to.ref}: changes on ${d.to.ref} (${shortHash(d.to.hash)}) since its merge base with ${d.from.ref} (${d.before === null ? 'none' : shortHash(d.before)})`
      : `diff ${d.from.ref}..${d.to.ref}: ${d.to.ref} (${shortHash(d.to.hash)}) compared with ${d.from.ref} (${shortHash(d.from.hash)})`
  const body = diffBody(d)
  return [head, ...(body.length > 0 ? body : ['no differences'])].join('\n')
}
