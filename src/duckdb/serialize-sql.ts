import type { DuckDBConnection } from '@duckdb/node-api'
import { TarnError } from '../util/errors.js'
import { type JsonValue, parseJsonLossless, stringifyJsonLossless } from '../util/lossless-json.js'
import { sqlString } from './sql-quote.js'

/**
 * A node of DuckDB's serialized SQL syntax tree (`json_serialize_sql`), read losslessly. Plain data.
 */
export type AstNode = { readonly [key: string]: JsonValue | undefined }

const isNode = (v: JsonValue): v is AstNode =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && typeof v !== 'bigint'

/**
 * DuckDB's syntax tree of `sql` (`json_serialize_sql`), parsed losslessly: integers beyond 2^53 (BIGINT literals,
 * offsets) stay exact as `bigint`. This is tarn's one SQL parser, shared by queries and pipeline planning. It parses
 * and never runs; parse errors come back as a document with `error: true`, never thrown.
 */
export async function serializeSql(conn: DuckDBConnection, sql: string): Promise<AstNode> {
  const reader = await conn.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)}) AS j`)
  const text = reader.getRows()[0]?.[0]
  if (typeof text !== 'string' || text === '')
    throw new TarnError('SQL_ERROR', 'DuckDB could not serialize the query', { sql })
  const doc = parseJsonLossless(text)
  if (!isNode(doc)) throw new TarnError('SQL_ERROR', 'could not parse the query', { sql })
  return doc
}

/**
 * The SQL text of a syntax tree document (`json_deserialize_sql`), written back losslessly: the inverse of
 * {@link serializeSql}.
 */
export async function deserializeSql(conn: DuckDBConnection, doc: JsonValue): Promise<string> {
  const reader = await conn.runAndReadAll('SELECT json_deserialize_sql($1::JSON) AS s', [
    stringifyJsonLossless(doc),
  ])
  return String(reader.getRows()[0]?.[0] ?? '')
}
