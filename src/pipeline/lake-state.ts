/**
 * One lake table as the planner needs it: its columns and the source columns of its partition spec.
 *
 * @example
 * ```ts
 * const t: LakeTableInfo = { columns: ['pickup_ts', 'fare'], partitionColumns: ['pickup_ts'] }
 * ```
 */
export interface LakeTableInfo {
  readonly columns: readonly string[]
  readonly partitionColumns: readonly string[]
}

/**
 * The tables of the lake at the run's ref, keyed `namespace.table`, as plain data (the CLI fills it from the
 * catalog; tests write it by hand).
 *
 * @example
 * ```ts
 * const lake: PlanLakeState = { tables: { 'tarn.trips': { columns: ['fare'], partitionColumns: [] } } }
 * ```
 */
export interface PlanLakeState {
  readonly tables: Readonly<Record<string, LakeTableInfo>>
  /**
   * The namespaces the plan writes that exist at the ref (when known): a run creates the others, in the commit of
   * the first model it writes there.
   */
  readonly namespaces?: readonly string[]
  /**
   * For a table key the plan needs that is missing at the ref: the qualified names of tables with the same name in
   * other namespaces (`report.trips` → `['tarn.trips']`), which errors suggest.
   */
  readonly elsewhere?: Readonly<Record<string, readonly string[]>>
}
