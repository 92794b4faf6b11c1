import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { CatalogBackend } from '../src/catalog/backend.js'
import { PostgresBackend } from '../src/catalog/backends/postgres.js'
import { SqliteBackend } from '../src/catalog/backends/sqlite.js'
import { Catalog } from '../src/catalog/catalog.js'
import { makeCommit } from '../src/catalog/commit.js'
import { entryKey, tableValue } from '../src/catalog/entries.js'
import { LakeStates, type StateRef } from '../src/catalog/lake-state.js'
import { Tree } from '../src/catalog/tree.js'
import type { Commit, StoredObject, TableState } from '../src/catalog/types.js'
import { seededRandom } from '../src/util/random.js'
import { type BenchResult, type BenchSection, fmt, median, timeEach } from './result.js'

const HISTORY = Number(process.env.TARN_BENCH_HISTORY ?? 100_000)
const ITER = 200

function state(i: number, v: number): TableState {
  return {
    metadataLocation: `s3://bench/t${i}/metadata/v${v}.metadata.json`,
    snapshotId: String(v),
    schemaId: 0,
    tableUuid: `uuid-${i}`,
  }
}

/** Builds a lake with `tables` tables and `history` commits on main, bulk-loaded through the backend. */
async function buildLake(backend: CatalogBackend, tables: number, history: number): Promise<Catalog> {
  const catalog = new Catalog(backend, { author: 'bench' })
  await catalog.init()
  const states = new LakeStates(new Tree(backend))
  const rng = seededRandom(tables)
  const rootRef = await catalog.getBranch('main')
  let parent: Commit = await catalog.getCommit(rootRef.head)
  let commits: Commit[] = []
  let objects: StoredObject[] = []
  const initial = await states.apply(
    parent,
    new Map(
      Array.from({ length: tables }, (_, i) => [entryKey.table(`tarn.t${i}`), tableValue(state(i, 0))]),
    ),
  )
  let current: StateRef = initial.state
  objects.push(...initial.created)
  let ts = parent.timestamp
  for (let h = 0; h < history; h++) {
    if (h > 0) {
      const i = Math.floor(rng.next() * tables)
      const step = await states.apply(
        current,
        new Map([[entryKey.table(`tarn.t${i}`), tableValue(state(i, h))]]),
      )
      current = step.state
      objects.push(...step.created)
    }
    parent = makeCommit(
      {
        parents: [parent.hash],
        ...current,
        author: 'bench',
        message: `commit ${h}`,
        timestamp: ++ts,
        properties: {},
      },
      parent.generation + 1,
    )
    commits.push(parent)
    if (commits.length >= 5000) {
      await backend.putCommits(commits, objects)
      commits = []
      objects = []
    }
  }
  await backend.putCommits(commits, objects)
  await backend.updateBranch({
    name: 'main',
    expectedHead: rootRef.head,
    newHead: parent.hash,
    at: ts,
    operation: 'bench import',
  })
  return catalog
}

interface Target {
  readonly name: string
  /** A fresh, empty catalog; `again()` opens another client on the same catalog. */
  make(): Promise<CatalogBackend & { again?: () => CatalogBackend }>
  cleanup(): Promise<void>
}

function sqliteTarget(): Target {
  const dirs: string[] = []
  return {
    name: 'sqlite',
    make: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tarn-bench-'))
      dirs.push(dir)
      const path = join(dir, 'catalog.db')
      return Object.assign(SqliteBackend.open(path), { again: () => SqliteBackend.open(path) })
    },
    cleanup: async () => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true })
    },
  }
}

async function postgresTarget(): Promise<Target | undefined> {
  const url =
    process.env.TARN_BENCH_PG_URL ??
    process.env.TARN_TEST_PG_URL ??
    'postgres://tarn:tarn@127.0.0.1:5432/tarn'
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
  } catch {
    console.warn(`[bench] PostgreSQL at ${url} unreachable: PostgreSQL figures skipped (run .ci/postgres.sh)`)
    return undefined
  }
  const schemas: string[] = []
  return {
    name: 'postgres',
    make: async () => {
      const schema = `bench_${process.pid}_${schemas.length}`
      schemas.push(schema)
      const u = new URL(url)
      u.searchParams.set('schema', schema)
      const open = () => PostgresBackend.open(u.toString(), { maxConnections: 2 })
      return Object.assign(open(), { again: open })
    },
    cleanup: async () => {
      for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`)
      await client.end()
    },
  }
}

/** Median latencies of branch creation and single-table commits, measured alternately on the two lakes so that
 * machine noise hits both sides alike. */
async function latencies(
  small: Catalog,
  large: Catalog,
  tables: [number, number],
): Promise<{ branch: number[]; commit: number[] }> {
  const lakes = [small, large]
  const branch: number[][] = [[], []]
  const commit: number[][] = [[], []]
  let v = HISTORY
  for (let round = 0; round < ITER / 10; round++) {
    for (const [i, catalog] of lakes.entries()) {
      const n = tables[i] as number
      branch[i]?.push(
        ...(await timeEach(10, (k) => catalog.createBranch(`b${round}_${k}`, { from: 'main' }), 0)),
      )
      commit[i]?.push(
        ...(await timeEach(
          10,
          () =>
            catalog.commit({
              branch: 'main',
              changes: [{ type: 'putTable', key: `t${v % n}`, state: state(v % n, v++) }],
              message: 'one table',
            }),
          round === 0 ? 5 : 0,
        )),
      )
    }
  }
  return { branch: branch.map(median), commit: commit.map(median) }
}

async function warmLake(target: Target, tables: number): Promise<Catalog> {
  const catalog = await buildLake(await target.make(), tables, HISTORY)
  await catalog.state('main') // a long-lived catalog has the current tree in its node cache
  return catalog
}

async function mergeOf1000(catalog: Catalog): Promise<number> {
  await catalog.createBranch('wide', { from: 'main' })
  await catalog.commit({
    branch: 'wide',
    changes: Array.from({ length: 1000 }, (_, i) => ({
      type: 'putTable' as const,
      key: `t${i * 7}`,
      state: state(i * 7, 9e6 + i),
    })),
    message: 'change 1,000 tables',
  })
  await catalog.commit({
    branch: 'main',
    changes: [{ type: 'putTable', key: 't1', state: state(1, 8e6) }],
    message: 'move main',
  })
  const t = performance.now()
  const r = await catalog.merge('wide', { into: 'main' })
  const ms = performance.now() - t
  if (r.kind !== 'merge' || r.changes.tables.length !== 1000)
    throw new Error(`unexpected merge result ${r.kind}`)
  return ms
}

async function throughput(target: Target, mode: 'distinct branches' | 'one branch'): Promise<number> {
  const writers = 8
  const perWriter = 40
  const backend = await target.make()
  const setup = new Catalog(backend)
  await setup.init()
  const catalogs: Catalog[] = []
  for (let w = 0; w < writers; w++) {
    catalogs.push(new Catalog(backend.again ? backend.again() : backend))
    if (mode === 'distinct branches') await setup.createBranch(`w${w}`, { from: 'main' })
  }
  const t = performance.now()
  await Promise.all(
    catalogs.map(async (c, w) => {
      for (let k = 0; k < perWriter; k++) {
        await c.commit({
          branch: mode === 'one branch' ? 'main' : `w${w}`,
          changes: [{ type: 'putTable', key: `w${w}`, state: state(w, k) }],
          message: `w${w} ${k}`,
        })
      }
    }),
  )
  const seconds = (performance.now() - t) / 1000
  await setup.close()
  for (const c of catalogs) if (c.backend !== setup.backend) await c.close()
  return (writers * perWriter) / seconds
}

/** Catalog benchmarks: O(1) branch creation and O(changes) commits at 10 vs 10,000 tables, wide merges, concurrency. */
export async function benchCatalog(): Promise<BenchSection> {
  const results: BenchResult[] = []
  const targets = [sqliteTarget(), await postgresTarget()].filter((t): t is Target => t !== undefined)
  for (const target of targets) {
    try {
      process.stderr.write(`[bench] catalog ${target.name}: building lakes with ${fmt(HISTORY)} commits...\n`)
      const small = await warmLake(target, 10)
      const large = await warmLake(target, 10_000)
      const m = await latencies(small, large, [10, 10_000])
      await small.close()
      const [branchSmall, branchLarge] = m.branch as [number, number]
      const [commitSmall, commitLarge] = m.commit as [number, number]
      results.push(
        { name: `branch create, 10 tables (${target.name})`, value: branchSmall, unit: 'ms' },
        {
          name: `branch create, 10,000 tables (${target.name})`,
          value: branchLarge,
          unit: 'ms',
          baseline: '10 tables',
          ratio: branchLarge / branchSmall,
        },
        { name: `single-table commit, 10 tables (${target.name})`, value: commitSmall, unit: 'ms' },
        {
          name: `single-table commit, 10,000 tables (${target.name})`,
          value: commitLarge,
          unit: 'ms',
          baseline: '10 tables',
          ratio: commitLarge / commitSmall,
        },
      )
      const merge = await mergeOf1000(large)
      results.push({
        name: `three-way merge of a branch that changed 1,000 tables (${target.name})`,
        value: merge,
        unit: 'ms',
      })
      await large.close()
      for (const mode of ['distinct branches', 'one branch'] as const) {
        const rate = await throughput(target, mode)
        results.push({
          name: `8 concurrent writers, ${mode} (${target.name})`,
          value: rate,
          unit: 'commits/s',
        })
      }
    } finally {
      await target.cleanup()
    }
  }
  return {
    title: 'Catalog',
    description:
      `Lakes bulk-loaded with ${fmt(HISTORY)} commits of history on main; medians of ${ITER} operations with a warm ` +
      'catalog. Ratios compare the same operation at 10,000 tables against 10 tables (goal: at most 1.5x, i.e. O(1) ' +
      'branch creation and O(changed tables) commits). Concurrent writers are 8 catalog clients in one process, each ' +
      'committing its own table 40 times.',
    results,
  }
}
