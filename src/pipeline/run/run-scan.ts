import type { DuckDBConnection } from '@duckdb/node-api'
import { quoteIdent } from '../../duckdb/sql-quote.js'
import { pushdownFilters } from '../../engine/filter-pushdown.js'
import { analyzeAst, parseSelect } from '../../engine/sql-analysis.js'
import type { Expression } from '../../iceberg/expression.js'
import { planScan, type ScanPlan } from '../../iceberg/scan-planner.js'
import type { Schema } from '../../iceberg/schema.js'
import type { LoadedTable } from '../../iceberg/table-loader.js'
import { currentSchema } from '../../iceberg/table-metadata.js'
import { scanSql } from '../../iceberg/table-reader.js'
import type { ScanNode } from '../physical-plan.js'
import type { ScanRecord } from './job-record.js'

/**
 * The Iceberg filter a scan's SQL filter (the disjunction of its readers' filters) lets the planner prune files
 * with, or undefined when no part of it can be pushed (pruning is conservative: the readers still apply their own
 * filters to the rows).
 */
export async function scanFilterExpression(
  conn: DuckDBConnection,
  filter: string,
  schema: Schema,
): Promise<Expression | undefined> {
  try {
    const analysis = analyzeAst(await parseSelect(conn, `SELECT * FROM __tarn_scan WHERE ${filter}`))
    return pushdownFilters(analysis, new Map([[0, schema]])).get(0)
  } catch {
    // A filter DuckDB cannot analyse on its own prunes nothing; the models still apply it.
    return undefined
  }
}

const dataBytes = (plan: ScanPlan): number =>
  plan.tasks.reduce((a, t) => a + t.dataFile.dataFile.fileSizeInBytes, 0)

/**
 * Plans one scan of a run as its physical plan says: files pruned by the scan's pushed-down filter (partition
 * values and column bounds), only the pushed-down columns selected. Returns the SQL that reads the kept files (only
 * they are opened, or fetched from S3), their rows, and what was kept of the table.
 */
export async function runScan(
  table: LoadedTable,
  node: ScanNode | undefined,
  conn: DuckDBConnection,
): Promise<{ sql: string; rows: number; record: ScanRecord; files: readonly string[] }> {
  const schema = currentSchema(table.metadata)
  const filter =
    node?.filter !== null && node?.filter !== undefined
      ? await scanFilterExpression(conn, node.filter, schema)
      : undefined
  const plan = await planScan(table, filter ? { filter } : {})
  // The totals come from an unfiltered plan (manifests are cached, so this reads no file again).
  const all = filter ? await planScan(table) : plan
  const body = await scanSql(table, plan, conn)
  const have = new Set(plan.schema.fields.map((f) => f.name.toLowerCase()))
  const columns = node?.columns?.filter((c) => have.has(c.toLowerCase())) ?? null
  const sql =
    columns === null || columns.length === 0
      ? body
      : `SELECT ${columns.map((c) => quoteIdent(c)).join(', ')} FROM (${body}) AS scan`
  return {
    sql,
    files: plan.tasks.flatMap((t) => [t.dataFile, ...t.deletes].map((e) => e.dataFile.filePath)),
    rows: plan.tasks.reduce((a, t) => a + t.dataFile.dataFile.recordCount, 0),
    record: {
      filesKept: plan.tasks.length,
      filesTotal: all.totalDataFiles,
      bytesKept: dataBytes(plan),
      bytesTotal: dataBytes(all),
      columns: columns === null || columns.length === 0 ? null : columns,
      filter: node?.filter ?? null,
      pushedFilter: filter !== undefined,
    },
  }
}
