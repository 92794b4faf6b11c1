import { quoteIdent } from '../../duckdb/sql-quote.js'
import type { Expression, Literal } from '../../iceberg/index.js'
import type { QueryPlan } from '../../lake/lake-types.js'
import { humanBytes } from './human-bytes.js'

function literalText(v: Literal): string {
  if (typeof v === 'string') return `'${v.replace(/'/g, "''")}'`
  if (v instanceof Date) return `'${v.toISOString()}'`
  return String(v)
}

/**
 * A filter as SQL-like text.
 */
export function expressionText(e: Expression): string {
  const ops = { eq: '=', neq: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const
  switch (e.op) {
    case 'true':
      return 'TRUE'
    case 'and':
      return e.args.map((a) => (a.op === 'or' ? `(${expressionText(a)})` : expressionText(a))).join(' AND ')
    case 'or':
      return e.args.map((a) => (a.op === 'and' ? `(${expressionText(a)})` : expressionText(a))).join(' OR ')
    case 'not':
      return `NOT (${expressionText(e.arg)})`
    case 'isNull':
      return `${quoteIdent(e.column)} IS NULL`
    case 'notNull':
      return `${quoteIdent(e.column)} IS NOT NULL`
    case 'in':
      return `${quoteIdent(e.column)} IN (${e.values.map(literalText).join(', ')})`
    default:
      return `${quoteIdent(e.column)} ${ops[e.op]} ${literalText(e.value)}`
  }
}

/**
 * The text `tarn query --explain` prints: the ref and commit, then one block per table scan.
 */
export function explainText(plan: QueryPlan): string {
  const lines = [`query at ${plan.ref} (commit ${plan.commit.slice(0, 12)})`]
  if (plan.tables.length === 0) lines.push('  reads no lake tables')
  for (const t of plan.tables) {
    lines.push(
      `scan ${t.table}${t.names.some((n) => n !== t.table) ? ` (as ${t.names.join(', ')})` : ''}`,
      `  snapshot  ${t.snapshotId ?? 'none (empty table)'}`,
      `  files     ${t.filesKept} of ${t.filesTotal} kept${t.deleteFiles > 0 ? `, ${t.deleteFiles} delete files` : ''}`,
      `  rows      ${t.rowsToRead}`,
      `  bytes     ${humanBytes(t.bytesToRead)}`,
      `  columns   ${t.columns.length > 0 ? t.columns.join(', ') : '(none)'}`,
      `  filter    ${t.filter ? expressionText(t.filter) : '(none)'}`,
    )
  }
  return lines.join('\n')
}

/**
 * The JSON form of a plan (literals that are bigints become strings).
 */
export function planJson(plan: QueryPlan): unknown {
  return JSON.parse(JSON.stringify(plan, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
}
