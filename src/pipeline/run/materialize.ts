import type { DuckDBConnection } from '@duckdb/node-api'
import { parseTableKey } from '../../catalog/names.js'
import type { Commit } from '../../catalog/types.js'
import { quoteIdent, sqlString } from '../../duckdb/sql-quote.js'
import { withConnection } from '../../duckdb/with-connection.js'
import {
  appendRows,
  type CommitResult,
  createTable,
  currentSchema,
  duckdbTypeOf,
  evolveSchema,
  type LoadedTable,
  overwritePartitions,
  overwriteRows,
  type Schema,
  schemaChangesFor,
  schemaFromQuery,
} from '../../iceberg/index.js'
import type { PartitionFieldDef } from '../project.js'
import type { Materialization } from '../sdk.js'
import { loadRunTable } from './load-run-table.js'
import type { RunLake } from './run-lake.js'

/**
 * One model's result to write on the run branch.
 */
export interface MaterializeInput {
  readonly branch: string
  readonly table: string
  readonly model: string
  readonly mode: Exclude<Materialization, 'NONE'>
  readonly partitionedBy: readonly PartitionFieldDef[]
  readonly overwriteFilter: string | null
  /** The model's rows, as a Parquet file in the scratch area. */
  readonly parquet: string
  readonly jobId: string
  /** Where DuckDB writes the new data files before they are stored (default: the system temp directory). */
  readonly scratchDir?: string
  /**
   * Remote node executions: the run-branch head the caller checked for an earlier attempt's commit. The table is
   * read at that head and the commit is a compare-and-swap on it (`BRANCH_HEAD_CHANGED` when a commit since touched
   * the same table, e.g. another attempt of the same node), so the check and the commit are one atomic step.
   */
  readonly baseHead?: string
}

/**
 * What a materialisation did: the commit on the run branch, rows written, and warnings (columns dropped, rows
 * outside the overwrite filter).
 */
export interface MaterializeResult {
  readonly commit: Commit
  readonly rows: number
  readonly warnings: readonly string[]
}

/**
 * Writes a model's rows into its Iceberg table on the run branch as one commit carrying `tarn.job_id`, with
 * `connection` when given (the run's DuckDB) or a fresh in-memory DuckDB:
 * `REPLACE` overwrites the table's rows, keeping its Iceberg table and history: new columns are added and types
 * widened in place (an incompatible type change is `SCHEMA_MISMATCH`); only when columns were removed or the
 * partitioning changed is a new table written, `APPEND` adds files, `OVERWRITE_PARTITIONS`
 * replaces the partitions its rows fall in (rows outside `overwriteFilter` are dropped with a warning). A missing
 * table is created with the model's `partitionedBy`, and a missing namespace in the same commit. Columns the existing table lacks are dropped with a warning;
 * columns the model lacks are NULL. With `after`, the catalog commit waits for it (the previous model's commit): the
 * files of several models are written side by side while the run branch gets their commits in plan order.
 */
export async function materializeModel(
  lake: RunLake,
  input: MaterializeInput,
  connection?: DuckDBConnection,
  after?: Promise<unknown>,
): Promise<MaterializeResult> {
  const key = parseTableKey(input.table)
  const deps = {
    clock: lake.clock,
    random: lake.random,
    ...(lake.metadataCache ? { metadataCache: lake.metadataCache } : {}),
  }
  const warnings: string[] = []
  const source = `SELECT * FROM read_parquet(${sqlString(input.parquet)})`
  const scratch = input.scratchDir === undefined ? {} : { scratchDir: input.scratchDir }
  const head = await lake.catalog.getCommit(
    input.baseHead ?? (await lake.catalog.getBranch(input.branch)).head,
  )
  const existing = await lake.catalog.getTable(head, key.key)
  const result: CommitResult = await withConnection(connection, async (conn) => {
    // REPLACE of an existing table needs the rows' schema: their column names come with it (one DESCRIBE)
    const described = existing && input.mode === 'REPLACE' ? await schemaFromQuery(conn, source) : undefined
    const outCols =
      described?.fields.map((f) => f.name) ??
      (await conn.runAndReadAll(`DESCRIBE ${source}`)).getRowObjectsJS().map((r) => String(r.column_name))
    let rows = source
    if (input.mode === 'OVERWRITE_PARTITIONS' && input.overwriteFilter) {
      const counts = await conn.runAndReadAll(
        `SELECT count(*) FILTER (WHERE NOT coalesce((${input.overwriteFilter}), false))::BIGINT AS outside FROM (${source}) AS s`,
      )
      const outside = Number(counts.getRowObjectsJS()[0]?.outside ?? 0)
      if (outside > 0)
        warnings.push(
          `model ${input.model} returned ${outside} row(s) outside its overwriteFilter (${input.overwriteFilter}); they were not written`,
        )
      rows = `SELECT * FROM (${source}) AS s WHERE coalesce((${input.overwriteFilter}), false)`
    }
    if (existing && input.mode === 'REPLACE') {
      const loaded = await loadRunTable(lake, existing.metadataLocation)
      const opts = { connection: conn, summary: { 'tarn.job_id': input.jobId }, ...scratch }
      // REPLACE reads the model's rows unfiltered: they are `source`, described above
      const incoming = described ?? (await schemaFromQuery(conn, rows))
      if (sameShape(loaded, incoming, input.partitionedBy))
        return overwriteRows(loaded, rows, deps, { ...opts, sourceColumns: outCols })
      const fields = currentSchema(loaded.metadata).fields
      const kept = fields.every((f) =>
        incoming.fields.some((g) => g.name.toLowerCase() === f.name.toLowerCase()),
      )
      if (kept && samePartitioning(loaded, input.partitionedBy)) {
        // new columns and widened types: evolve the table in place, keeping its uuid, location and history
        const changes = schemaChangesFor(currentSchema(loaded.metadata), incoming, {
          strict: true,
          table: key.key,
        })
        const table =
          changes.length === 0
            ? loaded
            : await loadRunTable(lake, (await evolveSchema(loaded, changes, deps)).metadataLocation)
        return overwriteRows(table, alignedTo(table, rows), deps, {
          ...opts,
          sourceColumns: columnsOf(table),
        })
      }
    }
    if (!existing || input.mode === 'REPLACE') {
      const suffix = Buffer.from(lake.random.bytes(4)).toString('hex')
      return createTable(
        lake.store,
        {
          tableKey: `${key.namespace}/${key.name}-${suffix}`,
          source: rows,
          partitionBy: input.partitionedBy.map((p) => ({ column: p.column, transform: p.transform })),
          connection: conn,
          summary: { 'tarn.job_id': input.jobId },
          ...scratch,
        },
        deps,
      )
    }
    const loaded = await loadRunTable(lake, existing.metadataLocation)
    const fields = currentSchema(loaded.metadata).fields
    const have = new Set(outCols.map((c) => c.toLowerCase()))
    const extra = outCols.filter((c) => !fields.some((f) => f.name.toLowerCase() === c.toLowerCase()))
    if (extra.length > 0)
      warnings.push(
        `model ${input.model} returned columns that ${key.key} does not have: ${extra.join(', ')} (not written)`,
      )
    const aligned = alignedTo(loaded, rows, have)
    const opts = {
      connection: conn,
      summary: { 'tarn.job_id': input.jobId },
      sourceColumns: columnsOf(loaded),
      ...scratch,
    }
    return input.mode === 'APPEND'
      ? appendRows(loaded, aligned, deps, opts)
      : overwritePartitions(loaded, aligned, deps, opts)
  })
  const snap = result.metadata.snapshots.find((s) => String(s['snapshot-id']) === String(result.snapshotId))
  const added = Number(snap?.summary['added-records'] ?? 0)
  await after
  const base =
    after === undefined
      ? head
      : await lake.catalog.getCommit((await lake.catalog.getBranch(input.branch)).head)
  const newNamespace = (await lake.catalog.getNamespace(base, key.namespace)) === undefined
  const commit = await lake.catalog.commit({
    branch: input.branch,
    changes: [
      ...(newNamespace ? [{ type: 'createNamespace' as const, name: key.namespace }] : []),
      { type: 'putTable', key: key.key, state: result.state },
    ],
    ...(input.baseHead !== undefined ? { expectedHead: input.baseHead } : {}),
    message: `${input.mode} ${key.key} from model ${input.model}`,
    author: lake.author,
    properties: {
      'tarn.job_id': input.jobId,
      'tarn.model': input.model,
      'tarn.operation': `materialize-${input.mode.toLowerCase()}`,
      'tarn.table': key.key,
    },
  })
  return { commit, rows: added, warnings }
}

/**
 * The rows projected onto the table's columns in its order, cast to their types; columns the rows lack (`have`,
 * lower-cased, default: all) are NULL.
 */
function alignedTo(table: LoadedTable, rows: string, have?: ReadonlySet<string>): string {
  const proj = currentSchema(table.metadata).fields.map((f) =>
    have === undefined || have.has(f.name.toLowerCase())
      ? `CAST(${quoteIdent(f.name)} AS ${duckdbTypeOf(f.type)}) AS ${quoteIdent(f.name)}`
      : `CAST(NULL AS ${duckdbTypeOf(f.type)}) AS ${quoteIdent(f.name)}`,
  )
  return `SELECT ${proj.join(', ')} FROM (${rows}) AS m`
}

/** True when the table's default partition spec is the declared one. */
function samePartitioning(table: LoadedTable, partitionedBy: readonly PartitionFieldDef[]): boolean {
  const m = table.metadata
  const spec = m['partition-specs'].find((p) => p['spec-id'] === m['default-spec-id'])
  const byId = new Map(currentSchema(m).fields.map((f) => [f.id, f.name]))
  const have = (spec?.fields ?? []).map((f) => `${f.transform}(${byId.get(f['source-id'])})`)
  const want = partitionedBy.map((p) => `${p.transform}(${p.column})`)
  return have.length === want.length && have.every((h, i) => h === want[i])
}

/** The table's column names, in order: what {@link alignedTo} selects. */
function columnsOf(table: LoadedTable): string[] {
  return currentSchema(table.metadata).fields.map((f) => f.name)
}

/** True when the rows (`incoming`) have exactly the table's columns and primitive types, and the table the declared partitioning. */
function sameShape(
  table: LoadedTable,
  incoming: Schema,
  partitionedBy: readonly PartitionFieldDef[],
): boolean {
  const m = table.metadata
  const fields = currentSchema(m).fields
  const next = incoming.fields
  if (fields.length !== next.length) return false
  const sameFields = fields.every((f, i) => {
    const g = next[i]
    return g !== undefined && typeof f.type === 'string' && f.name === g.name && f.type === g.type
  })
  return sameFields && samePartitioning(table, partitionedBy)
}
