import { type SqlJsonObject, type SqlJsonValue, type SqlParser, walkSql } from './sql-parser.js'

/**
 * What a filter expression reads, or why it is not a pushable filter.
 */
export type FilterAnalysis =
  | { readonly ok: true; readonly columns: readonly string[] }
  | { readonly ok: false; readonly problem: string }

function isObject(v: SqlJsonValue | undefined): v is SqlJsonObject {
  return v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v)
}

/**
 * Parses a filter (a SQL boolean expression over one table's columns, parameters already substituted) with
 * DuckDB's parser and lists the columns it reads. Subqueries, aggregates' clauses and anything that is not a plain
 * row predicate are refused.
 */
export async function analyzeFilter(parser: SqlParser, filter: string): Promise<FilterAnalysis> {
  if (filter.trim() === '') return { ok: false, problem: 'the filter is empty' }
  const r = await parser.parse(`SELECT * FROM __tarn_filter WHERE ${filter}`)
  if (r.error) return { ok: false, problem: r.message ?? 'cannot parse the filter' }
  const node = r.statements[0]?.node
  const extra =
    r.statements.length !== 1 ||
    !isObject(node) ||
    node.type !== 'SELECT_NODE' ||
    (Array.isArray(node.modifiers) && node.modifiers.length > 0) ||
    (Array.isArray(node.group_expressions) && node.group_expressions.length > 0) ||
    (node.having !== null && node.having !== undefined) ||
    (node.qualify !== null && node.qualify !== undefined) ||
    !isObject(node.from_table) ||
    node.from_table.table_name !== '__tarn_filter'
  if (extra || !isObject(node)) return { ok: false, problem: 'a filter is one boolean expression' }
  const columns = new Set<string>()
  let problem: string | undefined
  walkSql(node.where_clause ?? null, (n) => {
    if (n.class === 'SUBQUERY') problem = 'a filter cannot hold a subquery'
    if (n.class === 'WINDOW') problem = 'a filter cannot hold a window function'
    if (n.class === 'COLUMN_REF' && Array.isArray(n.column_names)) {
      const last = n.column_names[n.column_names.length - 1]
      if (typeof last === 'string') columns.add(last)
    }
  })
  if (problem) return { ok: false, problem }
  return { ok: true, columns: [...columns] }
}
