import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalObjectStore } from '../../src/storage/local.js'
import { REFERENCE_DIR } from '../helpers/reference.js'

/** The reference foreign tables shipped with the project. */
export const FOREIGN_TABLES = join(REFERENCE_DIR, 'iceberg', 'foreign-tables')

/** A fresh warehouse directory with a local object store over it; `cleanup` removes it. */
export async function tempStore(): Promise<{
  store: LocalObjectStore
  dir: string
  cleanup: () => Promise<void>
}> {
  const dir = await mkdtemp(join(tmpdir(), 'tarn-iceberg-'))
  const store = await LocalObjectStore.create(dir)
  return { store, dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

/** A warehouse holding a copy of the foreign tables under `foreign/`. */
export async function foreignStore(): Promise<{ store: LocalObjectStore; cleanup: () => Promise<void> }> {
  const t = await tempStore()
  await cp(FOREIGN_TABLES, join(t.dir, 'foreign'), { recursive: true })
  return { store: t.store, cleanup: t.cleanup }
}
