/**
 * How DuckDB values are spelled, shared by the engine and the CLI: as DuckDB's own `CAST(... AS VARCHAR)` spells
 * them (`valueText`), as JSON (`valueJson`), type names (`typeText`) and CSV fields (`csvField`). Pure functions,
 * re-exported from `engine/` so that callers of the lake need no engine path.
 */
export { csvField, typeText, valueJson, valueText } from '../duckdb/duckdb-text.js'
