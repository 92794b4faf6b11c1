import { existsSync } from 'node:fs'
import type { CatalogBackend } from '../catalog/backend.js'
import { PostgresBackend } from '../catalog/backends/postgres.js'
import { SqliteBackend } from '../catalog/backends/sqlite.js'
import { TarnError } from '../util/errors.js'

/**
 * Opens the catalog backend a URL names: `sqlite:<path>` (or `sqlite://<path>`) or `postgres://` / `postgresql://`.
 * With `mustExist`, a missing SQLite file is `LAKE_NOT_FOUND` instead of being created.
 *
 * @example
 * ```ts
 * const backend = openCatalogBackend('sqlite:/tmp/lake/catalog.db')
 * ```
 */
export function openCatalogBackend(url: string, options: { mustExist?: boolean } = {}): CatalogBackend {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return PostgresBackend.open(url)
  if (url.startsWith('sqlite:')) {
    const path = url.replace(/^sqlite:(\/\/)?/, '')
    if (options.mustExist && path !== ':memory:' && !existsSync(path)) {
      throw new TarnError('LAKE_NOT_FOUND', `no lake at ${path}; create one with \`tarn init\``, {
        catalog: path,
      })
    }
    return SqliteBackend.open(path)
  }
  throw new TarnError('INVALID_ARGUMENT', 'the catalog URL must start with sqlite: or postgres://', {
    catalogUrl: url,
  })
}
