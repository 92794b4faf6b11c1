export type { AdminRecord, BranchUpdate, CatalogBackend, UpdateBranchOutcome } from './backend.js'
export { PostgresBackend, redactUrl } from './backends/postgres.js'
export { SqliteBackend } from './backends/sqlite.js'
export {
  Catalog,
  type CatalogOptions,
  type CommitRequest,
  DEFAULT_BRANCH,
  DEFAULT_NAMESPACE,
  type LogOptions,
} from './catalog.js'
export { makeCommit, shortHash } from './commit.js'
export { assertIdentifier, assertRefName, parseTableKey, refNameProblem, type TableKey } from './names.js'
export { parseRefSpec, type RefSpec } from './ref-spec.js'
export type {
  DiffMode,
  LakeDiff,
  MergeConflict,
  MergeResult,
  ResolvedRef,
  RevertPlan,
  RevertResult,
  RevertStep,
} from './results.js'
export type {
  TableMergeOutcome,
  TableMergeRequest,
  TableMerger,
  TableReverter,
  TableRevertOutcome,
  TableRevertRequest,
} from './table-merger.js'
export { Tree, type TreeDiffEntry } from './tree.js'
export type * from './types.js'
