/**
 * The public Iceberg API of tarn: metadata model, Avro manifests, scan planning and pruning, DuckDB reader, writers,
 * foreign-table registration and the append-only table merger.
 */

// quoting lives in src/duckdb/; re-exported for the modules that still reach it through this barrel
export { quoteIdent, sqlString } from '../duckdb/sql-quote.js'
export {
  type JsonValue,
  jsonToBigInt,
  parseJsonLossless,
  stringifyJsonLossless,
} from '../util/lossless-json.js'
export { type AvroFile, readAvroContainer } from './avro/avro-reader.js'
export type { AvroField, AvroRecord, AvroSchema, AvroValue } from './avro/avro-schema.js'
export { type AvroWriteOptions, writeAvroContainer } from './avro/avro-writer.js'
export {
  MANIFEST_LIST_AVRO_SCHEMA,
  manifestEntryAvroSchema,
  partitionType,
} from './avro/manifest-avro-schemas.js'
export { duckdbTypeOf, expressionToSql, sqlLiteral } from './duckdb-sql.js'
export { and, type Expression, eq, type Literal } from './expression.js'
export {
  boundsMightMatch,
  compileBoundsFilter,
  compilePartitionFilter,
  type FilePredicate,
  manifestMightMatch,
  partitionMightMatch,
} from './file-pruning.js'
export { compareIcebergValues, type IcebergValue, toIcebergValue } from './iceberg-value.js'
export type {
  DataFile,
  EntryStatus,
  FieldSummary,
  FileContent,
  ManifestEntry,
  ManifestFile,
  ResolvedEntry,
} from './manifest.js'
export { DEFAULT_MANIFEST_CACHE_ENTRIES, ManifestCache, sharedManifestCache } from './manifest-cache.js'
export {
  type ManifestContents,
  readManifest,
  readManifestList,
  writeManifest,
  writeManifestList,
} from './manifest-io.js'
export { type AppendOnlyChange, appendOnlyChange } from './merge/append-lineage.js'
export {
  appendOnlyTableMerger,
  type TableMergeArgs,
  type TableMergeOutcome,
  type TableMerger,
} from './merge/append-only-merger.js'
export {
  appendOnlyTableReverter,
  type TableRevertArgs,
  type TableReverter,
  type TableRevertOutcome,
} from './merge/append-only-reverter.js'
export { type AppendRebaseOutcome, rebaseAppend } from './merge/append-rebaser.js'
export { DEFAULT_METADATA_CACHE_CHARS, MetadataCache } from './metadata-cache.js'
export { parquetColumnName } from './parquet-names.js'
export {
  type PartitionField,
  type PartitionSpec,
  type SortOrder,
  UNPARTITIONED_SPEC,
  UNSORTED_ORDER,
} from './partition-spec.js'
export { type RegisterOptions, registerTable } from './register-table.js'
export {
  type FileScanTask,
  liveEntries,
  planScan,
  type ScanOptions,
  type ScanPlan,
  snapshotManifests,
} from './scan-planner.js'
export {
  type IcebergType,
  indexSchemaById,
  type ListType,
  type MapType,
  type NestedField,
  type Schema,
  type StructType,
} from './schema.js'
export { decodeSingleValue, encodeSingleValue } from './single-value.js'
export {
  diffSchemas,
  diffTableStates,
  type PartitionSpecText,
  type SchemaDiff,
  specText,
  type TableMetadataDiff,
  type TableSide,
} from './table-diff.js'
export { mapMovedPath, type TableIO, tableIO } from './table-io.js'
export { type LoadedTable, type LoadTableOptions, loadTable, tableRootOf } from './table-loader.js'
export {
  currentSchema,
  parseTableMetadata,
  type Snapshot,
  type SnapshotRef,
  serializeTableMetadata,
  snapshotById,
  specById,
  type TableMetadata,
} from './table-metadata.js'
export {
  parquetTopLevelColumns,
  type ReadOptions,
  readTable,
  scanSql,
} from './table-reader.js'
export {
  applyTransform,
  icebergHash,
  murmur3x86_32,
  parseTransform,
  type Transform,
  transformAccepts,
  transformResultType,
} from './transforms.js'
export { icebergTypeText } from './type-text.js'
export { icebergPrimitiveOf, schemaFromQuery } from './writer/duckdb-schema.js'
export { importSourceSql } from './writer/import-source.js'
export { fieldIdsOption, type WriteDataFilesInput, writeDataFiles } from './writer/parquet-writer.js'
export { updatePartitionSpec } from './writer/partition-evolution.js'
export {
  applySchemaChanges,
  evolveSchema,
  type SchemaChange,
  schemaChangesFor,
} from './writer/schema-evolution.js'
export {
  type CommitResult,
  commitSnapshot,
  type IcebergTableState,
  type SnapshotChange,
  stateOf,
  type WriterDeps,
} from './writer/snapshot-producer.js'
export {
  appendRows,
  buildPartitionSpec,
  type CreateTableInput,
  createTable,
  deleteWhere,
  overwritePartitions,
  overwriteRows,
  overwriteWhere,
  type PartitionFieldInput,
  type WriteOptions,
} from './writer/table-writer.js'
