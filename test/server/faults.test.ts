import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { beforeAll, describe, expect, it } from 'vitest'
import { Lake, RemoteLake } from '../../src/index.js'
import { ensureBuilt } from '../helpers/build.js'
import { startServe } from './served-process.js'

const BIG_ROWS = 1_000_000
const SMALL_ROWS = 200

/** Writes a CSV of `count` rows with ids from `from` (the id range names the file it came from). */
async function bigCsv(path: string, from: number, count: number): Promise<string> {
  const db = await DuckDBInstance.create(':memory:')
  const c = await db.connect()
  try {
    await c.run(
      `COPY (SELECT range + ${from} AS id, 'zone' || (range % 97) AS zone, range * 1.5 AS amount FROM range(${count})) TO '${path}' (HEADER)`,
    )
  } finally {
    c.closeSync()
    db.closeSync()
  }
  return path
}

function smallCsv(path: string, from: number, count: number): string {
  const lines = Array.from({ length: count }, (_, i) => `${from + i},zone${(from + i) % 97},${i * 1.5}`)
  writeFileSync(path, `id,zone,amount\n${lines.join('\n')}\n`)
  return path
}

/** The Parquet files under the lake's warehouse. */
function dataFiles(home: string): string[] {
  const root = join(home, 'warehouse')
  if (!existsSync(root)) return []
  return (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet'))
}

async function lakeWithTable(): Promise<{ dir: string; home: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-faults-'))
  const home = join(dir, 'lake')
  const lake = await Lake.init({ home, author: 'setup', env: {} })
  try {
    await lake.createTable('trips', { from: smallCsv(join(dir, 'base.csv'), 0, SMALL_ROWS) })
  } finally {
    await lake.close()
  }
  return { dir, home }
}

/** Every reflog entry of a branch starts from the head the previous one left, and the last is the head. */
async function expectOneChainOfHeads(lake: Lake, branch: string): Promise<void> {
  const reflog = await lake.catalog.backend.reflog(branch)
  for (let i = 1; i < reflog.length; i++) expect(reflog[i]?.oldHead).toBe(reflog[i - 1]?.newHead)
  expect(reflog.at(-1)?.newHead).toBe((await lake.getBranch(branch)).head)
}

/** Rows per import file (ids `k * 10_000_000 ...`): every file that landed must have landed whole. */
async function rowsPerFile(lake: Lake): Promise<Map<number, number>> {
  const r = await lake.query('SELECT id // 10000000 AS part, count(*) AS n FROM trips GROUP BY 1 ORDER BY 1')
  return new Map(r.rows().map((row) => [Number(row.part), Number(row.n)]))
}

describe('tarn serve under SIGTERM and SIGKILL', () => {
  beforeAll(() => ensureBuilt())

  it('on SIGTERM during a large import drains it (answered and committed whole) and exits 0', async () => {
    const { dir, home } = await lakeWithTable()
    const big = await bigCsv(join(dir, 'big.csv'), 10_000_000, BIG_ROWS)
    const server = await startServe({ TARN_HOME: home })
    const before = dataFiles(home).length
    const answer = fetch(`${server.url}/api/v1/tables/trips/import`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: [big], branch: 'main' }),
    }).then(
      async (res) => ({ status: res.status, body: (await res.json()) as { commit?: { hash: string } } }),
      (e: unknown) => ({ status: 0, body: { error: String(e) } as { commit?: { hash: string } } }),
    )
    // signal while the server writes the new data file (or after 2 s at the latest)
    const deadline = Date.now() + 2000
    while (dataFiles(home).length === before && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10))
    }
    server.child.kill('SIGTERM')
    const { status, body } = await answer
    expect(await server.exited, server.stderr()).toBe(0)
    expect(server.stderr()).toContain('draining')
    // the in-flight import was drained: answered 200 and present whole
    expect(status, JSON.stringify(body)).toBe(200)
    const lake = await Lake.open({ home, env: {} })
    try {
      const log = await lake.log('main')
      expect(log[0]?.hash).toBe(body.commit?.hash)
      expect(log[0]?.properties['tarn.operation']).toBe('import')
      await expectOneChainOfHeads(lake, 'main')
      expect(await rowsPerFile(lake)).toEqual(
        new Map([
          [0, SMALL_ROWS],
          [1, BIG_ROWS],
        ]),
      )
    } finally {
      await lake.close()
    }
    // once draining started, the server accepted nothing new
    await expect(fetch(`${server.url}/api/v1/info`)).rejects.toThrow()
  }, 180_000)

  it('after SIGKILL mid-write restarts on the same lake with every acknowledged import present and every import whole or absent', async () => {
    const { dir, home } = await lakeWithTable()
    const big = await bigCsv(join(dir, 'big.csv'), 10_000_000, BIG_ROWS)
    const server = await startServe({ TARN_HOME: home })
    const remote = RemoteLake.connect({ url: server.url })
    const acked = new Map<number, string>()
    const sent = new Set<number>()
    let killed = false
    const importPart = async (part: number, file: string): Promise<void> => {
      sent.add(part)
      try {
        const r = await remote.importTable('trips', { from: file, branch: 'main' })
        acked.set(part, r.commit.hash)
      } catch {
        // unacknowledged: the server died first (or refused), so it may be present or absent
      }
    }
    const loops = Array.from({ length: 3 }, async (_, w) => {
      for (let k = 0; !killed; k++) {
        const part = 2 + w * 1000 + k
        await importPart(part, smallCsv(join(dir, `p${part}.csv`), part * 10_000_000, SMALL_ROWS))
      }
    })
    const bigImport = importPart(1, big)
    // kill it hard once the big import writes and a few small imports were answered
    const deadline = Date.now() + 20_000
    const before = dataFiles(home).length
    while ((acked.size < 3 || dataFiles(home).length <= before + acked.size) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5))
    }
    server.child.kill('SIGKILL')
    killed = true
    expect(await server.exited).toBe('SIGKILL')
    await Promise.all([...loops, bigImport])
    expect(acked.size).toBeGreaterThanOrEqual(3)

    const restarted = await startServe({ TARN_HOME: home })
    try {
      const again = RemoteLake.connect({ url: restarted.url })
      const history = new Set((await again.log('main')).map((c) => c.hash))
      for (const [part, hash] of acked) expect(history.has(hash), `acknowledged import ${part}`).toBe(true)
      // the imports the killed server left running are settled as interrupted, none stays running
      expect(await again.listAllJobs({ status: 'running' })).toEqual([])
      const interrupted = (await again.listAllJobs({ status: 'failed' })).filter(
        (j) => j.error?.code === 'JOB_INTERRUPTED',
      )
      expect(interrupted.length).toBeGreaterThanOrEqual(1)
      expect(interrupted.every((j) => j.kind === 'import')).toBe(true)
      // the restarted server takes writes: the lake is not left locked
      const after = await again.importTable('trips', {
        from: smallCsv(join(dir, 'after.csv'), 999 * 10_000_000, SMALL_ROWS),
        branch: 'main',
      })
      expect(after.addedRecords).toBe(SMALL_ROWS)
    } finally {
      expect(await restarted.stop()).toBe(0)
    }
    const lake = await Lake.open({ home, env: {} })
    try {
      await expectOneChainOfHeads(lake, 'main')
      const parts = await rowsPerFile(lake)
      for (const part of acked.keys()) expect(parts.has(part), `acknowledged import ${part}`).toBe(true)
      for (const [part, n] of parts) {
        expect(part === 0 || part === 999 || sent.has(part), `unexpected part ${part}`).toBe(true)
        expect(n, `rows of import ${part}`).toBe(part === 1 ? BIG_ROWS : SMALL_ROWS)
      }
      const imports = (await lake.log('main')).filter((c) => c.properties['tarn.operation'] === 'import')
      expect(imports).toHaveLength(parts.size - 1)
      const details = await lake.getTable('trips', { ref: 'main' })
      expect(details.recordCount).toBe([...parts.values()].reduce((a, b) => a + b, 0))
    } finally {
      await lake.close()
    }
  }, 240_000)
})
