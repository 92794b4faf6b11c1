import { shortHash } from '../catalog/commit.js'
import type { Commit, RefInfo } from '../catalog/types.js'
import type { ExportResult } from '../lake/lake-types.js'
import { humanBytes } from './format/human-bytes.js'
import type { CliIO } from './io.js'

export { table } from '../lake/text-table.js'

/**
 * Options every command accepts.
 *
 * @example
 * ```ts
 * emit(io, { json: true }, doc, () => 'text')
 * ```
 */
export interface OutputOptions {
  readonly json?: boolean
}

/**
 * Prints a command's result: with `--json` exactly one JSON document on stdout, otherwise the human text.
 *
 * @example
 * ```ts
 * emit(io, { json: true }, { ok: true }, () => 'done') // prints {"ok":true}
 * ```
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
 *
 * @example
 * ```ts
 * commitJson(commit).shortHash // '3fa1c2d4e5f6'
 * ```
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
 *
 * @example
 * ```ts
 * refJson(branch, { active: true })
 * ```
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
 *
 * @example
 * ```ts
 * commitLine(commit) // '3fa1c2d4e5f6  2026-01-01T00:00:00.000Z  alice  load orders'
 * ```
 */
export function commitLine(c: Commit): string {
  const merge = c.parents.length > 1 ? ' (merge)' : ''
  return `${shortHash(c.hash)}  ${new Date(c.timestamp).toISOString()}  ${c.author}  ${c.message}${merge}`
}

/**
 * The JSON form of an export: ref, commit, output path, format, rows and bytes.
 *
 * @example
 * ```ts
 * exportJson(result).rows // 5000000
 * ```
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
 *
 * @example
 * ```ts
 * exportText(result) // 'Wrote 5000000 rows to /data/events.parquet (parquet, 48.1 MiB) from main@3fa1c2d4e5f6'
 * ```
 */
export function exportText(r: ExportResult): string {
  return `Wrote ${r.rows} ${r.rows === 1 ? 'row' : 'rows'} to ${r.output} (${r.format}, ${humanBytes(r.bytes)}) from ${r.plan.ref}@${shortHash(r.plan.commit)}`
}
