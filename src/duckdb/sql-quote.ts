import { TarnError } from '../util/errors.js'

/**
 * Quotes an SQL identifier for DuckDB (doubling embedded quotes): the one way tarn names a table, view, schema,
 * database or column in SQL it builds.
 */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/**
 * Quotes a string literal for DuckDB (doubling embedded quotes): the one way tarn puts a path, a setting or a value
 * into SQL it builds. Refuses NUL characters, which DuckDB would cut the literal at.
 */
export function sqlString(s: string): string {
  if (s.includes('\0'))
    throw new TarnError('INVALID_ARGUMENT', 'NUL characters are not allowed in SQL strings')
  return `'${s.replace(/'/g, "''")}'`
}
