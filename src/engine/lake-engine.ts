import type { Catalog } from '../catalog/catalog.js'
import type { ObjectStore } from '../storage/object-store.js'
import type { Clock } from '../util/clock.js'
import { TarnError } from '../util/errors.js'
import { DEFAULT_CACHE_MAX_BYTES } from './file-cache.js'
import type { QueryEngine } from './query-engine.js'

/**
 * What the engine needs of a lake (the SDK's `Lake` has all of it): its catalog, warehouse store, home directory
 * and clock.
 */
export interface LakeLike {
  readonly catalog: Catalog
  readonly store: ObjectStore
  readonly config: { readonly home: string }
  readonly clock?: Clock
}

/**
 * The cache size bound from `TARN_CACHE_MAX_BYTES` (bytes, or with a K/M/G/T suffix), else 10 GiB.
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
 * Opens the query engine of a lake: cache in `<home>/cache/files`, bounded by `TARN_CACHE_MAX_BYTES` in `env`.
 * DuckDB and Arrow load here, on the lake's first query, not when the lake opens. The SDK's `Lake` opens one on
 * first use, shares it with every handle on the same lake, and closes it in `Lake.close`.
 */
export async function openLakeEngine(
  lake: LakeLike,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<QueryEngine> {
  const cacheMaxBytes = cacheMaxBytesFrom(env)
  const { QueryEngine, engineDirs } = await import('./query-engine.js')
  return QueryEngine.create({
    catalog: lake.catalog,
    store: lake.store,
    ...engineDirs(lake.config.home),
    cacheMaxBytes,
    ...(lake.clock ? { clock: lake.clock } : {}),
  })
}
