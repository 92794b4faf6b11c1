import type { DuckDBConnection } from '@duckdb/node-api'
import { withConnection } from '../../duckdb/with-connection.js'
import type { ObjectStore } from '../../storage/object-store.js'
import { TarnError } from '../../util/errors.js'
import { expressionToSql } from '../duckdb-sql.js'
import type { Expression } from '../expression.js'
import { compareIcebergValues } from '../iceberg-value.js'
import type { DataFile, ResolvedEntry } from '../manifest.js'
import type { PartitionField, PartitionSpec } from '../partition-spec.js'
import { liveEntries, planScan } from '../scan-planner.js'
import { maxFieldId, type Schema } from '../schema.js'
import { type LoadedTable, loadTable } from '../table-loader.js'
import { currentSchema, snapshotById, type TableMetadata } from '../table-metadata.js'
import { scanSql } from '../table-reader.js'
import { parseTransform, transformAccepts } from '../transforms.js'
import { schemaFromQuery } from './duckdb-schema.js'
import { writeDataFiles } from './parquet-writer.js'
import {
  type CommitResult,
  commitSnapshot,
  keyOfUri,
  type SnapshotChange,
  type WriterDeps,
  writeMetadataFile,
} from './snapshot-producer.js'

/**
 * Options shared by the data writers.
 */
export interface WriteOptions {
  /** The DuckDB connection that can run the source SQL (default: a fresh in-memory one). */
  readonly connection?: DuckDBConnection
  /** Roll data files over at about this size (default: table property `write.target-file-size-bytes`, else none). */
  readonly targetFileSizeBytes?: number
  /** Extra properties for the new snapshot's summary (e.g. where imported rows came from). */
  readonly summary?: Readonly<Record<string, string>>
  /**
   * Where DuckDB writes data files before they are stored (default: the system temp directory); a sandboxed
   * connection needs one it may write.
   */
  readonly scratchDir?: string
  /** The names of the source query's columns, when the caller knows them (saves DuckDB describing the query). */
  readonly sourceColumns?: readonly string[]
}

/**
 * A partition field to create: a transform (`identity`, `year`, `month`, `day`, `hour`, `bucket[N]`, `truncate[W]`)
 * of a column.
 */
export interface PartitionFieldInput {
  readonly column: string
  readonly transform: string
  readonly name?: string
}

/**
 * What {@link createTable} needs: where the table lives, and a schema or a source query to derive it from.
 */
export interface CreateTableInput extends WriteOptions {
  /** Store key of the table root directory. */
  readonly tableKey: string
  /** The schema (field ids included); derived from `source` when absent. */
  readonly schema?: Schema
  /** Rows to load into the first snapshot (any DuckDB query, e.g. over the files being imported). */
  readonly source?: string
  readonly partitionBy?: readonly PartitionFieldInput[]
  readonly properties?: Readonly<Record<string, string>>
}

function defaultPartitionName(column: string, transform: string): string {
  const t = parseTransform(transform)
  return t.kind === 'identity' ? column : `${column}_${t.kind}`
}

/**
 * Builds a partition spec over a schema.
 */
export function buildPartitionSpec(
  schema: Schema,
  fields: readonly PartitionFieldInput[],
  specId: number,
  lastPartitionId: number,
): PartitionSpec {
  let next = lastPartitionId
  const out: PartitionField[] = fields.map((f) => {
    const col = schema.fields.find((x) => x.name === f.column)
    if (!col)
      throw new TarnError('INVALID_ARGUMENT', `No column named ${JSON.stringify(f.column)}`, {
        column: f.column,
      })
    if (!transformAccepts(parseTransform(f.transform), col.type)) {
      const type = typeof col.type === 'string' ? col.type : col.type.type
      throw new TarnError(
        'INVALID_ARGUMENT',
        `cannot partition by ${f.transform}(${f.column}): column ${f.column} is ${type}, which ${f.transform} does not accept`,
        { column: f.column, type, transform: f.transform },
      )
    }
    return {
      'source-id': col.id,
      'field-id': ++next,
      name: f.name ?? defaultPartitionName(f.column, f.transform),
      transform: f.transform,
    }
  })
  return { 'spec-id': specId, fields: out }
}

function targetSize(table: LoadedTable, opts: WriteOptions): number | undefined {
  if (opts.targetFileSizeBytes) return opts.targetFileSizeBytes
  const p = Number(table.metadata.properties['write.target-file-size-bytes'])
  return Number.isFinite(p) && p > 0 ? p : undefined
}

async function writeRows(
  table: LoadedTable,
  conn: DuckDBConnection,
  sourceSql: string,
  opts: WriteOptions,
  deps: WriterDeps,
): Promise<DataFile[]> {
  const m = table.metadata
  const spec = m['partition-specs'].find((s) => s['spec-id'] === m['default-spec-id'])
  if (!spec) throw new TarnError('INVALID_ARGUMENT', 'Table has no default partition spec')
  const size = targetSize(table, opts)
  return writeDataFiles({
    conn,
    sourceSql,
    schema: currentSchema(m),
    spec,
    store: table.io.store,
    dataPrefix: `${keyOfUri(table.io.store, table.root)}/data`,
    random: deps.random,
    ...(size ? { targetFileSizeBytes: size } : {}),
    ...(opts.scratchDir ? { scratchDir: opts.scratchDir } : {}),
    ...(opts.sourceColumns ? { sourceColumns: opts.sourceColumns } : {}),
  })
}

/**
 * The one snapshot-writing path of every write mode: commits the change with the caller's summary properties
 * (`opts.summary`, e.g. import fingerprints or `tarn.job_id`) on top of the mode's own ones.
 */
function commitWrite(
  table: LoadedTable,
  change: Omit<SnapshotChange, 'summary'>,
  opts: WriteOptions,
  deps: WriterDeps,
  modeSummary: Readonly<Record<string, string>> = {},
): Promise<CommitResult> {
  const summary = { ...modeSummary, ...opts.summary }
  return commitSnapshot(table, { ...change, ...(Object.keys(summary).length > 0 ? { summary } : {}) }, deps)
}

async function reload(store: ObjectStore, result: CommitResult, deps: WriterDeps): Promise<LoadedTable> {
  return loadTable(
    store,
    result.metadataLocation,
    deps.metadataCache ? { metadataCache: deps.metadataCache } : {},
  )
}

/**
 * Creates a table: writes its first metadata file (no snapshot), and when `source` is given, appends its rows as the
 * first snapshot. The schema is derived from the source query when not given.
 */
export async function createTable(
  store: ObjectStore,
  input: CreateTableInput,
  deps: WriterDeps,
): Promise<CommitResult> {
  return withConnection(input.connection, async (conn) => {
    let schema = input.schema
    if (!schema) {
      if (!input.source) throw new TarnError('INVALID_ARGUMENT', 'createTable needs a schema or a source')
      schema = await schemaFromQuery(conn, input.source)
    }
    const spec = buildPartitionSpec(schema, input.partitionBy ?? [], 0, 999)
    const now = deps.clock.now()
    const metadata: TableMetadata = {
      'format-version': 2,
      'table-uuid': deps.random.uuid(),
      location: store.uriOf(input.tableKey),
      'last-sequence-number': 0,
      'last-updated-ms': now,
      'last-column-id': maxFieldId(schema),
      schemas: [schema],
      'current-schema-id': schema['schema-id'],
      'partition-specs': [spec],
      'default-spec-id': 0,
      'last-partition-id': Math.max(999, ...spec.fields.map((f) => f['field-id'])),
      properties: { 'write.parquet.compression-codec': 'zstd', ...input.properties },
      'current-snapshot-id': null,
      snapshots: [],
      'snapshot-log': [],
      'metadata-log': [],
      'sort-orders': [{ 'order-id': 0, fields: [] }],
      'default-sort-order-id': 0,
      refs: {},
    }
    const created = await writeMetadataFile(store, input.tableKey, metadata, undefined, deps)
    if (!input.source) return created
    const table = await reload(store, created, deps)
    const files = await writeRows(table, conn, input.source, input, deps)
    return commitWrite(table, { operation: 'append', added: files, removed: [] }, input, deps)
  })
}

/**
 * Appends the rows of a query as a new snapshot (operation `append`).
 */
export async function appendRows(
  table: LoadedTable,
  source: string,
  deps: WriterDeps,
  opts: WriteOptions = {},
): Promise<CommitResult> {
  return withConnection(opts.connection, async (conn) => {
    const files = await writeRows(table, conn, source, opts, deps)
    return commitWrite(table, { operation: 'append', added: files, removed: [] }, opts, deps)
  })
}

async function liveDataFiles(table: LoadedTable): Promise<ResolvedEntry[]> {
  const snap = snapshotById(table.metadata)
  if (!snap) return []
  return (await liveEntries(table, snap)).filter((e) => e.dataFile.content === 0)
}

/**
 * Replaces all rows of the table with the rows of a query (operation `overwrite`).
 */
export async function overwriteRows(
  table: LoadedTable,
  source: string,
  deps: WriterDeps,
  opts: WriteOptions = {},
): Promise<CommitResult> {
  return withConnection(opts.connection, async (conn) => {
    const removed = await liveDataFiles(table)
    const files = await writeRows(table, conn, source, opts, deps)
    return commitWrite(table, { operation: 'overwrite', added: files, removed }, opts, deps)
  })
}

/**
 * Dynamic partition overwrite (OVERWRITE_PARTITIONS): replaces every partition that the new rows touch and keeps
 * the others. On an unpartitioned table this replaces all rows.
 */
export async function overwritePartitions(
  table: LoadedTable,
  source: string,
  deps: WriterDeps,
  opts: WriteOptions = {},
): Promise<CommitResult> {
  return withConnection(opts.connection, async (conn) => {
    const files = await writeRows(table, conn, source, opts, deps)
    const specId = table.metadata['default-spec-id']
    const same = (a: DataFile, b: DataFile): boolean =>
      [...a.partition].every(([k, v]) => {
        const w = b.partition.get(k) ?? null
        return v === null || w === null ? v === w : compareIcebergValues(v, w) === 0
      })
    const removed = (await liveDataFiles(table)).filter(
      (e) => e.specId === specId && files.some((f) => same(e.dataFile, f)),
    )
    return commitWrite(table, { operation: 'overwrite', added: files, removed }, opts, deps, {
      'replace-partitions': 'true',
    })
  })
}

async function copyOnWriteDelete(
  table: LoadedTable,
  conn: DuckDBConnection,
  filter: Expression,
  opts: WriteOptions,
  deps: WriterDeps,
): Promise<{ removed: ResolvedEntry[]; rewritten: DataFile[] }> {
  const plan = await planScan(table, { filter })
  const cond = `coalesce(${expressionToSql(filter, plan.schema)}, false)`
  const removed: ResolvedEntry[] = []
  const rewritten: DataFile[] = []
  for (const task of plan.tasks) {
    const sql = await scanSql(table, { ...plan, tasks: [task] }, conn)
    const counts = await conn.runAndReadAll(
      `SELECT count(*) AS total, count(*) FILTER (WHERE ${cond}) AS matched FROM (${sql}) AS f`,
    )
    const row = counts.getRowObjectsJS()[0]
    const total = Number(row?.total ?? 0)
    const matched = Number(row?.matched ?? 0)
    if (matched === 0) continue
    removed.push(task.dataFile)
    if (matched < total) {
      rewritten.push(
        ...(await writeRows(table, conn, `SELECT * FROM (${sql}) AS f WHERE NOT ${cond}`, opts, deps)),
      )
    }
  }
  return { removed, rewritten }
}

/**
 * Deletes the rows matching a filter, copy-on-write: files without matching rows are kept, files whose rows all
 * match are dropped, other files are rewritten without the matching rows (operation `delete` or `overwrite`).
 */
export async function deleteWhere(
  table: LoadedTable,
  filter: Expression,
  deps: WriterDeps,
  opts: WriteOptions = {},
): Promise<CommitResult> {
  return withConnection(opts.connection, async (conn) => {
    const { removed, rewritten } = await copyOnWriteDelete(table, conn, filter, opts, deps)
    return commitWrite(
      table,
      { operation: rewritten.length > 0 ? 'overwrite' : 'delete', added: rewritten, removed },
      opts,
      deps,
    )
  })
}

/**
 * Overwrite by filter: deletes the rows matching `filter` (copy-on-write) and adds the rows of `source`, in one
 * snapshot (operation `overwrite`). With a filter over partition columns, whole partitions are replaced.
 */
export async function overwriteWhere(
  table: LoadedTable,
  filter: Expression,
  source: string,
  deps: WriterDeps,
  opts: WriteOptions = {},
): Promise<CommitResult> {
  return withConnection(opts.connection, async (conn) => {
    const { removed, rewritten } = await copyOnWriteDelete(table, conn, filter, opts, deps)
    const added = await writeRows(table, conn, source, opts, deps)
    return commitWrite(
      table,
      { operation: 'overwrite', added: [...rewritten, ...added], removed },
      opts,
      deps,
    )
  })
}
