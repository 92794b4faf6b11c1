import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DuckDBConnection } from '@duckdb/node-api'
import { quoteIdent, sqlString } from '../../duckdb/sql-quote.js'
import type { ObjectStore } from '../../storage/object-store.js'
import { putFileIfAbsent } from '../../storage/put-file.js'
import { TarnError } from '../../util/errors.js'
import { type JsonValue, stringifyJsonLossless } from '../../util/lossless-json.js'
import { mapBounded } from '../../util/map-bounded.js'
import type { Random } from '../../util/random.js'
import { duckdbTypeOf } from '../duckdb-sql.js'
import { type IcebergValue, toIcebergValue } from '../iceberg-value.js'
import type { DataFile } from '../manifest.js'
import { parquetColumnName } from '../parquet-names.js'
import type { PartitionSpec } from '../partition-spec.js'
import { type IcebergType, isListType, isMapType, isStructType, type Schema } from '../schema.js'
import { encodeSingleValue } from '../single-value.js'
import { applyTransform, parseTransform, type Transform, transformResultType } from '../transforms.js'

/**
 * What {@link writeDataFiles} needs.
 */
export interface WriteDataFilesInput {
  readonly conn: DuckDBConnection
  /** Any DuckDB query whose columns are named like the schema's top-level columns (missing ones become NULL). */
  readonly sourceSql: string
  readonly schema: Schema
  readonly spec: PartitionSpec
  readonly store: ObjectStore
  /** Store key prefix of the table's data directory, e.g. `warehouse/ns/t/data`. */
  readonly dataPrefix: string
  readonly random: Random
  /** Roll over to a new file after about this many bytes (default: one file per partition). */
  readonly targetFileSizeBytes?: number
  /** Where DuckDB writes the files before they are stored (default: the system temp directory). */
  readonly scratchDir?: string
  /** The names of the source query's columns, when the caller knows them (saves DuckDB describing the query). */
  readonly sourceColumns?: readonly string[]
}

/**
 * The `FIELD_IDS` option value of DuckDB's Parquet COPY for a schema: an id for every column at every nesting level.
 */
export function fieldIdsOption(schema: Schema): string {
  const nested = (id: number, t: IcebergType): string => {
    if (isStructType(t)) {
      return `{__duckdb_field_id: ${id}${t.fields.map((f) => `, ${quoteIdent(f.name)}: ${nested(f.id, f.type)}`).join('')}}`
    }
    if (isListType(t)) return `{__duckdb_field_id: ${id}, "element": ${nested(t['element-id'], t.element)}}`
    if (isMapType(t)) {
      return `{__duckdb_field_id: ${id}, "key": ${nested(t['key-id'], t.key)}, "value": ${nested(t['value-id'], t.value)}}`
    }
    return String(id)
  }
  return `{${schema.fields.map((f) => `${quoteIdent(parquetColumnName(f.name))}: ${nested(f.id, f.type)}`).join(', ')}}`
}

/** Quoted stats path (as RETURN_STATS reports it) → leaf field id and type. */
function statsPaths(schema: Schema): Map<string, { id: number; type: IcebergType }> {
  const out = new Map<string, { id: number; type: IcebergType }>()
  const visit = (path: string, id: number, t: IcebergType): void => {
    if (isStructType(t)) for (const f of t.fields) visit(`${path}.${quoteIdent(f.name)}`, f.id, f.type)
    else if (isListType(t)) visit(`${path}."element"`, t['element-id'], t.element)
    else if (isMapType(t)) {
      visit(`${path}."key"`, t['key-id'], t.key)
      visit(`${path}."value"`, t['value-id'], t.value)
    } else out.set(path, { id, type: t })
  }
  for (const f of schema.fields) visit(quoteIdent(parquetColumnName(f.name)), f.id, f.type)
  return out
}

const BOUND_PREFIX = 16

function boundBytes(type: IcebergType, text: string, upper: boolean): Uint8Array | undefined {
  if (typeof type !== 'string') return undefined
  if (type === 'binary' || type.startsWith('fixed') || type === 'float' || type === 'double') {
    if (type === 'float' || type === 'double') {
      const n = Number(text)
      if (!Number.isFinite(n)) return undefined
      return encodeSingleValue(type, n)
    }
    return undefined
  }
  try {
    let v = toIcebergValue(type, text)
    if (type === 'string' && typeof v === 'string') {
      const cps = Array.from(v)
      if (cps.length > BOUND_PREFIX) {
        const prefix = cps.slice(0, BOUND_PREFIX)
        if (upper) {
          // the smallest string above every value with this prefix: increment the last incrementable code point
          let i = prefix.length - 1
          while (i >= 0 && (prefix[i]?.codePointAt(0) ?? 0) >= 0x10ffff) i--
          if (i < 0) return undefined
          let next = (prefix[i]?.codePointAt(0) ?? 0) + 1
          if (next >= 0xd800 && next <= 0xdfff) next = 0xe000
          v = [...prefix.slice(0, i), String.fromCodePoint(next)].join('')
        } else v = prefix.join('')
      }
    }
    return v === null ? undefined : encodeSingleValue(type, v)
  } catch {
    return undefined
  }
}

type StatsRow = { key: string; value: { key: string; value: string }[] }

function fileMetrics(schema: Schema, stats: readonly StatsRow[]): Partial<DataFile> {
  const paths = statsPaths(schema)
  const columnSizes = new Map<number, number>()
  const valueCounts = new Map<number, number>()
  const nullValueCounts = new Map<number, number>()
  const lowerBounds = new Map<number, Uint8Array>()
  const upperBounds = new Map<number, Uint8Array>()
  for (const col of stats) {
    const leaf = paths.get(col.key)
    if (!leaf) continue
    const kv = new Map(col.value.map((x) => [x.key, x.value]))
    const num = (k: string): number | undefined => (kv.has(k) ? Number(kv.get(k)) : undefined)
    const size = num('column_size_bytes')
    const values = num('num_values')
    const nulls = num('null_count')
    if (size !== undefined) columnSizes.set(leaf.id, size)
    if (values !== undefined) valueCounts.set(leaf.id, values)
    if (nulls !== undefined) nullValueCounts.set(leaf.id, nulls)
    const min = kv.get('min')
    const max = kv.get('max')
    const lo = min === undefined ? undefined : boundBytes(leaf.type, min, false)
    const hi = max === undefined ? undefined : boundBytes(leaf.type, max, true)
    if (lo) lowerBounds.set(leaf.id, lo)
    if (hi) upperBounds.set(leaf.id, hi)
  }
  return { columnSizes, valueCounts, nullValueCounts, lowerBounds, upperBounds }
}

/**
 * The human-readable partition path segment of a value (`name=value`, URL-encoded).
 */
export function partitionPathSegment(name: string, type: IcebergType, v: IcebergValue): string {
  let s: string
  if (v === null) s = 'null'
  else if (type === 'date' && typeof v === 'number') s = new Date(v * 86_400_000).toISOString().slice(0, 10)
  else if (v instanceof Uint8Array) s = Buffer.from(v).toString('hex')
  else s = String(v)
  return `${encodeURIComponent(name)}=${encodeURIComponent(s)}`
}

/**
 * The SELECT list that casts a source query's columns to the schema's DuckDB types (absent columns are NULL); the
 * query is described unless its `columns` are given.
 */
export async function projectionForSchema(
  conn: DuckDBConnection,
  sourceSql: string,
  schema: Schema,
  columns?: readonly string[],
): Promise<string> {
  const present = new Set(
    columns ??
      (await conn.runAndReadAll(`DESCRIBE (${sourceSql})`))
        .getRowObjectsJS()
        .map((r) => String(r.column_name)),
  )
  const unknown = [...present].filter((c) => !schema.fields.some((f) => f.name === c))
  if (unknown.length > 0) {
    throw new TarnError('INVALID_ARGUMENT', `Columns not in the table schema: ${unknown.join(', ')}`, {
      columns: unknown,
    })
  }
  return schema.fields
    .map((f) => {
      const v = present.has(f.name) ? `src.${quoteIdent(f.name)}` : 'NULL'
      return `CAST(${v} AS ${duckdbTypeOf(f.type)}) AS ${quoteIdent(f.name)}`
    })
    .join(', ')
}

/**
 * Writes the rows of a query as Parquet data files (by DuckDB, with Iceberg field ids at every nesting level, types
 * cast to the schema, one set of files per partition), uploads them with put-if-absent under fresh names, and
 * returns their `DataFile` entries with partition values, record counts, sizes, column sizes, value and null counts
 * and lower/upper bounds.
 */
export async function writeDataFiles(input: WriteDataFilesInput): Promise<DataFile[]> {
  const { conn, schema, spec, store } = input
  const tmp = await mkdtemp(join(input.scratchDir ?? tmpdir(), 'tarn-parquet-'))
  const srcTable = `__tarn_src_${Buffer.from(input.random.bytes(6)).toString('hex')}`
  // true once the rows may have been staged in the temporary table (dropped at the end)
  let staged = false
  try {
    const proj = await projectionForSchema(conn, input.sourceSql, schema, input.sourceColumns)
    const parts = spec.fields.map((field) => {
      const source = schema.fields.find((f) => f.id === field['source-id'])
      if (!source)
        throw new TarnError(
          'INVALID_ARGUMENT',
          `Partition source column ${field['source-id']} is not in the schema`,
        )
      return { field, source, transform: parseTransform(field.transform) }
    })
    const distinctCols = [...new Set(parts.map((p) => p.source.name))]
    const groupBy = [...new Set(parts.map((p) => groupingSql(p.transform, p.source)))]
    const rank =
      groupBy.length > 0
        ? `, dense_rank() OVER (ORDER BY ${groupBy.map((e) => `${e} NULLS FIRST`).join(', ')}) AS __tarn_k`
        : ', 1 AS __tarn_k'
    const required = schema.fields.filter((f) => f.required)
    // An unpartitioned write with nothing to check streams from the source straight into Parquet; otherwise the
    // rows are staged once in a temporary table that the checks and the per-partition copies read.
    const direct = distinctCols.length === 0 && required.length === 0
    const inSql = parts.map((p) => transformSql(p.transform, p.source))
    // Partitions whose values SQL computes (time transforms, identity of integers) are written in one pass over the
    // source, DuckDB splitting the rows by partition value: no staging, no grouping pass.
    const onePass =
      parts.length > 0 &&
      required.length === 0 &&
      !input.targetFileSizeBytes &&
      inSql.every((e) => e !== null)
    const rowsFrom = direct ? `(SELECT ${proj}, 1 AS __tarn_k FROM (${input.sourceSql}) src)` : srcTable
    staged = !direct && !onePass
    if (staged)
      await conn.run(
        `CREATE TEMP TABLE ${srcTable} AS SELECT *${rank} FROM (SELECT ${proj} FROM (${input.sourceSql}) src)`,
      )
    if (required.length > 0) {
      const checks = required.map(
        (f) => `count(*) FILTER (WHERE ${quoteIdent(f.name)} IS NULL) AS ${quoteIdent(f.name)}`,
      )
      const nulls =
        (await conn.runAndReadAll(`SELECT ${checks.join(', ')} FROM ${srcTable}`)).getRowObjectsJS()[0] ?? {}
      const bad = required.filter((f) => Number(nulls[f.name] ?? 0) > 0).map((f) => f.name)
      if (bad.length > 0) {
        throw new TarnError('INVALID_ARGUMENT', `Required columns hold NULL values: ${bad.join(', ')}`, {
          columns: bad,
        })
      }
    }
    const icebergSchemaJson = stringifyJsonLossless(schema as unknown as JsonValue)
    const cols = schema.fields
      .map((f) => `${quoteIdent(f.name)} AS ${quoteIdent(parquetColumnName(f.name))}`)
      .join(', ')
    const files: DataFile[] = []
    const partPathOf = (values: Map<number, IcebergValue>): string =>
      parts
        .map(({ field, source, transform }) =>
          partitionPathSegment(
            field.name,
            transformResultType(transform, source.type),
            values.get(field['field-id']) ?? null,
          ),
        )
        .join('/')
    const options =
      `FORMAT parquet, COMPRESSION zstd, FIELD_IDS ${fieldIdsOption(schema)}, ` +
      `KV_METADATA {"iceberg.schema": ${sqlString(icebergSchemaJson)}}, RETURN_STATS true`
    const collect = async (
      rows: readonly Record<string, unknown>[],
      groupOf: (row: Record<string, unknown>) => { values: Map<number, IcebergValue> },
    ): Promise<void> => {
      const written = rows.filter((row) => Number(row.count) > 0)
      // The files are stored at once (their fsyncs overlap), linked into place when the store can.
      const stored = await mapBounded(written, STORE_CONCURRENCY, async (row) => {
        const { values } = groupOf(row)
        const name = `${input.random.uuid()}.parquet`
        const key = [input.dataPrefix, partPathOf(values), name].filter((s) => s !== '').join('/')
        const path = String(row.filename)
        const size = Number(row.file_size_bytes ?? Number.NaN)
        const bytes = Number.isFinite(size) ? size : (await stat(path)).size
        if (!(await putFileIfAbsent(store, key, path))) {
          throw new TarnError('STORAGE_ERROR', `Data file ${key} already exists`, { key })
        }
        const stats = (row.column_statistics ?? []) as unknown as StatsRow[]
        const file: DataFile = {
          content: 0,
          filePath: store.uriOf(key),
          fileFormat: 'PARQUET',
          partition: values,
          recordCount: Number(row.count),
          fileSizeInBytes: bytes,
          ...fileMetrics(schema, stats),
        }
        return file
      })
      files.push(...stored)
    }
    if (onePass) {
      const keys = inSql.map((e, i) => `${e} AS __tarn_p${i}`).join(', ')
      const reader = await conn.runAndReadAll(
        `COPY (SELECT ${cols}, ${keys} FROM (SELECT ${proj} FROM (${input.sourceSql}) src) AS r) ` +
          `TO ${sqlString(join(tmp, 'all'))} (${options}, PARTITION_BY (${parts.map((_, i) => `__tarn_p${i}`).join(', ')}))`,
      )
      await collect(reader.getRowObjectsJson(), (row) => {
        const got = new Map(
          ((row.partition_keys ?? []) as unknown as { key: string; value: string | null }[]).map((k) => [
            k.key,
            k.value,
          ]),
        )
        const values = new Map<number, IcebergValue>()
        parts.forEach(({ field, source, transform }, i) => {
          const text = got.get(`__tarn_p${i}`) ?? null
          values.set(
            field['field-id'],
            text === null
              ? null
              : transform.kind === 'identity'
                ? toIcebergValue(source.type, text)
                : Number(text),
          )
        })
        return { values }
      })
      return files
    }
    // Partition tuple of every distinct combination of source values, computed with the spec's transforms.
    const groups = new Map<string, { values: Map<number, IcebergValue>; keys: number[] }>()
    const combos = direct
      ? [{ __tarn_k: 1 }]
      : (
          await conn.runAndReadAll(
            `SELECT __tarn_k${distinctCols.map((c) => `, any_value(${quoteIdent(c)}) AS ${quoteIdent(c)}`).join('')} FROM ${srcTable} GROUP BY __tarn_k`,
          )
        ).getRowObjectsJson()
    for (const row of combos) {
      const values = new Map<number, IcebergValue>()
      for (const { field, source, transform } of parts) {
        const raw = row[source.name]
        const v = raw === null || raw === undefined ? null : toIcebergValue(source.type, raw)
        values.set(field['field-id'], applyTransform(transform, source.type, v))
      }
      const key = JSON.stringify(
        [...values.values()].map((v) => (v instanceof Uint8Array ? [...v] : String(v))),
      )
      const g = groups.get(key) ?? { values, keys: [] }
      g.keys.push(Number(row.__tarn_k))
      groups.set(key, g)
    }
    const list = [...groups.values()]
    if (list.length > 1 && !input.targetFileSizeBytes) {
      // Many partitions: one pass writes them all, DuckDB splitting the rows by group number.
      const map = `__tarn_groups_${Buffer.from(input.random.bytes(6)).toString('hex')}`
      await conn.run(`CREATE TEMP TABLE ${map} (__tarn_mk BIGINT, __tarn_mg INTEGER)`)
      try {
        const pairs = list.flatMap((g, i) => g.keys.map((k) => `(${k}, ${i})`))
        for (let at = 0; at < pairs.length; at += 5000)
          await conn.run(`INSERT INTO ${map} VALUES ${pairs.slice(at, at + 5000).join(', ')}`)
        const reader = await conn.runAndReadAll(
          `COPY (SELECT ${cols}, m.__tarn_mg AS __tarn_g FROM ${rowsFrom} AS r JOIN ${map} AS m ON r.__tarn_k = m.__tarn_mk) ` +
            `TO ${sqlString(join(tmp, 'all'))} (${options}, PARTITION_BY (__tarn_g))`,
        )
        await collect(reader.getRowObjectsJson(), (row) => {
          const keys = (row.partition_keys ?? []) as unknown as { key: string; value: string }[]
          const g = list[Number(keys.find((k) => k.key === '__tarn_g')?.value)]
          if (!g)
            throw new TarnError('INTERNAL', `a written file has no partition group: ${String(row.filename)}`)
          return g
        })
      } finally {
        await conn.run(`DROP TABLE IF EXISTS ${map}`).catch(() => undefined)
      }
      return files
    }
    let n = 0
    for (const g of list) {
      const dir = join(tmp, `p${n++}`)
      const target = input.targetFileSizeBytes ? dir : `${dir}.parquet`
      const size = input.targetFileSizeBytes
        ? `, FILE_SIZE_BYTES ${Math.max(1, Math.floor(input.targetFileSizeBytes))}`
        : ''
      const where = list.length > 1 ? ` WHERE __tarn_k IN (${g.keys.join(', ')})` : ''
      const reader = await conn.runAndReadAll(
        `COPY (SELECT ${cols} FROM ${rowsFrom} AS r${where}) TO ${sqlString(target)} (${options}${size})`,
      )
      await collect(reader.getRowObjectsJson(), () => g)
      if (input.targetFileSizeBytes) {
        for (const f of await readdir(dir).catch(() => [] as string[]))
          await rm(join(dir, f), { force: true })
      }
    }
    return files
  } finally {
    if (staged) await conn.run(`DROP TABLE IF EXISTS ${srcTable}`).catch(() => undefined)
    await rm(tmp, { recursive: true, force: true })
  }
}

/** Data files stored at once. */
const STORE_CONCURRENCY = 8

/**
 * The DuckDB expression of a partition transform's value (the Iceberg integer: years, months, days or hours since
 * the epoch, or an integer column itself), or null when SQL cannot compute it exactly (bucket's hash, other types).
 */
function transformSql(t: Transform, source: { name: string; type: IcebergType }): string | null {
  const col = quoteIdent(source.name)
  const type = source.type
  if (t.kind === 'identity') return type === 'int' || type === 'long' ? col : null
  const ts = type === 'timestamp' || type === 'timestamptz'
  if (!ts && type !== 'date') return null
  const micros = ts ? `epoch_us(${col})` : `(epoch_us(${col}::TIMESTAMP))`
  const t0 = ts ? `make_timestamp(${micros})` : col
  switch (t.kind) {
    case 'hour':
      return ts ? `floor(${micros} / 3600000000)::BIGINT` : null
    case 'day':
      return `floor(${micros} / 86400000000)::BIGINT`
    case 'month':
      return `((year(${t0}) - 1970) * 12 + month(${t0}) - 1)::BIGINT`
    case 'year':
      return `(year(${t0}) - 1970)::BIGINT`
    default:
      return null
  }
}

/**
 * A DuckDB expression that groups rows at least as finely as a partition transform of their source column, so that
 * every group has one partition value: whole days (or hours) since the epoch for time transforms, independent of the
 * session time zone; the column itself otherwise (month and year group by day and are merged afterwards).
 */
function groupingSql(t: Transform, source: { name: string; type: IcebergType }): string {
  const col = quoteIdent(source.name)
  const time = ['day', 'month', 'year', 'hour'].includes(t.kind)
  if (time && (source.type === 'timestamp' || source.type === 'timestamptz')) {
    const unit = t.kind === 'hour' ? 3_600_000_000 : 86_400_000_000
    return `floor(epoch_us(${col}) / ${unit})`
  }
  return col
}
