import { shortHash } from '../catalog/commit.js'
import type { Commit, RefInfo } from '../catalog/types.js'
import type { ExportResult } from '../lake/lake-types.js'
import { humanBytes } from './format/human-bytes.js'
import type { CliIO } from './io.js'

export { table } from '../lake/text-table.js'

/**
 * Options every command accepts.
 */
export interface OutputOptions {
  readonly json?: boolean
}

/**
 * Prints a command's result: with `--json` exactly one JSON document on stdout, otherwise the human text.
 */
export function emit(io: CliIO, options: OutputOptions, doc: unknown, text: () => string): void {
  if (options.json) io.out(`${JSON.stringify(doc, null, 2)}\n`)
  else {
    const t = text()
    if (t.length > 0) io.out(t.endsWith('\n') ? t : `${t}\n`)
  }
}

/**
 * The JSON form of a commit.
 */
export function commitJson(c: Commit): Record<string, unknown> {
  return {
    hash: c.hash,
    shortHash: shortHash(c.hash),
    parents: c.parents,
    author: c.author,
    message: c.message,
    timestamp: new Date(c.timestamp).toISOString(),
    properties: c.properties,
  }
}

/**
 * The JSON form of a branch or tag.
 */
export function refJson(r: RefInfo, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: r.name,
    kind: r.kind,
    hash: r.head,
    shortHash: shortHash(r.head),
    sealed: r.sealed,
    createdAt: new Date(r.createdAt).toISOString(),
    ...extra,
  }
}

/**
 * One log line per commit, like `git log --oneline` with author and time.
 */
export function commitLine(c: Commit): string {
  const merge = c.parents.length > 1 ? ' (merge)' : ''
  return `${shortHash(c.hash)}  ${new Date(c.timestamp).toISOString()}  ${c.author}  ${c.message}${merge}`
}

/**
 * The JSON form of an export: ref, commit, output path, format, rows and bytes.
 */
export function exportJson(r: ExportResult): Record<string, unknown> {
  return {
    ref: r.plan.ref,
    commit: r.plan.commit,
    output: r.output,
    format: r.format,
    rows: r.rows,
    bytes: r.bytes,
  }
}

/**
 * One line saying what an export wrote.
 */
export function exportText(r: ExportResult): string {
  return `Wrote ${r.rows} ${r.rows === 1 ? 'row' : 'rows'} to ${r.output} (${r.format}, ${humanBytes(r.bytes)}) from ${r.plan.ref}@${shortHash(r.plan.commit)}`
}
