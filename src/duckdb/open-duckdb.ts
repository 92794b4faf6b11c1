import { mkdir } from 'node:fs/promises'
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import { sqlString } from './sql-quote.js'

/**
 * How {@link openDuckDB} sets up an instance. Every instance runs in UTC. With `readableDirectories` it is a
 * sandbox for user SQL (see {@link SandboxOptions}). Plain data.
 */
export interface DuckDBSettings {
  /** Worker threads (default: DuckDB's choice). */
  readonly threads?: number
  /** Memory limit, e.g. `'4GB'` (default: DuckDB's). */
  readonly memoryLimit?: string
  /** DuckDB's temp (spill) directory, created when missing (default: DuckDB's). */
  readonly scratchDir?: string
  /**
   * When given, the instance is locked down: SQL may read files only under these directories and `scratchDir`,
   * cannot reach the network, download or load extensions, and cannot change any setting.
   */
  readonly readableDirectories?: readonly string[]
  /** Single files a sandbox may also write (an export's output); nothing else outside its directories. */
  readonly writablePaths?: readonly string[]
}

/**
 * The settings of a DuckDB that runs user SQL (queries, exports, SQL models): readable directories and a scratch
 * directory are required. Plain data.
 */
export type SandboxOptions = DuckDBSettings & {
  readonly readableDirectories: readonly string[]
  readonly scratchDir: string
}

/**
 * The statements that set an instance up, in the order they are applied: UTC time zone for every connection
 * (`SET GLOBAL`: a plain `SET` would hold only for the connection that ran it), so pushed time filters and
 * timestamps mean what DuckDB computes whatever the machine's zone, the spill directory, thread and
 * memory limits; then, for a sandbox, a cached Parquet footer per immutable file, no extension auto-install or
 * auto-load, no community extensions, file access only under the allowed directories (and `writablePaths`), no
 * external access, and finally a locked configuration (user SQL cannot `SET` anything back).
 */
export function duckdbSettings(settings: DuckDBSettings): string[] {
  const base = [
    "SET GLOBAL TimeZone = 'UTC'",
    ...(settings.scratchDir !== undefined ? [`SET temp_directory = ${sqlString(settings.scratchDir)}`] : []),
    ...(settings.threads !== undefined ? [`SET threads = ${Math.max(1, Math.floor(settings.threads))}`] : []),
    ...(settings.memoryLimit !== undefined ? [`SET memory_limit = ${sqlString(settings.memoryLimit)}`] : []),
  ]
  if (settings.readableDirectories === undefined) return base
  const dirs = [
    ...new Set(
      [
        ...settings.readableDirectories,
        ...(settings.scratchDir !== undefined ? [settings.scratchDir] : []),
      ].map((d) => (d.endsWith('/') ? d : `${d}/`)),
    ),
  ].map(sqlString)
  const writable = settings.writablePaths ?? []
  return [
    ...base,
    'SET parquet_metadata_cache = true',
    'SET autoinstall_known_extensions = false',
    'SET autoload_known_extensions = false',
    'SET allow_community_extensions = false',
    `SET allowed_directories = [${dirs.join(', ')}]`,
    ...(writable.length > 0 ? [`SET allowed_paths = [${writable.map(sqlString).join(', ')}]`] : []),
    'SET enable_external_access = false',
    'SET lock_configuration = true',
  ]
}

/**
 * Opens an in-memory DuckDB set up by {@link duckdbSettings}: the one place tarn starts DuckDB. Close it with
 * `closeSync()`.
 */
export async function openDuckDB(settings: DuckDBSettings = {}): Promise<DuckDBInstance> {
  if (settings.scratchDir !== undefined) await mkdir(settings.scratchDir, { recursive: true })
  const instance = await DuckDBInstance.create(':memory:')
  try {
    const conn: DuckDBConnection = await instance.connect()
    try {
      for (const s of duckdbSettings(settings)) await conn.run(s)
    } finally {
      conn.closeSync()
    }
  } catch (e) {
    instance.closeSync()
    throw e
  }
  return instance
}
