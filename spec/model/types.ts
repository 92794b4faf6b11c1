/**
 * The vocabulary of the executable reference model of tarn's Git-for-data semantics (PRODUCT.md, "Semantics that
 * must hold"). Every value is immutable: operations return new states and never touch the old ones.
 */

/**
 * A table name of the model (the bound decides how many exist).
 *
 * @example
 * ```ts
 * const t: TableName = 't1'
 * ```
 */
export type TableName = string

/**
 * The state of one table in one commit. `gen` names the last overwrite (a schema change or a REPLACE write);
 * `files` are the data files appended since, sorted and each present once. Two values are equal when both agree.
 *
 * @example
 * ```ts
 * const v: TableValue = { gen: 'g0', files: ['f1', 'f2'] }
 * ```
 */
export interface TableValue {
  readonly gen: string
  readonly files: readonly string[]
}

/**
 * An immutable, content-addressed commit: its id is a hash of everything else, so a commit can never change
 * without changing its id. `run` is the `tarn.job_id` property of the commits a run writes; `partial` marks the
 * commit of an explicit per-table revert (the warned-about "state no run produced").
 *
 * @example
 * ```ts
 * const root: Commit = { id: 'c0', parents: [], tables: {}, generation: 0 }
 * ```
 */
export interface Commit {
  readonly id: string
  readonly parents: readonly string[]
  readonly tables: Readonly<Record<TableName, TableValue>>
  readonly generation: number
  readonly run?: string
  readonly partial?: true
}

/**
 * A movable named pointer to a commit. A sealed branch is readable but accepts no write and cannot be merged.
 *
 * @example
 * ```ts
 * const main: Branch = { head: 'c0', sealed: false }
 * ```
 */
export interface Branch {
  readonly head: string
  readonly sealed: boolean
}

/**
 * One model of a run's plan: the table it materialises and how (REPLACE is an overwrite, APPEND appends a file).
 *
 * @example
 * ```ts
 * const step: PlanStep = { table: 't1', mode: 'overwrite' }
 * ```
 */
export interface PlanStep {
  readonly table: TableName
  readonly mode: WriteMode
}

/**
 * How a write changes a table: append one new data file, or overwrite the table with a new generation.
 *
 * @example
 * ```ts
 * const mode: WriteMode = 'append'
 * ```
 */
export type WriteMode = 'append' | 'overwrite'

/**
 * The life of a run: running on its run branch, then succeeded (merged) or failed (run branch sealed).
 *
 * @example
 * ```ts
 * const status: RunStatus = 'running'
 * ```
 */
export type RunStatus = 'running' | 'succeeded' | 'failed'

/**
 * A run (one job of a pipeline): forked from `target` into the run branch `branch`, it writes `plan` one step at
 * a time (`commits` are the commits it wrote so far) and then merges into `target` or fails.
 *
 * @example
 * ```ts
 * const run: Run = { id: 'r0', branch: 'run/r0', target: 'main', plan: [], status: 'running', commits: [] }
 * ```
 */
export interface Run {
  readonly id: string
  readonly branch: string
  readonly target: string
  readonly plan: readonly PlanStep[]
  readonly status: RunStatus
  readonly commits: readonly string[]
}

/**
 * The whole lake as the model sees it. `commits` holds every commit ever made (commits are never deleted: garbage
 * collection is out of the model), `branches` and `tags` the refs, `runs` every run started, in start order.
 *
 * @example
 * ```ts
 * import { initialState } from './lake-model.js'
 * const s: LakeState = initialState(['t1'])
 * ```
 */
export interface LakeState {
  readonly commits: ReadonlyMap<string, Commit>
  readonly branches: ReadonlyMap<string, Branch>
  readonly tags: ReadonlyMap<string, string>
  readonly runs: readonly Run[]
}

/**
 * The operations of the model. Commits are named the way a user names them in a log: `branch~back` (first-parent
 * steps back from the head). `revert` with a `table` is the explicit per-table revert (`tarn revert --table`).
 *
 * @example
 * ```ts
 * const op: Op = { kind: 'write', branch: 'main', table: 't1', mode: 'append' }
 * ```
 */
export type Op =
  | { readonly kind: 'createBranch'; readonly name: string; readonly from: string }
  | { readonly kind: 'deleteBranch'; readonly name: string }
  | { readonly kind: 'tag'; readonly name: string; readonly from: string }
  | { readonly kind: 'write'; readonly branch: string; readonly table: TableName; readonly mode: WriteMode }
  | { readonly kind: 'merge'; readonly source: string; readonly into: string }
  | {
      readonly kind: 'revert'
      readonly on: string
      readonly back: number
      readonly table?: TableName
    }
  | { readonly kind: 'startRun'; readonly target: string; readonly plan: readonly PlanStep[] }
  | { readonly kind: 'runWrite'; readonly run: string }
  | { readonly kind: 'runFinish'; readonly run: string; readonly success: boolean }

/**
 * What an operation returned. A failed operation leaves the state unchanged. `warning` is printed to the user
 * (the per-table revert of a multi-table commit).
 *
 * @example
 * ```ts
 * const conflict: Outcome = { ok: false, code: 'MERGE_CONFLICT', tables: ['t1'] }
 * ```
 */
export type Outcome =
  | { readonly ok: true; readonly kind: string; readonly warning?: string }
  | { readonly ok: false; readonly code: string; readonly tables?: readonly TableName[] }
