import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import { openDuckDB } from '../duckdb/open-duckdb.js'
import { deserializeSql, serializeSql } from '../duckdb/serialize-sql.js'
import { TarnError } from '../util/errors.js'
import type { JsonValue } from '../util/lossless-json.js'
import { stripOuterParens } from './conjuncts.js'

/**
 * DuckDB's own SQL parser, reached through `json_serialize_sql` in an in-memory DuckDB: it parses and never runs.
 * The tree is read losslessly (tarn's one parser, `duckdb/serialize-sql.ts`): BIGINT literals beyond 2^53 stay exact.
 */
export interface SqlParser {
  /** The parse tree as JSON (`{ error: false, statements: [...] }` or `{ error: true, error_message }`). */
  parse(sql: string): Promise<SqlParseResult>
  /**
   * The SQL text of a boolean expression of a parse tree (DuckDB's `json_deserialize_sql`), column references
   * unqualified: the filter a scan of one table applies.
   */
  expressionSql(expression: SqlJsonObject): Promise<string>
  close(): void
}

/**
 * A JSON value of a parse tree.
 */
export type SqlJsonValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | SqlJsonValue[]
  | { [key: string]: SqlJsonValue }

/**
 * A JSON object of a parse tree.
 */
export type SqlJsonObject = { [key: string]: SqlJsonValue }

/**
 * The result of `json_serialize_sql`.
 */
export interface SqlParseResult {
  readonly error: boolean
  readonly message: string | null
  /** Character offset of a syntax error, when DuckDB reports one. */
  readonly position: number | null
  /** True when the text parses but holds a statement other than SELECT (ATTACH, COPY, SET, INSTALL, ...). */
  readonly notSelect?: boolean
  /** Statements in the text, when DuckDB could split it (-1 when not). */
  readonly count?: number
  readonly statements: readonly SqlJsonObject[]
}

/**
 * Opens a parser over `connection` (which stays open: the caller owns it), or else over a fresh in-memory DuckDB
 * (one per project load, closed with the parser).
 */
export async function openSqlParser(connection?: DuckDBConnection): Promise<SqlParser> {
  const instance = connection ? null : await openDuckDB()
  const conn: DuckDBConnection = connection ?? (await (instance as DuckDBInstance).connect())
  const parser: SqlParser = {
    async parse(sql) {
      let count = -1
      try {
        count = (await conn.extractStatements(sql)).count
      } catch {
        // a syntax error: the serializer below reports it with its position
      }
      const doc = (await serializeSql(conn, sql)) as SqlJsonObject
      if (doc.error === true) {
        const pos = Number(doc.position)
        const parser = doc.error_type === 'parser'
        return {
          error: true,
          message: String(doc.error_message ?? 'cannot parse the SQL'),
          position: parser && doc.position !== undefined && Number.isFinite(pos) ? pos : null,
          notSelect: !parser && count >= 1,
          count,
          statements: [],
        }
      }
      const statements = Array.isArray(doc.statements) ? (doc.statements as SqlJsonObject[]) : []
      return { error: false, message: null, position: null, count, statements }
    },
    async expressionSql(expression) {
      const template = await parser.parse('SELECT * FROM __tarn_filter WHERE __tarn_where')
      const statement = template.statements[0] as SqlJsonObject
      const node = statement.node as SqlJsonObject
      node.where_clause = portable(expression)
      const doc = { error: false, statements: [statement] }
      const text = await deserializeSql(conn, doc as JsonValue)
      const prefix = 'SELECT * FROM __tarn_filter WHERE '
      if (!text.startsWith(prefix))
        throw new TarnError('INTERNAL', `DuckDB wrote a filter back in an unexpected form: ${text}`, {
          sql: text,
        })
      return stripOuterParens(text.slice(prefix.length))
    },
    close() {
      if (!instance) return
      conn.closeSync()
      instance.closeSync()
    },
  }
  return parser
}

/**
 * Line (1-based) of a byte offset of DuckDB's parse tree in `text`.
 */
export function lineAtByte(text: string, byteOffset: number): number {
  const bytes = Buffer.from(text, 'utf8')
  const end = Math.min(Math.max(0, byteOffset), bytes.length)
  let line = 1
  for (let i = 0; i < end; i++) if (bytes[i] === 10) line++
  return line
}

/**
 * Calls `visit` on every object of a parse tree, with the names of the CTEs in scope there.
 */
export function walkSql(
  node: SqlJsonValue,
  visit: (node: SqlJsonObject, ctes: ReadonlySet<string>) => void,
  ctes: ReadonlySet<string> = new Set(),
): void {
  if (Array.isArray(node)) {
    for (const n of node) walkSql(n, visit, ctes)
    return
  }
  if (node === null || typeof node !== 'object') return
  let scope = ctes
  const cteMap = node.cte_map
  if (cteMap && typeof cteMap === 'object' && !Array.isArray(cteMap) && Array.isArray(cteMap.map)) {
    const names = cteMap.map.flatMap((e) =>
      e && typeof e === 'object' && !Array.isArray(e) && typeof e.key === 'string'
        ? [e.key.toLowerCase()]
        : [],
    )
    if (names.length > 0) scope = new Set([...ctes, ...names])
  }
  visit(node, scope)
  for (const v of Object.values(node)) walkSql(v, visit, scope)
}

/** A copy of an expression with unqualified column references. */
function portable(v: SqlJsonValue): SqlJsonValue {
  if (Array.isArray(v)) return v.map(portable)
  if (v === null || typeof v !== 'object') return v
  const out: SqlJsonObject = {}
  for (const [k, x] of Object.entries(v)) out[k] = portable(x)
  if (out.class === 'COLUMN_REF' && Array.isArray(out.column_names))
    out.column_names = out.column_names.slice(-1)
  return out
}
