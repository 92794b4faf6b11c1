import { mkdtemp, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DuckDBConnection } from '@duckdb/node-api'
import { quoteIdent } from '../duckdb/sql-quote.js'
import { duckdbTypeOf } from '../iceberg/duckdb-sql.js'
import type { Schema } from '../iceberg/schema.js'
import { importSourceSql } from '../iceberg/writer/import-source.js'
import type { ObjectStore } from '../storage/object-store.js'
import { sha256Hex } from '../util/canonical.js'
import { messageOf, TarnError } from '../util/errors.js'
import { checkCsvShape } from './csv-shape.js'
import { localGlob, sourceGlob } from './source-glob.js'

/**
 * One file to import, fetched to a local path when it lives in object storage.
 */
export interface SourceFile {
  /** Where the user said it is (absolute path or URI). */
  readonly source: string
  /** A local path DuckDB can read. */
  readonly localPath: string
  readonly size: number
  /** SHA-256 of source, size and modification time: how a re-import of the same file is recognised. */
  readonly fingerprint: string
}

/**
 * Expands the `--from` arguments of an import (local paths, globs, `file://` and `s3://` URIs, S3 globs) into the
 * files to read, fetching object-store files into a temporary directory. Fails with `INVALID_ARGUMENT` naming any
 * argument that matches nothing.
 */
export async function resolveSources(
  from: readonly string[],
  ctx: { cwd: string; store: ObjectStore; conn: DuckDBConnection },
): Promise<SourceFile[]> {
  const out: SourceFile[] = []
  let scratch: string | undefined
  for (const arg of from) {
    const before = out.length
    if (/^s3[an]?:\/\//i.test(arg)) {
      const target = arg.replace(/^s3[an]:\/\//i, 's3://')
      const bucketRoot = /^s3:\/\/[^/]+\//i.exec(target)?.[0] ?? target
      const glob = sourceGlob(target.slice(bucketRoot.length))
      const listPrefix = !glob.isGlob ? target : `${bucketRoot}${glob.base === '' ? '' : `${glob.base}/`}`
      for await (const info of ctx.store.list(listPrefix)) {
        const uri = ctx.store.uriOf(info.key)
        if (!uri.startsWith(bucketRoot) || !glob.matches(uri.slice(bucketRoot.length))) continue
        scratch ??= await mkdtemp(join(tmpdir(), 'tarn-import-'))
        const localPath = join(scratch, `${out.length}-${basename(info.key)}`)
        await writeFile(localPath, await ctx.store.get(info.key))
        out.push({
          source: uri,
          localPath,
          size: info.size,
          fingerprint: sha256Hex(`${uri}\n${info.size}\n${info.lastModified}`),
        })
      }
    } else {
      const path = arg.startsWith('file://')
        ? fileURLToPath(arg)
        : isAbsolute(arg)
          ? arg
          : resolve(ctx.cwd, arg)
      const matches = sourceGlob(path).isGlob ? await localGlob(path) : [path]
      for (const file of matches) {
        const st = await stat(file).catch(() => undefined)
        if (!st?.isFile()) continue
        out.push({
          source: file,
          localPath: file,
          size: st.size,
          fingerprint: sha256Hex(`file://${file}\n${st.size}\n${Math.floor(st.mtimeMs)}`),
        })
      }
    }
    if (out.length === before) {
      throw new TarnError('INVALID_ARGUMENT', `no file matches ${arg}`, { from: arg })
    }
  }
  return out
}

/**
 * The DuckDB query that reads one source file.
 */
export function sourceQuery(file: SourceFile): string {
  return importSourceSql([file.localPath])
}

function formatOf(path: string): 'csv' | 'json' | 'parquet' {
  const ext =
    path
      .toLowerCase()
      .replace(/\.(gz|zst)$/, '')
      .split('.')
      .pop() ?? ''
  return ext === 'csv' ? 'csv' : ['json', 'jsonl', 'ndjson'].includes(ext) ? 'json' : 'parquet'
}

/**
 * The DuckDB query that reads all source files as one relation: one reader per format, columns unified by name.
 */
export function sourcesQuery(files: readonly SourceFile[]): string {
  const groups = new Map<string, string[]>()
  for (const f of files) {
    const fmt = formatOf(f.localPath)
    groups.set(fmt, [...(groups.get(fmt) ?? []), f.localPath])
  }
  return [...groups.values()]
    .map((paths) => importSourceSql(paths).replace(/\)$/, ', union_by_name = true)'))
    .join(' UNION ALL BY NAME ')
}

/**
 * Checks every file before anything is written: it must be readable, hold no column the table lacks, and every value
 * must convert to the table's column type. Errors name the file and the column (`INVALID_FILE`, `SCHEMA_MISMATCH`).
 */
export async function validateSources(
  conn: DuckDBConnection,
  files: readonly SourceFile[],
  schema: Schema,
): Promise<void> {
  const fields = new Map(schema.fields.map((f) => [f.name, f]))
  for (const file of files) {
    const unreadable = (e: unknown): TarnError =>
      new TarnError(
        'INVALID_FILE',
        `cannot read ${file.source}: ${messageOf(e)}`,
        { file: file.source },
        { cause: e },
      )
    let columns: { name: string; type: string }[]
    try {
      const rows = (await conn.runAndReadAll(`DESCRIBE (${sourceQuery(file)})`)).getRowObjectsJS()
      columns = rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }))
    } catch (e) {
      throw unreadable(e)
    }
    if (formatOf(file.localPath) === 'csv') {
      await checkCsvShape(
        file,
        columns.map((c) => c.name),
      )
    }
    for (const c of columns) {
      const field = fields.get(c.name)
      if (!field) {
        throw new TarnError(
          'SCHEMA_MISMATCH',
          `${file.source}: column ${JSON.stringify(c.name)} is not in the table`,
          {
            file: file.source,
            column: c.name,
            fileType: c.type,
          },
        )
      }
    }
    // Only columns whose file type does not always convert losslessly are scanned value by value.
    const checks = columns.flatMap((c) => {
      const field = fields.get(c.name)
      const type = duckdbTypeOf(field?.type ?? 'string')
      if (convertsLosslessly(c.type, type)) return []
      const col = quoteIdent(c.name)
      return `count(*) FILTER (WHERE ${col} IS NOT NULL AND TRY_CAST(${col} AS ${type}) IS NULL) AS ${quoteIdent(`bad_${c.name}`)}, any_value(${col}::VARCHAR) FILTER (WHERE ${col} IS NOT NULL AND TRY_CAST(${col} AS ${type}) IS NULL) AS ${quoteIdent(`ex_${c.name}`)}`
    })
    const requiredMissing = schema.fields.filter((f) => f.required && !columns.some((c) => c.name === f.name))
    if (requiredMissing.length > 0) {
      const f = requiredMissing[0] as (typeof requiredMissing)[number]
      throw new TarnError(
        'SCHEMA_MISMATCH',
        `${file.source}: required column ${JSON.stringify(f.name)} is missing`,
        {
          file: file.source,
          column: f.name,
        },
      )
    }
    // One pass over the file checks that it reads to the end and, where needed, that every value converts.
    let result: Record<string, unknown>
    try {
      const list = checks.length > 0 ? checks.join(', ') : 'count(*) AS n'
      result =
        (await conn.runAndReadAll(`SELECT ${list} FROM (${sourceQuery(file)})`)).getRowObjectsJS()[0] ?? {}
    } catch (e) {
      throw unreadable(e)
    }
    for (const c of columns) {
      const bad = Number(result[`bad_${c.name}`] ?? 0)
      if (bad > 0) {
        const field = fields.get(c.name)
        const type = duckdbTypeOf(field?.type ?? 'string')
        throw new TarnError(
          'SCHEMA_MISMATCH',
          `${file.source}: column ${JSON.stringify(c.name)} has ${bad} value(s) that are not ${type} (for example ${JSON.stringify(result[`ex_${c.name}`])}); the file has ${c.type}`,
          { file: file.source, column: c.name, fileType: c.type, tableType: type, badValues: bad },
        )
      }
    }
  }
}

/** File column types (as DuckDB describes them) that every value of converts to the table type without loss. */
const LOSSLESS: Readonly<Record<string, readonly string[]>> = {
  BIGINT: ['INTEGER', 'SMALLINT', 'TINYINT', 'UINTEGER', 'USMALLINT', 'UTINYINT'],
  INTEGER: ['SMALLINT', 'TINYINT', 'USMALLINT', 'UTINYINT'],
  DOUBLE: ['FLOAT'],
  TIMESTAMPTZ: ['TIMESTAMP WITH TIME ZONE'],
}

/**
 * Whether every value of a file column of type `fileType` converts to the table's `tableType` (both DuckDB type
 * names): the same type (spacing and case aside) or a widening.
 */
export function convertsLosslessly(fileType: string, tableType: string): boolean {
  const norm = (t: string): string => t.replace(/\s+/g, '').toUpperCase()
  if (norm(fileType) === norm(tableType)) return true
  return LOSSLESS[norm(tableType)]?.some((t) => norm(t) === norm(fileType)) ?? false
}
