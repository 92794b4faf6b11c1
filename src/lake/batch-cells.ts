/**
 * Arrow record batches as exact cells (`batchCells`: timestamps to the microsecond, decimals and 64-bit integers by
 * their digits), a row as text cells (`rowText`) or a JSON object (`rowJson`), and column type names (`typeName`);
 * shared by the server and the CLI. Pure functions, re-exported from `engine/` so that callers of the lake need no
 * engine path.
 */
export { batchCells, type Cell, rowJson, rowText, typeName } from '../engine/result-format.js'
