import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * Where a lake lives: the client home, the catalog and the warehouse. Plain data.
 *
 * @example
 * ```ts
 * const { home, catalogUrl, warehouse }: LakeConfig = resolveLakeConfig()
 * ```
 */
export interface LakeConfig {
  /** Client directory (`$TARN_HOME`, default `~/.tarn`): holds the active branch, and the embedded catalog. */
  readonly home: string
  /** `sqlite:<absolute path>` or a `postgres://` URL. */
  readonly catalogUrl: string
  /** `file:///...` or `s3://bucket/prefix`: where table files are written. */
  readonly warehouse: string
}

/**
 * Settings that override the environment.
 *
 * @example
 * ```ts
 * resolveLakeConfig({ catalogUrl: 'postgres://tarn@db/tarn', warehouse: 's3://lake/w' })
 * ```
 */
export interface LakeLocation {
  readonly home?: string
  readonly catalogUrl?: string
  readonly warehouse?: string
}

/**
 * Resolves where the lake is from explicit settings, then `TARN_HOME`, `TARN_CATALOG_URL` and `TARN_WAREHOUSE`, then
 * the embedded defaults (`~/.tarn/catalog.db` and `~/.tarn/warehouse`).
 *
 * @example
 * ```ts
 * resolveLakeConfig({}, { TARN_HOME: '/tmp/lake' })
 * // { home: '/tmp/lake', catalogUrl: 'sqlite:/tmp/lake/catalog.db', warehouse: 'file:///tmp/lake/warehouse' }
 * ```
 */
export function resolveLakeConfig(
  location: LakeLocation = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd = process.cwd(),
): LakeConfig {
  const rawHome = location.home ?? env.TARN_HOME ?? join(homedir(), '.tarn')
  const home = isAbsolute(rawHome) ? rawHome : resolve(cwd, rawHome)
  const catalogUrl = location.catalogUrl ?? env.TARN_CATALOG_URL ?? `sqlite:${join(home, 'catalog.db')}`
  const rawWarehouse = location.warehouse ?? env.TARN_WAREHOUSE ?? join(home, 'warehouse')
  const warehouse = /^[a-z][a-z0-9+.-]*:\/\//i.test(rawWarehouse)
    ? rawWarehouse.replace(/\/+$/, '')
    : pathToFileURL(isAbsolute(rawWarehouse) ? rawWarehouse : resolve(cwd, rawWarehouse)).href
  return { home, catalogUrl, warehouse }
}
