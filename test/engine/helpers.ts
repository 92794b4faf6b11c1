import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Commit } from '../../src/catalog/types.js'
import { engineDirs, QueryEngine } from '../../src/engine/index.js'
import type { CommitResult } from '../../src/iceberg/index.js'
import { Lake } from '../../src/lake/lake.js'
import { fixedClock } from '../../src/util/clock.js'
import { seededRandom } from '../../src/util/random.js'

/** Writer dependencies with a fixed clock and a seeded random source. */
export const deps = { clock: fixedClock(Date.parse('2026-01-01T00:00:00Z'), 1000), random: seededRandom(7) }

/** A fresh embedded lake in a temp directory; `cleanup` closes it and removes the directory. */
export async function tempLake(env: Record<string, string | undefined> = {}): Promise<{
  lake: Lake
  home: string
  cleanup: () => Promise<void>
}> {
  const home = await mkdtemp(join(tmpdir(), 'tarn-engine-'))
  const lake = await Lake.init({ home, env, clock: deps.clock, random: deps.random, author: 'test' })
  return {
    lake,
    home,
    cleanup: async () => {
      await lake.close()
      await rm(home, { recursive: true, force: true })
    },
  }
}

/** Commits a table written by the Iceberg writers to a branch. */
export function putTable(lake: Lake, key: string, result: CommitResult, branch = 'main'): Promise<Commit> {
  return lake.catalog.commit({
    branch,
    changes: [{ type: 'putTable', key, state: result.state }],
    message: `write ${key}`,
  })
}

/** A query engine over a lake, with its cache and scratch under the lake home. */
export function engineOf(lake: Lake, options: { cacheMaxBytes?: number } = {}): Promise<QueryEngine> {
  return QueryEngine.create({
    catalog: lake.catalog,
    store: lake.store,
    ...engineDirs(lake.config.home),
    ...options,
  })
}
