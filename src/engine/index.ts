/**
 * The query engine: read-only DuckDB SQL over the tables visible at any ref, with scan planning and pruning, a local
 * file cache, a locked-down DuckDB and Apache Arrow results.
 *
 * @example
 * ```ts
 * import { QueryEngine, engineDirs } from './engine/index.js'
 * const engine = await QueryEngine.create({ catalog, store, ...engineDirs(home) })
 * const { table } = await engine.query('SELECT count(*) FROM orders', { ref: 'main' })
 * ```
 */

export { arrowSchemaOf, arrowTypeOf, columnData, plainValue, recordBatchOf } from '../duckdb/arrow-convert.js'
export { csvField, floatText, typeText, valueJson, valueText } from '../duckdb/duckdb-text.js'
export { BoundedMap } from './bounded-map.js'
export { duckdbQueryError, type HiddenNames, oneLineDuckdbMessage } from './duckdb-error.js'
export { openSandbox, type SandboxOptions, sandboxSettings } from './duckdb-sandbox.js'
export {
  copyOptions,
  type ExportFormat,
  type ExportTarget,
  exportFormat,
  exportTarget,
} from './export-target.js'
export {
  type CacheStats,
  cacheFileName,
  DEFAULT_CACHE_MAX_BYTES,
  FileCache,
  type FileCacheOptions,
} from './file-cache.js'
export { pushdownFilters } from './filter-pushdown.js'
export { cacheMaxBytesFrom, type LakeLike, openLakeEngine } from './lake-engine.js'
export {
  type ExportOptions,
  type ExportResult,
  engineDirs,
  QueryEngine,
  type QueryEngineOptions,
  type QueryOptions,
} from './query-engine.js'
export type { QueryPlan, TableScanPlan } from './query-plan.js'
export { QueryResult } from './query-result.js'
export { QueryStream } from './query-stream.js'
export { batchCells, type Cell, rowCsv, rowJson, rowText, typeName } from './result-format.js'
export { FooterCache, scanViewSql } from './scan-view.js'
export {
  type AstNode,
  analyzeAst,
  caretAt,
  deserializeSql,
  notReadOnly,
  parseSelect,
  type QueryAnalysis,
  type SelectScope,
  serializeSql,
  sqlError,
  type TableFunctionCall,
  type TableReference,
  tableFunctionCalls,
} from './sql-analysis.js'
