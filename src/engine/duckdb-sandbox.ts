import { mkdir } from 'node:fs/promises'
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import { sqlString } from '../iceberg/index.js'

/**
 * Options of {@link openSandbox}.
 *
 * @example
 * ```ts
 * const o: SandboxOptions = { readableDirectories: ['/home/me/.tarn/cache/files'], scratchDir: '/home/me/.tarn/cache/scratch' }
 * ```
 */
export interface SandboxOptions {
  /** Directories user SQL may read (the file cache, a local warehouse). */
  readonly readableDirectories: readonly string[]
  /** DuckDB's temp directory (spilling); also readable. */
  readonly scratchDir: string
  /** Single files the sandbox may also write (an export's output); nothing else outside the directories. */
  readonly writablePaths?: readonly string[]
  /** DuckDB worker threads (default: DuckDB's choice). */
  readonly threads?: number
  /** DuckDB memory limit, e.g. `'4GB'`. */
  readonly memoryLimit?: string
}

/**
 * The DuckDB settings that lock a sandbox down, in the order they are applied: UTC session time zone (so pushed
 * time filters mean what DuckDB computes), file access only under the allowed directories, no external access, no
 * extension auto-install or auto-load, no community extensions, a cached Parquet footer per immutable file, and
 * finally a locked configuration (user SQL cannot `SET` anything back). `writablePaths` admit exactly those files.
 *
 * @example
 * ```ts
 * sandboxSettings({ readableDirectories: ['/c'], scratchDir: '/s' })[0] // "SET TimeZone = 'UTC'"
 * ```
 */
export function sandboxSettings(options: SandboxOptions): string[] {
  const dirs = [...new Set([...options.readableDirectories, options.scratchDir])].map((d) =>
    sqlString(d.endsWith('/') ? d : `${d}/`),
  )
  return [
    "SET TimeZone = 'UTC'",
    `SET temp_directory = ${sqlString(options.scratchDir)}`,
    ...(options.threads !== undefined ? [`SET threads = ${Math.max(1, Math.floor(options.threads))}`] : []),
    ...(options.memoryLimit !== undefined ? [`SET memory_limit = ${sqlString(options.memoryLimit)}`] : []),
    'SET parquet_metadata_cache = true',
    'SET autoinstall_known_extensions = false',
    'SET autoload_known_extensions = false',
    'SET allow_community_extensions = false',
    `SET allowed_directories = [${dirs.join(', ')}]`,
    ...(options.writablePaths && options.writablePaths.length > 0
      ? [`SET allowed_paths = [${options.writablePaths.map(sqlString).join(', ')}]`]
      : []),
    'SET enable_external_access = false',
    'SET lock_configuration = true',
  ]
}

/**
 * An in-memory DuckDB instance locked down for user SQL: it reads only files under the allowed directories, cannot
 * download or load extensions, cannot reach the network, and its configuration is locked.
 *
 * @example
 * ```ts
 * const sandbox = await openSandbox({ readableDirectories: [cacheDir], scratchDir })
 * const conn = await sandbox.connect()
 * ```
 */
export async function openSandbox(options: SandboxOptions): Promise<DuckDBInstance> {
  await mkdir(options.scratchDir, { recursive: true })
  const instance = await DuckDBInstance.create(':memory:')
  const conn: DuckDBConnection = await instance.connect()
  try {
    for (const s of sandboxSettings(options)) await conn.run(s)
  } finally {
    conn.closeSync()
  }
  return instance
}
