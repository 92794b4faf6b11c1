import type { Table } from 'apache-arrow'
import { plainValue } from '../duckdb/arrow-convert.js'
import type { QueryPlan } from './query-plan.js'

/**
 * The result of a query: the plan it ran with and the rows as an Apache Arrow table.
 *
 * @example
 * ```ts
 * const result = await engine.query('SELECT 1 AS x')
 * result.table.numRows // 1
 * result.rows() // [{ x: 1 }]
 * ```
 */
export class QueryResult {
  readonly plan: QueryPlan
  readonly table: Table

  constructor(plan: QueryPlan, table: Table) {
    this.plan = plan
    this.table = table
  }

  /** Number of rows. */
  get numRows(): number {
    return this.table.numRows
  }

  /**
   * The rows as plain objects keyed by column name (BIGINT as bigint, dates and timestamps as `Date`, decimals as
   * numbers).
   *
   * @example
   * ```ts
   * for (const row of result.rows()) console.log(row.n)
   * ```
   */
  rows(): Record<string, unknown>[] {
    const fields = this.table.schema.fields
    const columns = fields.map((f) => this.table.getChild(f.name))
    const out: Record<string, unknown>[] = []
    for (let i = 0; i < this.table.numRows; i++) {
      const row: Record<string, unknown> = {}
      fields.forEach((f, c) => {
        row[f.name] = plainValue(columns[c]?.get(i), f.type)
      })
      out.push(row)
    }
    return out
  }
}
