/**
 * How query results are spelled as text and JSON, shared by the engine, the server and the CLI: DuckDB values as
 * DuckDB's own `CAST(... AS VARCHAR)` spells them (`valueText`, `valueJson`, `typeText`, `csvField`) and Arrow record
 * batches as exact cells (`batchCells`, `rowText`, `rowJson`, `typeName`). Pure functions, re-exported from
 * `engine/` so that callers of the lake need no engine path.
 *
 * @example
 * ```ts
 * import { batchCells, rowText } from './lake/result-text.js'
 * for (const row of batchCells(batch)) console.log(rowText(row).join(' | '))
 * ```
 */
export { csvField, typeText, valueJson, valueText } from '../engine/duckdb-text.js'
export { batchCells, type Cell, rowJson, rowText, typeName } from '../engine/result-format.js'
