import type { DuckDBConnection } from '@duckdb/node-api'
import { type AstNode, serializeSql } from '../duckdb/serialize-sql.js'
import { TarnError } from '../util/errors.js'
import type { JsonValue } from '../util/lossless-json.js'
import { oneLineDuckdbMessage } from './duckdb-error.js'

/**
 * One table a query names in a FROM clause (`BASE_TABLE`), before it is qualified against a ref. Plain data.
 */
export interface TableReference {
  /** Position in {@link QueryAnalysis.references}. */
  readonly index: number
  /** The catalog part of a three-part name (`''` when absent). */
  readonly catalog: string
  /** The schema part (`''` when absent): a tarn namespace. */
  readonly schema: string
  readonly name: string
  /** The alias, or `''`. */
  readonly alias: string
  /** Character offset of the reference in the SQL text. */
  readonly location: number | undefined
  /** True when the reference renames its columns (`t AS x(a, b)`): filters are then not pushed down. */
  readonly columnAliases: boolean
}

/**
 * One SELECT block: the table references its FROM clause reads directly (through joins, not subqueries), which of
 * them sit on the nullable side of an outer join, whether every item of the FROM clause is a table reference, and
 * the WHERE clause. Plain data.
 */
export interface SelectScope {
  readonly references: readonly number[]
  readonly nullable: readonly number[]
  /** True when the FROM clause holds nothing but table references (so every unqualified column is theirs). */
  readonly onlyTables: boolean
  readonly where: AstNode | undefined
}

/**
 * What a read-only query reads, found with DuckDB's own parser: its table references, the names its CTEs define,
 * its SELECT blocks, the column names it mentions, and whether it uses `*`. Plain data.
 */
export interface QueryAnalysis {
  readonly references: readonly TableReference[]
  readonly cteNames: readonly string[]
  readonly scopes: readonly SelectScope[]
  /** Every column name mentioned (last part of each column reference), lower-cased. */
  readonly columns: readonly string[]
  /** Relation names (`''` for a bare `*`) the query selects `*` from. */
  readonly stars: readonly string[]
  /**
   * True when the query asks DuckDB's catalog what tables exist (`SHOW TABLES`, `SHOW ALL TABLES`,
   * `information_schema.*`, `pg_catalog.*`, `duckdb_tables()` and the other `duckdb_*` functions): it then runs
   * against a catalog holding every table of the ref.
   */
  readonly catalog: boolean
}

const isNode = (v: JsonValue | undefined): v is AstNode =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && typeof v !== 'bigint'

const str = (v: JsonValue | undefined): string => (typeof v === 'string' ? v : '')

function children(v: JsonValue | undefined): JsonValue[] {
  if (Array.isArray(v)) return v as JsonValue[]
  if (isNode(v)) return Object.values(v).filter((x): x is JsonValue => x !== undefined)
  return []
}

/**
 * The SQL error for DuckDB's parser output, keeping its message and position.
 */
export function sqlError(message: string, sql: string, position?: number): TarnError {
  return new TarnError('SQL_ERROR', message, { sql, ...(position !== undefined ? { position } : {}) })
}

/**
 * DuckDB's `LINE n: ...` excerpt with a caret under a character offset, as DuckDB prints it for binder errors.
 */
export function caretAt(sql: string, position: number): string {
  const before = sql.slice(0, position)
  const line = before.split('\n').length
  const start = before.lastIndexOf('\n') + 1
  const end = sql.indexOf('\n', start)
  const text = sql.slice(start, end < 0 ? undefined : end)
  const prefix = `LINE ${line}: `
  return `${prefix}${text}\n${' '.repeat(prefix.length + position - start)}^`
}

/**
 * One table function a query calls (`read_csv(...)`, `range(...)`): its name (lower case) and character offset.
 * Plain data.
 */
export interface TableFunctionCall {
  readonly name: string
  readonly location: number | undefined
}

/**
 * Every table function a parsed statement calls, in its FROM clauses and subqueries.
 */
export function tableFunctionCalls(statement: JsonValue): TableFunctionCall[] {
  const out: TableFunctionCall[] = []
  const walk = (v: JsonValue | undefined): void => {
    if (Array.isArray(v)) {
      for (const c of v as JsonValue[]) walk(c)
      return
    }
    if (!isNode(v)) return
    if (str(v.type) === 'TABLE_FUNCTION' && isNode(v.function)) {
      const loc = v.function.query_location ?? v.query_location
      out.push({
        name: str(v.function.function_name).toLowerCase(),
        location: typeof loc === 'number' && loc < 2 ** 32 ? loc : undefined,
      })
    }
    for (const c of children(v)) walk(c)
  }
  walk(statement)
  return out
}

function parserError(doc: AstNode, sql: string): TarnError {
  const raw = str(doc.position)
  const pos = raw === '' ? Number.NaN : Number(raw)
  const message = oneLineDuckdbMessage(`Parser Error: ${str(doc.error_message)}`, sql)
  return Number.isFinite(pos)
    ? sqlError(oneLineDuckdbMessage(`${message}\n\n${caretAt(sql, pos)}`, sql), sql, pos)
    : sqlError(message, sql)
}

/**
 * The error for a statement that is not a read-only query.
 */
export function notReadOnly(sql: string, reason?: string): TarnError {
  return new TarnError(
    'QUERY_NOT_ALLOWED',
    `tarn query runs one read-only SELECT statement${reason ? ` (${reason})` : ''}; writes go through imports and runs`,
    { sql },
  )
}

/**
 * Parses `sql` with DuckDB's parser. Throws `SQL_ERROR` (with DuckDB's message and position) for invalid SQL and
 * `QUERY_NOT_ALLOWED` for anything but exactly one SELECT statement (COPY, ATTACH, INSTALL, SET, INSERT, ...).
 */
export async function parseSelect(conn: DuckDBConnection, sql: string): Promise<AstNode> {
  if (sql.includes('\0')) throw notReadOnly(sql, 'NUL characters are not allowed')
  let count: number
  try {
    count = (await conn.extractStatements(sql)).count
  } catch (e) {
    const doc = await serializeSql(conn, sql)
    if (doc.error === true && str(doc.error_type) === 'parser') throw parserError(doc, sql)
    const message = (e instanceof Error ? e.message : String(e)).replace(
      /^Failed to extract statements: /,
      '',
    )
    throw sqlError(oneLineDuckdbMessage(message, sql), sql)
  }
  if (count === 0) throw sqlError('empty query', sql)
  if (count > 1) throw notReadOnly(sql, `found ${count} statements`)
  const doc = await serializeSql(conn, sql)
  if (doc.error === true) {
    if (str(doc.error_type) === 'parser') throw parserError(doc, sql)
    throw notReadOnly(sql)
  }
  const statements = doc.statements
  const first = Array.isArray(statements) ? statements[0] : undefined
  if (!isNode(first)) throw notReadOnly(sql)
  return first
}

const CATALOG_SCHEMAS = new Set(['information_schema', 'pg_catalog'])

function fromItems(
  from: JsonValue | undefined,
  nullable: boolean,
  visit: (ref: AstNode, nullable: boolean) => void,
): boolean {
  if (!isNode(from)) return true
  const type = str(from.type)
  if (type === 'EMPTY') return true
  if (type === 'BASE_TABLE') {
    visit(from, nullable)
    return true
  }
  if (type === 'JOIN') {
    const jt = str(from.join_type)
    const leftNullable = nullable || jt === 'RIGHT' || jt === 'OUTER' || jt === 'FULL'
    const rightNullable = nullable || jt === 'LEFT' || jt === 'OUTER' || jt === 'FULL'
    const l = fromItems(from.left, leftNullable, visit)
    const r = fromItems(from.right, rightNullable, visit)
    return l && r && (jt === 'INNER' || jt === 'LEFT' || jt === 'RIGHT' || jt === 'OUTER' || jt === 'FULL')
  }
  return false
}

/**
 * Finds the tables, CTE names, SELECT blocks and columns of a parsed query (see {@link QueryAnalysis}).
 */
export function analyzeAst(statement: AstNode): QueryAnalysis {
  const references: TableReference[] = []
  const byNode = new Map<AstNode, number>()
  const cteNames = new Set<string>()
  const columns = new Set<string>()
  const stars = new Set<string>()
  const scopes: SelectScope[] = []
  let catalog = false
  const refOf = (n: AstNode): number => {
    const known = byNode.get(n)
    if (known !== undefined) return known
    const loc = n.query_location
    const index = references.length
    references.push({
      index,
      catalog: str(n.catalog_name),
      schema: str(n.schema_name),
      name: str(n.table_name),
      alias: str(n.alias),
      location: typeof loc === 'number' && loc < 2 ** 32 ? loc : undefined,
      columnAliases: Array.isArray(n.column_name_alias) && n.column_name_alias.length > 0,
    })
    byNode.set(n, index)
    return index
  }
  const walk = (v: JsonValue | undefined): void => {
    if (Array.isArray(v)) {
      for (const c of v as JsonValue[]) walk(c)
      return
    }
    if (!isNode(v)) return
    const type = str(v.type)
    if (type === 'BASE_TABLE' && typeof v.table_name === 'string') {
      refOf(v)
      const schema = str(v.schema_name).toLowerCase()
      const name = str(v.table_name).toLowerCase()
      if (CATALOG_SCHEMAS.has(schema) || (schema === '' && /^(duckdb_|pg_|sqlite_master$)/.test(name)))
        catalog = true
    }
    if (type === 'SHOW_REF' && !isNode(v.query)) catalog = true
    if (type === 'TABLE_FUNCTION' && isNode(v.function)) {
      if (/^(duckdb_|pragma_|show_tables)/.test(str(v.function.function_name).toLowerCase())) catalog = true
    }
    if (type === 'COLUMN_REF' && Array.isArray(v.column_names)) {
      const last = v.column_names[v.column_names.length - 1]
      if (typeof last === 'string') columns.add(last.toLowerCase())
    }
    if (type === 'STAR') stars.add(str(v.relation_name).toLowerCase())
    if (isNode(v.cte_map) && Array.isArray(v.cte_map.map)) {
      for (const e of v.cte_map.map) if (isNode(e)) cteNames.add(str(e.key).toLowerCase())
    }
    if (type === 'SELECT_NODE') {
      const refs: number[] = []
      const nullable: number[] = []
      const onlyTables = fromItems(v.from_table, false, (n, isNullable) => {
        const i = refOf(n)
        refs.push(i)
        if (isNullable) nullable.push(i)
      })
      scopes.push({
        references: refs,
        nullable,
        onlyTables,
        where: isNode(v.where_clause) ? v.where_clause : undefined,
      })
    }
    for (const c of children(v)) walk(c)
  }
  walk(statement)
  return { references, cteNames: [...cteNames], scopes, columns: [...columns], stars: [...stars], catalog }
}
