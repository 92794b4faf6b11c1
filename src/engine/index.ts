/**
 * The query engine: read-only DuckDB SQL over the tables visible at any ref, with scan planning and pruning, a local
 * file cache, a locked-down DuckDB and Apache Arrow results.
 */

export { arrowSchemaOf, arrowTypeOf, columnData, plainValue, recordBatchOf } from '../duckdb/arrow-convert.js'
export { csvField, floatText, typeText, valueJson, valueText } from '../duckdb/duckdb-text.js'
export { BoundedMap } from './bounded-map.js'
export { duckdbQueryError, type HiddenNames, oneLineDuckdbMessage } from './duckdb-error.js'
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
  engineDirs,
  QueryEngine,
  type QueryEngineOptions,
  type QueryOptions,
} from './query-engine.js'
export type { ExportOptions, ExportResult } from './query-export.js'
export type { QueryPlan, TableScanPlan } from './query-plan.js'
export { QueryResult } from './query-result.js'
export { QueryStream } from './query-stream.js'
export { batchCells, type Cell, rowCsv, rowJson, rowText, typeName } from './result-format.js'
export { FooterCache, scanViewSql } from './scan-view.js'
export {
  analyzeAst,
  caretAt,
  notReadOnly,
  parseSelect,
  type QueryAnalysis,
  type SelectScope,
  sqlError,
  type TableFunctionCall,
  type TableReference,
  tableFunctionCalls,
} from './sql-analysis.js'
