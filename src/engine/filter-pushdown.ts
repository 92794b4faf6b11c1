import type { AstNode } from '../duckdb/serialize-sql.js'
import type { Expression, JsonValue, Literal, Schema } from '../iceberg/index.js'
import type { QueryAnalysis, SelectScope, TableReference } from './sql-analysis.js'

type Lit =
  | { readonly kind: 'int'; readonly value: number | bigint }
  | { readonly kind: 'decimal'; readonly value: string }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'string' | 'date' | 'timestamp' | 'timestamptz'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }

type Op = 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte'

const COMPARISONS: Readonly<Record<string, Op>> = {
  COMPARE_EQUAL: 'eq',
  COMPARE_NOTEQUAL: 'neq',
  COMPARE_LESSTHAN: 'lt',
  COMPARE_GREATERTHAN: 'gt',
  COMPARE_LESSTHANOREQUALTO: 'lte',
  COMPARE_GREATERTHANOREQUALTO: 'gte',
}
const FLIPPED: Readonly<Record<Op, Op>> = { eq: 'eq', neq: 'neq', lt: 'gt', gt: 'lt', lte: 'gte', gte: 'lte' }
const INT_TYPES = new Set([
  'TINYINT',
  'SMALLINT',
  'INTEGER',
  'BIGINT',
  'HUGEINT',
  'UTINYINT',
  'USMALLINT',
  'UINTEGER',
  'UBIGINT',
])
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/
const TS_RE = /^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?$/
const TSTZ_RE =
  /^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?$/

const isNode = (v: JsonValue | undefined): v is AstNode =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && typeof v !== 'bigint'
const str = (v: JsonValue | undefined): string => (typeof v === 'string' ? v : '')

function constantOf(n: AstNode): Lit | undefined {
  if (str(n.type) !== 'VALUE_CONSTANT' || !isNode(n.value) || n.value.is_null === true) return undefined
  const t = isNode(n.value.type) ? str(n.value.type.id) : ''
  const v = n.value.value
  if (INT_TYPES.has(t) && (typeof v === 'number' || typeof v === 'bigint')) return { kind: 'int', value: v }
  if ((t === 'DOUBLE' || t === 'FLOAT') && typeof v === 'number') return { kind: 'float', value: v }
  if (t === 'DECIMAL' && (typeof v === 'number' || typeof v === 'bigint')) {
    const info = isNode(n.value.type) && isNode(n.value.type.type_info) ? n.value.type.type_info : {}
    const scale = typeof info.scale === 'number' ? info.scale : 0
    const digits = BigInt(v)
    const neg = digits < 0n
    const abs = (neg ? -digits : digits).toString().padStart(scale + 1, '0')
    const text = scale > 0 ? `${abs.slice(0, abs.length - scale)}.${abs.slice(abs.length - scale)}` : abs
    return { kind: 'decimal', value: neg ? `-${text}` : text }
  }
  if (t === 'VARCHAR' && typeof v === 'string') return { kind: 'string', value: v }
  if (t === 'BOOLEAN' && typeof v === 'boolean') return { kind: 'bool', value: v }
  return undefined
}

function literalOf(n: JsonValue | undefined): Lit | undefined {
  if (!isNode(n)) return undefined
  if (str(n.class) === 'CONSTANT') return constantOf(n)
  if (str(n.class) !== 'CAST' || n.try_cast === true || !isNode(n.child) || !isNode(n.cast_type))
    return undefined
  const inner = literalOf(n.child)
  if (inner?.kind !== 'string') return undefined
  const to = str(n.cast_type.id)
  const s = inner.value.trim()
  if (to === 'DATE' && DATE_RE.test(s)) return { kind: 'date', value: s }
  if (to === 'TIMESTAMP' && TS_RE.test(s)) return { kind: 'timestamp', value: s }
  if (to === 'TIMESTAMP WITH TIME ZONE' && TSTZ_RE.test(s)) return { kind: 'timestamptz', value: s }
  if (to === 'VARCHAR') return inner
  if (to === 'BOOLEAN' && ['t', 'true', 'f', 'false'].includes(s.toLowerCase()))
    return { kind: 'bool', value: s.toLowerCase().startsWith('t') }
  return undefined
}

/** The literal as a value of an Iceberg column type, or undefined when DuckDB might compare it differently. */
function valueFor(type: string, lit: Lit): Literal | undefined {
  if (type === 'int' || type === 'long') return lit.kind === 'int' ? lit.value : undefined
  if (type === 'float' || type === 'double') {
    if (lit.kind === 'int' || lit.kind === 'float') return Number(lit.value)
    if (lit.kind === 'decimal') return Number(lit.value)
    return undefined
  }
  if (type.startsWith('decimal(')) {
    if (lit.kind === 'int') return lit.value.toString()
    return lit.kind === 'decimal' ? lit.value : undefined
  }
  if (type === 'string' || type === 'uuid') return lit.kind === 'string' ? lit.value : undefined
  if (type === 'boolean') return lit.kind === 'bool' ? lit.value : undefined
  if (type === 'date') {
    if (lit.kind === 'date' || (lit.kind === 'string' && DATE_RE.test(lit.value.trim())))
      return lit.value.trim()
    return undefined
  }
  if (type === 'timestamp' || type === 'timestamp_ns') {
    if (lit.kind === 'date' || lit.kind === 'timestamp') return lit.value
    return lit.kind === 'string' && TS_RE.test(lit.value.trim()) ? lit.value.trim() : undefined
  }
  if (type === 'timestamptz' || type === 'timestamptz_ns') {
    if (lit.kind === 'date' || lit.kind === 'timestamp' || lit.kind === 'timestamptz') return lit.value
    return lit.kind === 'string' && TSTZ_RE.test(lit.value.trim()) ? lit.value.trim() : undefined
  }
  return undefined
}

function nextDay(day: string): string {
  const t = Date.parse(`${day}T00:00:00Z`) + 86_400_000
  return new Date(t).toISOString().slice(0, 10)
}

/** How a column reference of the WHERE clause binds: the referenced table's column name, or undefined. */
type ColumnBinder = (node: AstNode) => { readonly name: string; readonly type: string } | undefined

function toExpression(e: AstNode, bind: ColumnBinder): Expression | undefined {
  const type = str(e.type)
  if (type === 'CONJUNCTION_AND' && Array.isArray(e.children)) {
    const args = e.children.filter(isNode).map((c) => toExpression(c, bind))
    const kept = args.filter((a): a is Expression => a !== undefined)
    if (kept.length === 0) return undefined
    return kept.length === 1 ? kept[0] : { op: 'and', args: kept }
  }
  if (type === 'CONJUNCTION_OR' && Array.isArray(e.children)) {
    const args = e.children.filter(isNode).map((c) => toExpression(c, bind))
    if (args.length === 0 || args.some((a) => a === undefined)) return undefined
    return { op: 'or', args: args as Expression[] }
  }
  if ((type === 'OPERATOR_IS_NULL' || type === 'OPERATOR_IS_NOT_NULL') && Array.isArray(e.children)) {
    const c = e.children[0]
    const col = isNode(c) && str(c.class) === 'COLUMN_REF' ? bind(c) : undefined
    if (!col) return undefined
    return { op: type === 'OPERATOR_IS_NULL' ? 'isNull' : 'notNull', column: col.name }
  }
  if (type === 'COMPARE_IN' && Array.isArray(e.children)) {
    const [c, ...rest] = e.children
    const col = isNode(c) && str(c.class) === 'COLUMN_REF' ? bind(c) : undefined
    if (!col) return undefined
    const values = rest.map((r) => {
      const lit = literalOf(r)
      return lit ? valueFor(col.type, lit) : undefined
    })
    if (values.length === 0 || values.some((v) => v === undefined)) return undefined
    return { op: 'in', column: col.name, values: values as Literal[] }
  }
  if (type === 'COMPARE_BETWEEN' && isNode(e.input)) {
    const lower = toExpression({ type: 'COMPARE_GREATERTHANOREQUALTO', left: e.input, right: e.lower }, bind)
    const upper = toExpression({ type: 'COMPARE_LESSTHANOREQUALTO', left: e.input, right: e.upper }, bind)
    const both = [lower, upper].filter((x): x is Expression => x !== undefined)
    if (both.length === 0) return undefined
    return both.length === 1 ? both[0] : { op: 'and', args: both }
  }
  const op = COMPARISONS[type]
  if (op === undefined) return undefined
  const sides: [JsonValue | undefined, JsonValue | undefined, Op][] = [
    [e.left, e.right, op],
    [e.right, e.left, FLIPPED[op]],
  ]
  for (const [c, l, o] of sides) {
    if (!isNode(c)) continue
    const lit = literalOf(l)
    if (!lit) continue
    if (str(c.class) === 'COLUMN_REF') {
      const col = bind(c)
      const value = col ? valueFor(col.type, lit) : undefined
      if (col && value !== undefined) return { op: o, column: col.name, value }
    }
    // CAST(ts AS DATE) <op> DATE 'd' on a timestamp column (the session time zone is UTC)
    if (
      str(c.class) === 'CAST' &&
      c.try_cast !== true &&
      isNode(c.cast_type) &&
      str(c.cast_type.id) === 'DATE' &&
      isNode(c.child) &&
      str(c.child.class) === 'COLUMN_REF' &&
      (lit.kind === 'date' || (lit.kind === 'string' && DATE_RE.test(lit.value)))
    ) {
      const col = bind(c.child)
      if (!col || !/^timestamp/.test(col.type)) continue
      const d = lit.value.trim()
      switch (o) {
        case 'eq':
          return {
            op: 'and',
            args: [
              { op: 'gte', column: col.name, value: d },
              { op: 'lt', column: col.name, value: nextDay(d) },
            ],
          }
        case 'gte':
        case 'lt':
          return { op: o, column: col.name, value: d }
        case 'gt':
          return { op: 'gte', column: col.name, value: nextDay(d) }
        case 'lte':
          return { op: 'lt', column: col.name, value: nextDay(d) }
        default:
          return undefined
      }
    }
  }
  return undefined
}

function binderFor(
  ref: TableReference,
  scope: SelectScope,
  references: readonly TableReference[],
  schemas: ReadonlyMap<number, Schema>,
): ColumnBinder {
  const schema = schemas.get(ref.index)
  const find = (s: Schema | undefined, name: string) =>
    s?.fields.find((f) => f.name.toLowerCase() === name.toLowerCase() && typeof f.type === 'string')
  const exposed = (r: TableReference): string => (r.alias !== '' ? r.alias : r.name).toLowerCase()
  return (node) => {
    const parts = Array.isArray(node.column_names) ? node.column_names.map((p) => str(p)) : []
    if (parts.length === 0 || parts.length > 2) return undefined
    const column = parts[parts.length - 1] as string
    if (parts.length === 2) {
      const qualifier = (parts[0] as string).toLowerCase()
      const owners = scope.references.filter((i) => exposed(references[i] as TableReference) === qualifier)
      if (owners.length !== 1 || owners[0] !== ref.index) return undefined
    } else {
      if (!scope.onlyTables) return undefined
      if (scope.references.some((i) => !schemas.has(i))) return undefined
      const owners = scope.references.filter((i) => find(schemas.get(i), column) !== undefined)
      const anyField = (i: number): boolean =>
        schemas.get(i)?.fields.some((f) => f.name.toLowerCase() === column.toLowerCase()) ?? false
      if (scope.references.filter(anyField).length !== 1 || owners[0] !== ref.index) return undefined
    }
    const f = find(schema, column)
    return f ? { name: f.name, type: f.type as string } : undefined
  }
}

/**
 * The filter each table reference's WHERE clause lets us push into its scan (for pruning files only: the query
 * still applies every predicate). `undefined` means "no restriction". Conservative: only comparisons, IN, BETWEEN
 * and IS [NOT] NULL of a column of the reference with a constant of a compatible type (plus `CAST(ts AS DATE)`
 * comparisons) are pushed, never into the nullable side of an outer join nor through column aliases; unknown
 * conjuncts are dropped and an OR with an unknown branch is dropped whole.
 */
export function pushdownFilters(
  analysis: QueryAnalysis,
  schemas: ReadonlyMap<number, Schema>,
): Map<number, Expression | undefined> {
  const out = new Map<number, Expression | undefined>()
  const seen = new Set<number>()
  for (const scope of analysis.scopes) {
    for (const i of scope.references) {
      seen.add(i)
      const ref = analysis.references[i] as TableReference
      if (!schemas.has(i) || ref.columnAliases || scope.nullable.includes(i) || !scope.where) {
        out.set(i, undefined)
        continue
      }
      out.set(i, toExpression(scope.where, binderFor(ref, scope, analysis.references, schemas)))
    }
  }
  for (const r of analysis.references) if (!seen.has(r.index)) out.set(r.index, undefined)
  return out
}
