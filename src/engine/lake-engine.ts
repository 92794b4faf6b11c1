import type { Catalog } from '../catalog/catalog.js'
import type { ObjectStore } from '../storage/object-store.js'
import type { Clock } from '../util/clock.js'
import { TarnError } from '../util/errors.js'
import { DEFAULT_CACHE_MAX_BYTES } from './file-cache.js'
import type { ExportOptions, ExportResult, QueryEngine, QueryOptions } from './query-engine.js'
import type { QueryPlan } from './query-plan.js'
import type { QueryResult } from './query-result.js'
import type { QueryStream } from './query-stream.js'

/**
 * What the engine needs of a lake (the SDK's `Lake` has all of it): its catalog, warehouse store, home directory,
 * clock and active branch.
 *
 * @example
 * ```ts
 * const like: LakeLike = lake
 * ```
 */
export interface LakeLike {
  readonly catalog: Catalog
  readonly store: ObjectStore
  readonly config: { readonly home: string }
  readonly clock?: Clock
  activeBranch(): string
}

const engines = new WeakMap<object, Promise<QueryEngine>>()

/**
 * The cache size bound from `TARN_CACHE_MAX_BYTES` (bytes, or with a K/M/G/T suffix), else 10 GiB.
 *
 * @example
 * ```ts
 * cacheMaxBytesFrom({ TARN_CACHE_MAX_BYTES: '2G' }) // 2147483648
 * ```
 */
export function cacheMaxBytesFrom(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.TARN_CACHE_MAX_BYTES?.trim()
  if (!raw) return DEFAULT_CACHE_MAX_BYTES
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(raw)
  if (!m) {
    throw new TarnError('INVALID_ARGUMENT', `TARN_CACHE_MAX_BYTES must be a size such as 5G, got ${raw}`, {
      TARN_CACHE_MAX_BYTES: raw,
    })
  }
  const unit = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[(m[2] ?? '').toLowerCase()] ?? 1
  return Math.floor(Number(m[1]) * unit)
}

/**
 * The query engine of a lake, opened on first use and shared by every later call on the same lake object (cache in
 * `<home>/cache/files`, bounded by `TARN_CACHE_MAX_BYTES`). Close it with {@link closeLakeEngine}.
 *
 * @example
 * ```ts
 * const engine = await lakeQueryEngine(lake)
 * const stream = await engine.stream('SELECT * FROM big', { ref: lake.activeBranch() })
 * ```
 */
export function lakeQueryEngine(
  lake: LakeLike,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<QueryEngine> {
  let p = engines.get(lake)
  if (!p) {
    const cacheMaxBytes = cacheMaxBytesFrom(env)
    // DuckDB and Arrow load with the engine, on the lake's first query, not when the lake opens.
    p = import('./query-engine.js').then(({ QueryEngine, engineDirs }) =>
      QueryEngine.create({
        catalog: lake.catalog,
        store: lake.store,
        ...engineDirs(lake.config.home),
        cacheMaxBytes,
        ...(lake.clock ? { clock: lake.clock } : {}),
      }),
    )
    p.catch(() => engines.delete(lake))
    engines.set(lake, p)
  }
  return p
}

/**
 * Closes the query engine of a lake if one was opened (the SDK calls it from `Lake.close`).
 *
 * @example
 * ```ts
 * await closeLakeEngine(lake)
 * ```
 */
export async function closeLakeEngine(lake: LakeLike): Promise<void> {
  const p = engines.get(lake)
  if (!p) return
  engines.delete(lake)
  await (await p.catch(() => undefined))?.close()
}

/**
 * Runs read-only SQL over the tables of a lake at a ref (default: the active branch) and returns Arrow. The body
 * of the SDK's `lake.query(sql, options)`.
 *
 * @example
 * ```ts
 * const { table } = await queryLake(lake, 'SELECT count(*) FROM orders', { ref: 'v1' })
 * ```
 */
export async function queryLake(
  lake: LakeLike,
  sql: string,
  options: QueryOptions = {},
): Promise<QueryResult> {
  const engine = await lakeQueryEngine(lake)
  return engine.query(sql, { ...options, ref: options.ref ?? lake.activeBranch() })
}

/**
 * Streams the result of read-only SQL at a ref (default: the active branch) as Arrow record batches.
 *
 * @example
 * ```ts
 * for await (const batch of await streamLake(lake, 'SELECT * FROM big')) console.log(batch.numRows)
 * ```
 */
export async function streamLake(
  lake: LakeLike,
  sql: string,
  options: QueryOptions = {},
): Promise<QueryStream> {
  const engine = await lakeQueryEngine(lake)
  return engine.stream(sql, { ...options, ref: options.ref ?? lake.activeBranch() })
}

/**
 * Plans read-only SQL at a ref (default: the active branch) without running it.
 *
 * @example
 * ```ts
 * const plan = await explainLake(lake, "SELECT * FROM events WHERE day = '2024-03-01'")
 * ```
 */
export async function explainLake(
  lake: LakeLike,
  sql: string,
  options: QueryOptions = {},
): Promise<QueryPlan> {
  const engine = await lakeQueryEngine(lake)
  return engine.explain(sql, { ...options, ref: options.ref ?? lake.activeBranch() })
}

/**
 * Writes the result of read-only SQL at a ref (default: the active branch) to a local Parquet, CSV or JSON-lines file
 * through DuckDB's `COPY`. The body of the SDK's `lake.exportQuery(sql, options)`.
 *
 * @example
 * ```ts
 * const r = await exportLake(lake, 'SELECT * FROM events', { output: '/data/events.parquet' })
 * ```
 */
export async function exportLake(lake: LakeLike, sql: string, options: ExportOptions): Promise<ExportResult> {
  const engine = await lakeQueryEngine(lake)
  return engine.export(sql, { ...options, ref: options.ref ?? lake.activeBranch() })
}
