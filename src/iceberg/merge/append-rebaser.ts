import type { LoadedTable } from '../table-loader.js'
import { type CommitResult, commitSnapshot, type WriterDeps } from '../writer/snapshot-producer.js'
import { appendOnlyChange } from './append-lineage.js'

/**
 * The outcome of rebasing an append: the same files appended on top of the newer table state, or why that is
 * impossible (the table changed by more than appends meanwhile).
 */
export type AppendRebaseOutcome =
  | { readonly kind: 'rebased'; readonly result: CommitResult }
  | { readonly kind: 'conflict'; readonly reason: string }

/**
 * Rebases an append that lost a race: `ours` appended data files to `base`, and meanwhile the table became `head`.
 * When both only appended since `base`, the result is one new `append` snapshot on top of `head` that adds the data
 * files `ours` added (no data is copied), with `summary` (e.g. import fingerprints) as its summary properties.
 * Anything else (a replace, delete, schema or spec change on either side) is a conflict.
 */
export async function rebaseAppend(
  base: LoadedTable,
  ours: LoadedTable,
  head: LoadedTable,
  summary: Readonly<Record<string, string>>,
  deps: WriterDeps,
): Promise<AppendRebaseOutcome> {
  const [mine, theirs] = await Promise.all([appendOnlyChange(base, ours), appendOnlyChange(base, head)])
  if (!mine.appendOnly) return { kind: 'conflict', reason: `this write made ${mine.reason}` }
  if (!theirs.appendOnly) return { kind: 'conflict', reason: `the table got ${theirs.reason} meanwhile` }
  const result = await commitSnapshot(
    head,
    {
      operation: 'append',
      added: mine.added.map((e) => e.dataFile),
      removed: [],
      ...(Object.keys(summary).length > 0 ? { summary } : {}),
    },
    deps,
  )
  return { kind: 'rebased', result }
}
