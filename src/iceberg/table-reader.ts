import type { DuckDBConnection } from '@duckdb/node-api'
import { quoteIdent, sqlString } from '../duckdb/sql-quote.js'
import { withConnection } from '../duckdb/with-connection.js'
import { duckdbTypeOf, expressionToSql } from './duckdb-sql.js'
import type { Expression } from './expression.js'
import type { ResolvedEntry } from './manifest.js'
import { parquetColumnName } from './parquet-names.js'
import { type FileScanTask, planScan, type ScanOptions, type ScanPlan } from './scan-planner.js'
import { type IcebergType, isListType, isMapType, isStructType } from './schema.js'
import type { LoadedTable } from './table-loader.js'

/**
 * A column of a Parquet file schema: physical name, Iceberg field id (when written) and children.
 */
export interface ParquetColumn {
  readonly name: string
  readonly fieldId: number | undefined
  readonly children: readonly ParquetColumn[]
}

function topLevel(rows: readonly Record<string, unknown>[]): ParquetColumn[] {
  let i = 0
  const node = (): ParquetColumn => {
    const r = rows[i++] ?? {}
    const n = r.num_children === null || r.num_children === undefined ? 0 : Number(r.num_children)
    const children: ParquetColumn[] = []
    for (let k = 0; k < n && i < rows.length; k++) children.push(node())
    const id = r.field_id === null || r.field_id === undefined ? undefined : Number(r.field_id)
    return { name: String(r.name), fieldId: id, children }
  }
  if (rows.length === 0) return []
  return [...node().children]
}

/**
 * Top-level columns (field id when present, physical name) of many Parquet files, read with one query.
 */
export async function parquetTopLevelColumns(
  conn: DuckDBConnection,
  paths: readonly string[],
): Promise<Map<string, ParquetColumn[]>> {
  const out = new Map<string, ParquetColumn[]>()
  const unique = [...new Set(paths)]
  if (unique.length === 0) return out
  const reader = await conn.runAndReadAll(
    `SELECT file_name, name, field_id, num_children FROM parquet_schema([${unique.map(sqlString).join(', ')}])`,
  )
  const byFile = new Map<string, Record<string, unknown>[]>()
  for (const r of reader.getRowObjectsJS()) {
    const f = String(r.file_name)
    const list = byFile.get(f) ?? []
    list.push(r)
    byFile.set(f, list)
  }
  for (const p of unique) out.set(p, topLevel(byFile.get(p) ?? []))
  return out
}

/**
 * Options of {@link scanSql} and {@link readTable}.
 */
export interface ReadOptions extends ScanOptions {
  /** Row filter applied to the result (also used for pruning). */
  readonly where?: Expression
  /** A DuckDB connection to use (default: a fresh in-memory instance). */
  readonly connection?: DuckDBConnection
}

/**
 * The DuckDB expression that reads a file value as the current type: primitives are cast (type promotion), struct
 * fields, list elements and map values are matched by field id (renamed nested fields keep their data, added ones
 * are NULL). Without field ids in the file the value is used as is.
 */
export function projectValue(
  ref: string,
  col: ParquetColumn | undefined,
  type: IcebergType,
  depth: number,
): string {
  if (isStructType(type)) {
    if (!col || col.children.every((c) => c.fieldId === undefined)) return ref
    const parts = type.fields.map((f) => {
      const child = col.children.find((c) => c.fieldId === f.id)
      const v = child
        ? projectValue(`${ref}.${quoteIdent(child.name)}`, child, f.type, depth + 1)
        : `CAST(NULL AS ${duckdbTypeOf(f.type)})`
      return `${quoteIdent(f.name)} := ${v}`
    })
    return `CASE WHEN ${ref} IS NULL THEN NULL ELSE struct_pack(${parts.join(', ')}) END`
  }
  if (isListType(type)) {
    const element = col?.children[0]?.children[0]
    if (!element || element.fieldId === undefined) return ref
    const x = `__e${depth}`
    return `list_transform(${ref}, lambda ${x}: ${projectValue(x, element, type.element, depth + 1)})`
  }
  if (isMapType(type)) {
    const kv = col?.children[0]?.children ?? []
    const key = kv.find((c) => c.fieldId === type['key-id'])
    const value = kv.find((c) => c.fieldId === type['value-id'])
    if (!key || !value) return ref
    const x = `__m${depth}`
    const k = projectValue(`${x}.key`, key, type.key, depth + 1)
    const v = projectValue(`${x}.value`, value, type.value, depth + 1)
    return `map_from_entries(list_transform(map_entries(${ref}), lambda ${x}: struct_pack(key := ${k}, value := ${v})))`
  }
  return `CAST(${ref} AS ${duckdbTypeOf(type)})`
}

async function fileSelect(
  table: LoadedTable,
  plan: ScanPlan,
  task: FileScanTask,
  conn: DuckDBConnection,
  cache: Map<string, ParquetColumn[]>,
): Promise<string> {
  const colsOf = async (e: ResolvedEntry): Promise<{ path: string; cols: ParquetColumn[] }> => {
    const path = await table.io.localPath(e.dataFile.filePath)
    let cols = cache.get(path)
    if (!cols) {
      cols = (await parquetTopLevelColumns(conn, [path])).get(path) ?? []
      cache.set(path, cols)
    }
    return { path, cols }
  }
  const { path, cols } = await colsOf(task.dataFile)
  const hasIds = cols.some((c) => c.fieldId !== undefined)
  const physical = (fieldId: number, currentName: string): string | undefined => {
    if (hasIds) return cols.find((c) => c.fieldId === fieldId)?.name
    // no field ids in the file: fall back to names the column had in any schema version
    const names = new Set(
      table.metadata.schemas.flatMap((s) => s.fields.filter((f) => f.id === fieldId).map((f) => f.name)),
    )
    names.add(currentName)
    for (const n of [...names]) names.add(parquetColumnName(n))
    return cols.find((c) => names.has(c.name))?.name
  }
  const proj = plan.schema.fields.map((f) => {
    const col = hasIds ? cols.find((c) => c.fieldId === f.id) : undefined
    const phys = col?.name ?? physical(f.id, f.name)
    if (phys === undefined) return `CAST(NULL AS ${duckdbTypeOf(f.type)}) AS ${quoteIdent(f.name)}`
    return `${projectValue(`t.${quoteIdent(phys)}`, col, f.type, 0)} AS ${quoteIdent(f.name)}`
  })
  const conds: string[] = []
  const pos = task.deletes.filter((d) => d.dataFile.content === 1)
  if (pos.length > 0) {
    const parts = await Promise.all(
      pos.map(async (d) => {
        const p = await table.io.localPath(d.dataFile.filePath)
        return `SELECT pos FROM read_parquet(${sqlString(p)}) WHERE file_path = ${sqlString(task.dataFile.dataFile.filePath)}`
      }),
    )
    conds.push(`t.file_row_number NOT IN (${parts.join(' UNION ALL ')})`)
  }
  for (const d of task.deletes.filter((x) => x.dataFile.content === 2)) {
    const del = await colsOf(d)
    const ids = d.dataFile.equalityIds ?? []
    const preds = ids.map((id) => {
      const delCol = del.cols.find((c) => c.fieldId === id)?.name
      const field = plan.schema.fields.find((f) => f.id === id)
      const dataCol = physical(id, field?.name ?? '')
      const l = delCol === undefined ? 'NULL' : `d.${quoteIdent(delCol)}`
      const r = dataCol === undefined ? 'NULL' : `t.${quoteIdent(dataCol)}`
      return `${l} IS NOT DISTINCT FROM ${r}`
    })
    if (preds.length > 0) {
      conds.push(
        `NOT EXISTS (SELECT 1 FROM read_parquet(${sqlString(del.path)}) d WHERE ${preds.join(' AND ')})`,
      )
    }
  }
  const where = conds.length > 0 ? ` WHERE ${conds.join(' AND ')}` : ''
  const rowNumbers = pos.length > 0 ? ', file_row_number = true' : ''
  return `SELECT ${proj.join(', ')} FROM read_parquet(${sqlString(path)}${rowNumbers}) t${where}`
}

/**
 * The DuckDB SQL that reads a planned scan: one SELECT per data file mapping columns by field id (renamed columns
 * keep their data, added columns are NULL in older files, widened types are cast), with position deletes
 * (`file_path` + `pos`) and equality deletes applied, combined with UNION ALL.
 */
export async function scanSql(
  table: LoadedTable,
  plan: ScanPlan,
  conn: DuckDBConnection,
  where?: Expression,
): Promise<string> {
  const needed = plan.tasks.flatMap((t) => [t.dataFile, ...t.deletes.filter((d) => d.dataFile.content === 2)])
  const paths = await Promise.all(needed.map((e) => table.io.localPath(e.dataFile.filePath)))
  const cache = await parquetTopLevelColumns(conn, paths)
  const selects: string[] = []
  for (const task of plan.tasks) selects.push(await fileSelect(table, plan, task, conn, cache))
  let body: string
  if (selects.length === 0) {
    const cols = plan.schema.fields.map(
      (f) => `CAST(NULL AS ${duckdbTypeOf(f.type)}) AS ${quoteIdent(f.name)}`,
    )
    body = `SELECT ${cols.join(', ')} WHERE FALSE`
  } else body = selects.map((s) => `(${s})`).join(' UNION ALL ')
  const filter = where ? ` WHERE ${expressionToSql(where, plan.schema)}` : ''
  return `SELECT * FROM (${body}) AS scan${filter}`
}

/**
 * Reads the rows of a table snapshot (current by default) as JS objects keyed by current column name, with deletes
 * applied and columns mapped by field id.
 */
export async function readTable(
  table: LoadedTable,
  opts: ReadOptions = {},
): Promise<Record<string, unknown>[]> {
  const filter = opts.filter ?? opts.where
  const plan = await planScan(table, { ...opts, ...(filter ? { filter } : {}) })
  return withConnection(opts.connection, async (conn) => {
    const sql = await scanSql(table, plan, conn, opts.where)
    const reader = await conn.runAndReadAll(sql)
    return reader.getRowObjectsJS() as Record<string, unknown>[]
  })
}
