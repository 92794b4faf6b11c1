import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { Change } from '../src/catalog/types.js'
import { Lake } from '../src/lake/lake.js'
import { ApiKeyStore } from '../src/server/auth/api-key-store.js'
import { serve } from '../src/server/serve.js'
import { type BenchResult, type BenchSection, fmt, median } from './result.js'
import { startServe, TARN_BIN } from './serve-process.js'

const LOADS = 300
const CLIENTS = 8
const COMMITS_PER_CLIENT = Number(process.env.TARN_BENCH_REST_COMMITS ?? 60)
/** Clock ticks per second of `/proc/<pid>/stat` times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100

const SCHEMA = {
  type: 'struct',
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'city', required: false, type: 'string' },
  ],
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

/**
 * A served lake with `tables` Iceberg tables in namespace `bench` on main: one created through the REST API, the
 * rest recorded by one catalog commit pointing at copies of its metadata file (what loadTable reads is the same).
 */
async function servedLake(tables: number) {
  const home = mkdtempSync(join(tmpdir(), 'tarn-bench-rest-'))
  const lake = await Lake.init({ home, author: 'bench' })
  const server = await serve({
    lake,
    keys: new ApiKeyStore(lake.catalog.backend, lake),
    host: '127.0.0.1',
    port: 0,
  })
  const base = `${server.url}/iceberg/v1/main`
  await post(`${base}/namespaces`, { namespace: ['bench'] })
  const created = await post(`${base}/namespaces/bench/tables`, { name: 't0', schema: SCHEMA })
  if (created.status !== 200) throw new Error(`create failed: ${await created.text()}`)
  const state = await lake.catalog.getTable('main', 'bench.t0')
  if (!state) throw new Error('no table')
  const bytes = await lake.store.get(lake.store.keyOf(state.metadataLocation) as string)
  const changes: Change[] = []
  for (let i = 1; i < tables; i++) {
    const key = `bench/t${i}-x/metadata/00001-m.metadata.json`
    await lake.store.put(key, bytes)
    changes.push({
      type: 'putTable',
      key: `bench.t${i}`,
      state: { ...state, metadataLocation: lake.store.uriOf(key) },
    })
  }
  for (let i = 0; i < changes.length; i += 5000) {
    await lake.catalog.commit({
      branch: 'main',
      changes: changes.slice(i, i + 5000),
      message: 'bench tables',
    })
  }
  return {
    base,
    lake,
    close: async () => {
      await server.close()
      await lake.close()
      rmSync(home, { recursive: true, force: true })
    },
  }
}

/** Median loadTable latencies on two lakes, requests alternating between them so that drift hits both alike. */
async function loadMedians(sizes: readonly [number, number]): Promise<[number, number]> {
  const lakes = [await servedLake(sizes[0]), await servedLake(sizes[1])]
  try {
    const load = async (l: number, i: number) => {
      const tables = sizes[l] as number
      const t = i < 0 ? 0 : (i * 7919) % tables
      const res = await fetch(`${lakes[l]?.base}/namespaces/bench/tables/t${t}`)
      if (res.status !== 200) throw new Error(`load failed: ${res.status}`)
      await res.arrayBuffer()
    }
    const times: [number[], number[]] = [[], []]
    for (let i = -20; i < LOADS; i++) {
      for (const l of [0, 1] as const) {
        // every load reads its metadata file, as a load of a table not read lately does: the 10 tables of the small
        // lake would otherwise come from the metadata cache and the 10,000 of the large one mostly not
        lakes[l]?.lake.metadataCache.clear()
        const t = performance.now()
        await load(l, i)
        if (i >= 0) times[l].push(performance.now() - t)
      }
    }
    return [median(times[0]), median(times[1])]
  } finally {
    for (const l of lakes) await l.close()
  }
}

/** The `tarn.js` the commit benchmark serves with (`TARN_BENCH_TARN_BIN` picks another build, e.g. the previous one). */
function tarnBin(): string {
  return process.env.TARN_BENCH_TARN_BIN ?? TARN_BIN
}

/** CPU time (user + system, all threads) the process `pid` has used so far, in ms (Linux `/proc`). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // the fields after the parenthesised command name; utime and stime are the 14th and 15th of the whole line
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS
}

/**
 * Commits per second of `clients` clients each committing `perClient` property updates to its own table, through a
 * `tarn serve` process of its own (as Spark's or PyIceberg's clients reach a catalog server), and the CPU time per
 * commit on each side: the server process (HTTP, commit, metadata file, catalog; all its threads) and the clients'
 * process (Node's fetch). CPU time is inflated far less than wall time by a loaded machine.
 */
export async function commitRate(
  clients: number,
  perClient: number,
  catalogUrl?: () => string,
): Promise<{ rate: number; serverCpuMs: number; clientCpuMs: number }> {
  const home = mkdtempSync(join(tmpdir(), 'tarn-bench-rest-'))
  const url = catalogUrl?.()
  const lake = await Lake.init({ home, author: 'bench', env: {}, ...(url ? { catalogUrl: url } : {}) })
  await lake.close()
  const server = await startServe(
    { TARN_HOME: home, TARN_USER: 'bench', ...(url ? { TARN_CATALOG_URL: url } : {}) },
    [],
    tarnBin(),
  )
  try {
    const base = `${server.url}/iceberg/v1/main`
    await post(`${base}/namespaces`, { namespace: ['bench'] })
    for (let c = 0; c < clients; c++) {
      const created = await post(`${base}/namespaces/bench/tables`, { name: `t${c}`, schema: SCHEMA })
      if (created.status !== 200) throw new Error(`create failed: ${await created.text()}`)
    }
    const one = async (c: number, n: number) => {
      const res = await post(`${base}/namespaces/bench/tables/t${c}`, {
        requirements: [],
        updates: [{ action: 'set-properties', updates: { n: String(n) } }],
      })
      if (res.status !== 200) throw new Error(`commit failed: ${res.status} ${await res.text()}`)
      await res.arrayBuffer()
    }
    // warm up both processes (JIT, connections) before measuring
    await Promise.all(Array.from({ length: clients }, async (_, c) => one(c, -1)))
    const t = performance.now()
    const cpu = process.cpuUsage()
    const serverCpu = processCpuMs(server.pid)
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        for (let n = 0; n < perClient; n++) await one(c, n)
      }),
    )
    const serverMs = processCpuMs(server.pid) - serverCpu
    const used = process.cpuUsage(cpu)
    const commits = clients * perClient
    return {
      rate: commits / ((performance.now() - t) / 1000),
      serverCpuMs: serverMs / commits,
      clientCpuMs: (used.user + used.system) / 1000 / commits,
    }
  } finally {
    await server.stop()
    rmSync(home, { recursive: true, force: true })
  }
}

async function postgres(): Promise<{ open: () => string; cleanup: () => Promise<void> } | undefined> {
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
    open: () => {
      const schema = `bench_rest_${process.pid}_${schemas.length}`
      schemas.push(schema)
      const u = new URL(url)
      u.searchParams.set('schema', schema)
      return u.toString()
    },
    cleanup: async () => {
      for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`)
      await client.end()
    },
  }
}

/**
 * The Iceberg REST catalog of `tarn serve` over loopback HTTP: `loadTable` latency at 10 and 10,000 tables, and
 * `commit table` throughput of 8 concurrent clients on one branch against one client, on SQLite and PostgreSQL.
 *
 * @example
 * ```ts
 * const section = await benchIcebergRest()
 * ```
 */
export async function benchIcebergRest(): Promise<BenchSection> {
  const results: BenchResult[] = []
  const [small, large] = await loadMedians([10, 10_000])
  results.push({ name: 'loadTable median, 10 tables', value: small, unit: 'ms' })
  results.push({
    name: 'loadTable median, 10,000 tables',
    value: large,
    unit: 'ms',
    baseline: '10 tables',
    ratio: large / small,
  })
  const targets: { name: string; open?: () => string; cleanup?: () => Promise<void> }[] = [{ name: 'sqlite' }]
  const pgTarget = await postgres()
  if (pgTarget) targets.push({ name: 'postgres', open: pgTarget.open, cleanup: pgTarget.cleanup })
  for (const t of targets) {
    const single = await commitRate(1, COMMITS_PER_CLIENT * 2, t.open)
    const many = await commitRate(CLIENTS, COMMITS_PER_CLIENT, t.open)
    results.push({ name: `commit table, 1 client (${t.name})`, value: single.rate, unit: 'commits/s' })
    results.push({
      name: `commit table, ${CLIENTS} concurrent clients, one branch (${t.name})`,
      value: many.rate,
      unit: 'commits/s',
      baseline: '1 client',
      ratio: many.rate / single.rate,
    })
    results.push({
      name: `  server process CPU time per commit, ${CLIENTS} clients (${t.name}; robust to other load)`,
      value: many.serverCpuMs,
      unit: 'ms',
      baseline: '1 client',
      ratio: many.serverCpuMs / single.serverCpuMs,
    })
    results.push({
      name: `  client process CPU time per commit, ${CLIENTS} clients (${t.name})`,
      value: many.clientCpuMs,
      unit: 'ms',
      baseline: '1 client',
      ratio: many.clientCpuMs / single.clientCpuMs,
    })
    await t.cleanup?.()
  }
  console.warn(
    `[bench] iceberg-rest: ${results.map((r) => `${r.name} ${fmt(r.value)} ${r.unit}`).join('; ')}`,
  )
  return {
    title: 'Iceberg REST catalog',
    description:
      "`tarn serve`'s Iceberg REST catalog over loopback HTTP with Node's fetch as the client (keep-alive). " +
      "loadTable: GET of a table (catalog lookup, metadata file read, JSON answer; the lake's metadata cache is " +
      `cleared before each, so every load reads its file) at spread-out tables of a lake of 10 and of 10,000 tables, ${LOADS} ` +
      'requests each, alternating between the two lakes, client and server in one process. commit table: `tarn serve` ' +
      "runs as its own process, as a catalog server does for Spark or PyIceberg, and the clients in the benchmark's " +
      'process; each client commits set-properties updates to its own table of main (a new metadata file and a tarn ' +
      'commit each), 8 clients at once against 1 client; CPU time per commit is given for each process (all its ' +
      'threads, from /proc). Commits that reach one branch while another is being written are written as a group (each ' +
      'its own commit, one backend transaction and one ref update for the group); on PostgreSQL the branch moves in ' +
      "one statement. A commit starts from the metadata the previous commit of its table wrote (kept in the lake's " +
      'metadata cache: no read, no parse), writes its metadata file in place under its fresh name (exclusive create, ' +
      'one O_DSYNC write, close, directory fsync: 6 file-system calls) and answers with the JSON it wrote to the file.',
    results,
  }
}
