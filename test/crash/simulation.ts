import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isAncestor, walkHistory } from '../../src/catalog/ancestry.js'
import { SqliteBackend } from '../../src/catalog/backends/sqlite.js'
import type { Commit } from '../../src/catalog/types.js'
import { manifestEntries, snapshotManifests } from '../../src/iceberg/scan-planner.js'
import { loadTable } from '../../src/iceberg/table-loader.js'
import { Lake } from '../../src/lake/lake.js'
import { runPipeline } from '../../src/pipeline/run/run-pipeline.js'
import { LocalObjectStore } from '../../src/storage/local.js'
import { type Clock, fixedClock } from '../../src/util/clock.js'
import { type Random, seededRandom } from '../../src/util/random.js'
import { FaultBackend } from './fault-backend.js'
import { FaultStore } from './fault-store.js'
import { FaultInjector, type FaultKind, type FaultPoint, faultSchedule, type IoEvent } from './faults.js'

/** The operation kinds the simulation faults. */
export type OperationKind = 'commit' | 'merge' | 'import' | 'run' | 'gc'

/** Clock start of every simulated process (commit times); warehouse files of the setup are aged before it. */
export const SIM_EPOCH = Date.UTC(2026, 0, 1)

/** What an operation told its caller, as far as it got: acknowledged commits, and whether a run succeeded. */
export interface Acks {
  readonly commits: { branch: string; hash: string }[]
  run?: { target: string; status: 'succeeded' | 'failed'; mergeCommit?: string }
  gcDeleted?: number
}

/** One scenario: a template lake built once, and an operation run on a copy of it. */
interface Scenario {
  readonly kind: OperationKind
  /** Branches the operation may move. */
  readonly moves: readonly string[]
  setup(lake: Lake, data: string): Promise<void>
  op(lake: Lake, data: string, acks: Acks): Promise<void>
}

/** Seeded CSV rows `id,k,v`. */
function csv(seed: number, n: number, first: number): string {
  const r = seededRandom(seed)
  const rows = ['id,k,v']
  for (let i = 0; i < n; i++)
    rows.push(`${first + i},${Math.floor(r.next() * 5)},${Math.floor(r.next() * 1000)}`)
  return `${rows.join('\n')}\n`
}

const PROJECT = {
  'tarn_project.yml': 'name: crash\nnamespace: tarn\n',
  'by_k.sql': '-- tarn: materialize=REPLACE\nSELECT k, count(*) AS n, sum(v) AS total FROM t GROUP BY k\n',
  'big.sql': '-- tarn: materialize=APPEND\nSELECT id, v FROM t WHERE v > 500\n',
  'joined.sql': '-- tarn: materialize=REPLACE\nSELECT b.k, b.n, t2.v FROM by_k b JOIN t2 ON t2.k = b.k\n',
}

async function baseTables(lake: Lake, data: string): Promise<void> {
  await lake.createTable('t', { from: join(data, 'f1.csv') })
  await lake.createTable('t2', { from: join(data, 'f2.csv') })
}

/** Rounds of the commit scenario (each: 6 commits, a branch and a tag). */
const COMMIT_ROUNDS = 11

/** Branches merged into `main` by the merge scenario, each with an append to `t2` and a namespace. */
const MERGE_OTHERS = 6

const SCENARIOS: Record<OperationKind, Scenario> = {
  commit: {
    kind: 'commit',
    moves: ['main', ...Array.from({ length: COMMIT_ROUNDS }, (_, i) => `dev${i}`)],
    setup: baseTables,
    async op(lake, _data, acks) {
      const push = (branch: string, c: Commit): void => {
        acks.commits.push({ branch, hash: c.hash })
      }
      for (let i = 0; i < COMMIT_ROUNDS; i++) {
        const dev = `dev${i}`
        const c1 = await lake.createNamespace(`sales${i}`)
        push('main', c1)
        await lake.createBranch(dev, { from: 'main' })
        push(dev, await lake.dropTable('t2', { branch: dev }))
        push('main', await lake.createNamespace(`ops${i}`, { branch: 'main', properties: { owner: 'sim' } }))
        await lake.createTag(`v${i}`, { from: 'main' })
        push('main', (await lake.revert(c1.hash, { on: 'main' })).commit)
        push(dev, await lake.createNamespace('staging', { branch: dev }))
        push(dev, await lake.dropNamespace('staging', { branch: dev }))
      }
      push('main', await lake.dropTable('t', { branch: 'main' }))
    },
  },
  merge: {
    kind: 'merge',
    moves: ['main', 'dev'],
    async setup(lake, data) {
      await baseTables(lake, data)
      await lake.createBranch('dev', { from: 'main' })
      await lake.importTable('t', { from: join(data, 'f3.csv'), branch: 'dev' })
      await lake.importTable('t', { from: join(data, 'f4.csv'), branch: 'main' })
      await lake.createBranch('ns', { from: 'main' })
      await lake.createNamespace('sales', { branch: 'ns' })
      await lake.createBranch('ff', { from: 'dev' })
      await lake.importTable('t2', { from: join(data, 'f1.csv'), branch: 'ff' })
      for (let i = 0; i < MERGE_OTHERS; i++) {
        const file = ['f3', 'f4', 'f1'][i % 3]
        await lake.createBranch(`other${i}`, { from: 'main' })
        await lake.importTable('t2', { from: join(data, `${file}.csv`), branch: `other${i}`, force: true })
        await lake.createNamespace(`ns${i}`, { branch: `other${i}` })
      }
    },
    async op(lake, _data, acks) {
      for (const [source, into] of [
        ['dev', 'main'],
        ['ns', 'main'],
        ['ff', 'dev'],
        ['other0', 'main'],
        ['other1', 'main'],
        ['dev', 'main'],
        ...Array.from({ length: MERGE_OTHERS - 2 }, (_, i) => [`other${i + 2}`, 'main'] as const),
        ['main', 'dev'],
      ] as const) {
        const m = await lake.merge(source, { into })
        acks.commits.push({ branch: into, hash: m.target.after })
      }
    },
  },
  import: {
    kind: 'import',
    moves: ['main', 'dev'],
    async setup(lake, data) {
      await baseTables(lake, data)
      await lake.createBranch('dev', { from: 'main' })
    },
    async op(lake, data, acks) {
      for (const [table, file, branch, create] of [
        ['t', 'f3', 'main', false],
        ['t3', 'f4', 'main', true],
        ['t2', 'f4', 'dev', false],
        ['t3', 'f1', 'main', false],
        ['t4', 'f2', 'dev', true],
        ['t', 'f4', 'main', false],
      ] as const) {
        const from = join(data, `${file}.csv`)
        const r = create
          ? await lake.createTable(table, { from, branch })
          : await lake.importTable(table, { from, branch })
        acks.commits.push({ branch, hash: r.commit.hash })
      }
    },
  },
  run: {
    kind: 'run',
    moves: ['main'],
    setup: baseTables,
    async op(lake, data, acks) {
      await simRun(lake, data, acks)
    },
  },
  gc: {
    kind: 'gc',
    moves: ['main'],
    async setup(lake, data) {
      await baseTables(lake, data)
      await lake.createBranch('scratch', { from: 'main' })
      await lake.importTable('t', { from: join(data, 'f3.csv'), branch: 'scratch' })
      await lake.createTable('t9', { from: join(data, 'f4.csv'), branch: 'scratch' })
      await lake.deleteBranch('scratch')
    },
    async op(lake, data, acks) {
      const [run, gc] = await Promise.allSettled([
        simRun(lake, data, acks),
        lake.gc({ olderThanMs: 30 * 86_400_000 }).then((r) => {
          acks.gcDeleted = r.deleted
        }),
      ])
      if (run.status === 'rejected') throw run.reason
      if (gc.status === 'rejected') throw gc.reason
    },
  },
}

async function simRun(lake: Lake, data: string, acks: Acks): Promise<void> {
  acks.run = { target: 'main', status: 'failed' }
  const { job } = await runPipeline(lake, { dir: join(data, 'project'), branch: 'main' })
  acks.run = {
    target: 'main',
    status: 'succeeded',
    ...(job.mergeCommit ? { mergeCommit: job.mergeCommit } : {}),
  }
  if (job.mergeCommit) acks.commits.push({ branch: 'main', hash: job.mergeCommit })
}

/** Writes the seeded input files and the SQL project. */
function writeData(seed: number): string {
  const data = mkdtempSync(join(tmpdir(), 'tarn-crash-data-'))
  const r = seededRandom(seed)
  for (const [i, name] of ['f1', 'f2', 'f3', 'f4'].entries()) {
    writeFileSync(join(data, `${name}.csv`), csv(seed + i, 3 + Math.floor(r.next() * 20), i * 1000))
  }
  mkdirSync(join(data, 'project'))
  for (const [path, text] of Object.entries(PROJECT)) writeFileSync(join(data, 'project', path), text)
  return data
}

/** Sets the times of every warehouse file two hours before {@link SIM_EPOCH}, so GC may sweep the garbage. */
function ageWarehouse(dir: string): void {
  const old = (SIM_EPOCH - 2 * 3_600_000) / 1000
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) utimesSync(join(entry.parentPath, entry.name), old, old)
  }
}

/** A ref's kind and head. */
export interface RefSnapshot {
  readonly kind: 'branch' | 'tag'
  readonly head: string
}

/** A lake state before the operation: refs and their heads. */
export async function refsOf(lake: Lake): Promise<Map<string, RefSnapshot>> {
  const out = new Map<string, RefSnapshot>()
  for (const b of await lake.listBranches()) out.set(b.name, { kind: 'branch', head: b.head })
  for (const t of await lake.listTags()) out.set(t.name, { kind: 'tag', head: t.head })
  return out
}

/** One fault point's lake: a fresh copy of the template, opened with every I/O through the fault injector. */
export interface SimCopy {
  readonly lake: Lake
  /** Resolves once every I/O that reached the real catalog or warehouse has settled. */
  settled(): Promise<void>
  /** Opens the copy again without faults (for the checker). */
  reopen(): Promise<Lake>
  /** Deletes the copy. */
  dispose(): Promise<void>
}

/** Clock, random and author of a lake the simulation opens. */
export interface SimLakeOptions {
  readonly clock: Clock
  readonly random: Random
  readonly author: string
}

/**
 * Where the lakes of one operation kind's simulation live: the catalog backend and warehouse store of the template
 * lake and of its per-fault-point copies.
 *
 * @example
 * ```ts
 * const env = await localEnvironment()('commit')
 * const lake = await env.initTemplate({ clock, random, author: 'setup' })
 * ```
 */
export interface SimEnvironment {
  /** Store writes are atomic (S3): no torn file can be seen, so `torn` is no distinct fault kind. */
  readonly atomicStoreWrites: boolean
  /** Called when the simulated process dies (e.g. drops its database connections). */
  readonly onCrash?: () => void
  /** Creates the empty template lake, without faults. */
  initTemplate(options: SimLakeOptions): Promise<Lake>
  /** Freezes the template once its set-up lake has closed (e.g. ages its files, snapshots its warehouse). */
  sealTemplate(): Promise<void>
  /** Makes a fresh copy of the template named `name` and opens it with every I/O through `injector`. */
  openCopy(name: string, injector: FaultInjector, options: SimLakeOptions): Promise<SimCopy>
  /** Figures of the environment for the report (e.g. real connection cuts), or undefined. */
  figures?(): string | undefined
  /** Deletes the template and everything left. */
  close(): Promise<void>
}

/** Makes the {@link SimEnvironment} of one operation kind. */
export type SimEnvironmentFactory = (kind: OperationKind) => Promise<SimEnvironment>

/**
 * The embedded environment: a SQLite catalog and a local warehouse in a temp directory; a copy is a copied directory.
 *
 * @example
 * ```ts
 * await simulateOperation('merge', 42, 100, localEnvironment())
 * ```
 */
export function localEnvironment(): SimEnvironmentFactory {
  return async (kind) => {
    const root = mkdtempSync(join(tmpdir(), `tarn-crash-${kind}-`))
    const template = join(root, 'template')
    return {
      atomicStoreWrites: false,
      initTemplate: (options) => Lake.init({ home: template, env: {}, ...options }),
      async sealTemplate() {
        ageWarehouse(join(template, 'warehouse'))
      },
      async openCopy(name, injector, options) {
        const home = join(root, name)
        cpSync(template, home, { recursive: true, preserveTimestamps: true })
        const backend = new FaultBackend(SqliteBackend.open(join(home, 'catalog.db')), injector)
        const store = new FaultStore(await LocalObjectStore.create(join(home, 'warehouse')), injector)
        const lake = await Lake.open({ home, env: {}, backend, store, ...options })
        return {
          lake,
          async settled() {
            await Promise.all([backend.settled(), store.settled()])
          },
          reopen: () => Lake.open({ home, env: {}, author: 'checker' }),
          async dispose() {
            rmSync(home, { recursive: true, force: true })
          },
        }
      },
      async close() {
        rmSync(root, { recursive: true, force: true })
      },
    }
  }
}

/** The result of one fault point. */
export interface FaultPointResult {
  readonly k: number
  readonly kind: FaultKind
  /** Consecutive I/Os a transient fault fails. */
  readonly burst?: number
  /** The I/O that received the fault (undefined when the operation ended before I/O number k). */
  readonly hit: string | undefined
  readonly failed: boolean
  readonly violations: readonly string[]
  /** Product bugs already reported to the lead, recognised and kept apart from new violations. */
  readonly known: readonly string[]
}

/**
 * Checks the lake at `home` (or the one `home()` opens), reopened without faults, against the state before the operation and what the operation
 * acknowledged. Returns the violated invariants (empty when all hold) and findings of known product bugs.
 */
export async function checkInvariants(
  home: string | (() => Promise<Lake>),
  scenario: Pick<Scenario, 'moves'>,
  before: Map<string, RefSnapshot>,
  acks: Acks,
  hit: FaultPointResult['hit'],
): Promise<{ violations: string[]; known: string[] }> {
  const violations: string[] = []
  const known: string[] = []
  const lake = typeof home === 'string' ? await Lake.open({ home, env: {}, author: 'checker' }) : await home()
  try {
    const load = (hashes: readonly string[]): Promise<Commit[]> => lake.catalog.getCommits(hashes)
    const after = await refsOf(lake)
    // 1. Every head is its old value or a new value reached by the operation (a descendant of the old one).
    for (const [name, old] of before) {
      const now = after.get(name)
      if (!now) {
        violations.push(`ref ${name} disappeared`)
        continue
      }
      if (now.head === old.head) continue
      if (old.kind === 'tag' || !scenario.moves.includes(name)) {
        violations.push(`ref ${name} moved from ${old.head.slice(0, 12)} to ${now.head.slice(0, 12)}`)
        continue
      }
      const [o, n] = await lake.catalog.getCommits([old.head, now.head])
      if (!o || !n || !(await isAncestor(load, o, n)))
        violations.push(
          `branch ${name} head ${now.head.slice(0, 12)} is neither its old value nor a descendant of it`,
        )
    }
    // 2. No acknowledged commit is lost.
    for (const { branch, hash } of acks.commits) {
      const ref = after.get(branch)
      const [c] = await lake.catalog.getCommits([hash])
      const [h] = ref ? await lake.catalog.getCommits([ref.head]) : []
      if (!c || !h || !(await isAncestor(load, c, h)))
        violations.push(`acknowledged commit ${hash.slice(0, 12)} is not in the history of ${branch}`)
    }
    // 3. A failed run left no visible trace on its target.
    if (acks.run?.status === 'failed') {
      const old = before.get(acks.run.target)?.head
      const now = after.get(acks.run.target)?.head
      if (old !== now) {
        const ackLostOnLanding = hit === 'catalog.updateBranch:ack-lost'
        const [head] = now ? await lake.catalog.getCommits([now]) : []
        const landed = head?.properties['tarn.operation'] === 'run-merge'
        if (ackLostOnLanding && landed) {
          // The landing committed and only its acknowledgement was lost: the outcome is unknown to the caller.
        } else if (landed) {
          violations.push(
            `the run reported failure (fault at ${hit}) after it had landed on ${acks.run.target}`,
          )
        } else violations.push(`failed run moved ${acks.run.target} to ${now?.slice(0, 12)}`)
      }
    }
    // 4. Every file a commit of any ref references exists and parses; GC deleted none of them.
    violations.push(...(await checkFiles(lake, after)))
  } finally {
    await lake.close()
  }
  return { violations, known }
}

/** Every commit of every ref: its table metadata, manifest lists and manifests parse and its data files exist. */
async function checkFiles(lake: Lake, refs: Map<string, RefSnapshot>): Promise<string[]> {
  const out: string[] = []
  const heads = await lake.catalog.getCommits([...new Set([...refs.values()].map((r) => r.head))])
  const commits = await walkHistory(
    (h) => lake.catalog.getCommits(h),
    heads,
    Number.POSITIVE_INFINITY,
    () => true,
  )
  const locations = new Set<string>()
  for (const c of commits) {
    for (const t of Object.values((await lake.catalog.stateOf(c)).tables)) locations.add(t.metadataLocation)
  }
  const seen = new Set<string>()
  const checkFile = async (location: string, path: string): Promise<void> => {
    const key = lake.store.keyOf(path)
    if (key === undefined) return
    const info = await lake.store.head(key)
    if (!info) out.push(`data file ${key} of ${location} is missing`)
    else if (key.endsWith('.parquet')) {
      const tail = await lake.store.get(key, { range: { offset: info.size - 4, length: 4 } })
      if (new TextDecoder().decode(tail) !== 'PAR1') out.push(`data file ${key} is not a whole Parquet file`)
    }
  }
  // Tables are checked concurrently (a remote warehouse answers each request in milliseconds).
  await Promise.all(
    [...locations].map(async (location) => {
      try {
        const table = await loadTable(lake.store, location)
        for (const snapshot of table.metadata.snapshots) {
          for (const manifest of await snapshotManifests(table, snapshot)) {
            const path = table.io.resolve(manifest.manifestPath)
            if (seen.has(path)) continue
            seen.add(path)
            const entries = await manifestEntries(table, manifest)
            await Promise.all(entries.map((e) => checkFile(location, table.io.resolve(e.dataFile.filePath))))
          }
        }
      } catch (e) {
        out.push(`table ${location} cannot be read: ${(e as Error).message}`)
      }
    }),
  )
  out.sort()
  for await (const info of lake.store.list('')) {
    if (info.key.includes('.tarn-tmp-')) out.push(`a torn temp file is visible: ${info.key}`)
  }
  return out
}

/** Totals of one operation kind. */
export interface OperationReport {
  readonly kind: OperationKind
  /** I/Os of the operation without faults. */
  readonly ios: number
  /** Distinct fault points of the operation (I/O number × fault kind that acts differently there). */
  readonly candidates: number
  readonly points: readonly FaultPointResult[]
  /** Figures of the environment (e.g. real connection cuts), if it has any. */
  readonly notes?: string
}

/**
 * Runs the crash simulation of one operation kind: builds the template lake, counts the operation's I/Os without a
 * fault (and checks that run), then for every k in 1..min(N, limit) runs it on a fresh copy with the fault the seed
 * schedules at k, reopens the lake without faults and checks the invariants.
 */
export async function simulateOperation(
  kind: OperationKind,
  seed: number,
  limit: number,
  environment: SimEnvironmentFactory = localEnvironment(),
): Promise<OperationReport> {
  const scenario = SCENARIOS[kind]
  const env = await environment(kind)
  const data = writeData(seed)
  try {
    const setupLake = await env.initTemplate({
      author: 'setup',
      clock: fixedClock(SIM_EPOCH, 1000),
      random: seededRandom(seed + 1),
    })
    await scenario.setup(setupLake, data)
    const before = await refsOf(setupLake)
    await setupLake.close()
    await env.sealTemplate()

    const attempt = async (name: string, fault?: FaultPoint) => {
      const injector = new FaultInjector(fault, env.onCrash ? { onCrash: env.onCrash } : {})
      const copy = await env.openCopy(name, injector, {
        author: 'sim',
        clock: fixedClock(SIM_EPOCH + 86_400_000, 1000),
        random: seededRandom(seed),
      })
      const lake = copy.lake
      const acks: Acks = { commits: [] }
      let failed = false
      injector.arm()
      try {
        await scenario.op(lake, data, acks)
      } catch (e) {
        failed = true
        // TARN_CRASH_DEBUG=1 prints why each simulated operation failed.
        if (process.env.TARN_CRASH_DEBUG) console.log(`[crash-sim] ${kind} ${name}:`, e)
      }
      const ios = injector.count
      await copy.settled()
      await lake.close().catch(() => undefined)
      const hit = injector.hit ? `${injector.hit.target}.${injector.hit.op}:${injector.hit.kind}` : undefined
      const checked = await checkInvariants(copy.reopen, scenario, before, acks, hit)
      await copy.dispose()
      return { ios, failed, hit, acks, events: injector.events as readonly IoEvent[], ...checked }
    }

    const clean = await attempt('clean')
    const sanity = [...clean.violations]
    if (clean.failed) sanity.push('the operation fails without faults')
    if (kind === 'gc' && (clean.acks.gcDeleted ?? 0) === 0)
      sanity.push('gc deleted no garbage without faults')
    if ((kind === 'run' || kind === 'gc') && clean.acks.run?.status !== 'succeeded')
      sanity.push('the run fails without faults')
    const points: FaultPointResult[] = []
    if (sanity.length > 0)
      points.push({
        k: 0,
        kind: 'crash',
        hit: undefined,
        failed: clean.failed,
        violations: sanity,
        known: [],
      })
    const options = { atomicStoreWrites: env.atomicStoreWrites }
    const candidates = faultSchedule(seed, kind, clean.events, Number.POSITIVE_INFINITY, options).length
    for (const fault of faultSchedule(seed, kind, clean.events, limit, options)) {
      const r = await attempt(`k${fault.at}-${fault.kind}`, fault)
      points.push({
        k: fault.at,
        kind: fault.kind,
        burst: fault.burst ?? 1,
        hit: r.hit,
        failed: r.failed,
        violations: r.violations,
        known: r.known,
      })
    }
    const notes = env.figures?.()
    return { kind, ios: clean.ios, candidates, points, ...(notes ? { notes } : {}) }
  } finally {
    await env.close()
    rmSync(data, { recursive: true, force: true })
  }
}
