import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Lake, RemoteLake, TarnError } from '../../src/index.js'
import { ensureBuilt } from '../helpers/build.js'
import { freshSchemaUrl, postgresUrl } from '../helpers/postgres.js'
import { startServe } from './served-process.js'

const CLIENTS = 8
const ROUNDS = 3
const ROWS = 20
const pg = await postgresUrl()

function csv(path: string, from: number): string {
  const lines = Array.from({ length: ROWS }, (_, i) => `${from + i},zone${(from + i) % 7}`)
  writeFileSync(path, `id,zone\n${lines.join('\n')}\n`)
  return path
}

/** A pipeline project of one SQL model `name` (materialised whole) selecting `sql`, in a fresh directory. */
function project(dir: string, name: string, sql: string): string {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'tarn_project.yml'), `name: ${name}\nnamespace: tarn\n`)
  writeFileSync(join(dir, `${name}.sql`), `-- tarn: materialize=REPLACE\n${sql}\n`)
  return dir
}

/** An acknowledged write: the commit the server answered with and the branch it landed on. */
interface Ack {
  readonly op: 'import' | 'shared-import' | 'namespace' | 'merge' | 'run'
  readonly branch: string
  readonly hash: string
  readonly source?: string
}

const backends: [string, (dir: string) => string][] = [
  ['sqlite', (dir) => `sqlite:${join(dir, 'catalog.db')}`],
]
if (pg) backends.push(['postgres', () => freshSchemaUrl(pg, 'remote')])

describe.concurrent.each(backends)(
  `${CLIENTS} concurrent remote clients on one tarn serve (%s)`,
  (_name, catalogOf) => {
    beforeAll(() => ensureBuilt())

    it(`keeps every acknowledged import, commit, run and merge of ${CLIENTS} RemoteLake clients in history`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tarn-conc-remote-'))
      const env = {
        TARN_HOME: join(dir, 'home'),
        TARN_CATALOG_URL: catalogOf(dir),
        TARN_WAREHOUSE: join(dir, 'warehouse'),
      }
      const setup = await Lake.init({
        home: env.TARN_HOME,
        catalogUrl: env.TARN_CATALOG_URL,
        warehouse: env.TARN_WAREHOUSE,
        author: 'setup',
        env: {},
      })
      await setup.createTable('trips', { from: csv(join(dir, 'base.csv'), 0) })
      await setup.createBranch('shared', { from: 'main' })
      await setup.close()
      // every client may import and run at once: the server's bounds on both are tested in limits.test.ts
      const server = await startServe(env, ['--max-imports', String(CLIENTS), '--max-runs', String(CLIENTS)])
      const acks: Ack[] = []
      const failures: string[] = []
      try {
        const client = async (c: number): Promise<void> => {
          const remote = RemoteLake.connect({ url: server.url })
          const branch = `client${c}.dev`
          await remote.createBranch(branch, { from: 'main' })
          for (let k = 0; k < ROUNDS; k++) {
            const base = (c * 100 + k + 1) * 1000
            // a table of its own on its branch (created, then appended), a namespace commit, a direct append to the
            // shared table on main, and a merge of its branch into main
            const own = csv(join(dir, `own-${c}-${k}.csv`), base)
            const write =
              k === 0
                ? await remote.createTable(`own${c}`, { from: own, branch })
                : await remote.importTable(`own${c}`, { from: own, branch })
            acks.push({ op: 'import', branch, hash: write.commit.hash })
            const ns = await remote.createNamespace(`ns${c}_${k}`, { branch })
            acks.push({ op: 'namespace', branch, hash: ns.hash })
            try {
              const shared = await remote.importTable('trips', {
                from: csv(join(dir, `shared-${c}-${k}.csv`), base + 500),
                branch: 'main',
              })
              acks.push({ op: 'shared-import', branch: 'main', hash: shared.commit.hash })
            } catch (e) {
              // a refused write is not acknowledged; only a lost update would be a failure of the server
              if (!(e instanceof TarnError) || e.code !== 'BRANCH_HEAD_CHANGED') throw e
              failures.push(`${c}/${k} shared import: ${e.code}`)
            }
            // a run on its own branch (reading its own table there), and every other client a run landing on the
            // branch they share, each writing a table of its own
            const ownRun = await remote.run({
              dir: project(
                join(dir, `run-${c}-${k}`),
                `run${c}`,
                `SELECT ${k} AS round, count(*) AS n FROM own${c}`,
              ),
              branch,
            })
            acks.push({ op: 'run', branch, hash: ownRun.job.mergeCommit as string })
            if (c % 2 === 0) {
              const sharedRun = await remote.run({
                dir: project(
                  join(dir, `shared-run-${c}-${k}`),
                  `s${c}`,
                  `SELECT ${c} AS client, ${k} AS round`,
                ),
                branch: 'shared',
              })
              acks.push({ op: 'run', branch: 'shared', hash: sharedRun.job.mergeCommit as string })
            }
            const merged = await remote.merge(branch, { into: 'main', message: `merge ${branch} round ${k}` })
            expect(merged.kind).not.toBe('conflict')
            if (merged.commit)
              acks.push({ op: 'merge', branch: 'main', hash: merged.commit.hash, source: branch })
            else acks.push({ op: 'merge', branch: 'main', hash: merged.target.after, source: branch })
          }
        }
        await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)))
        console.log(`[concurrent-remote] ${acks.length} acknowledged writes, ${failures.length} refused`)
        expect(failures.length, failures.join('\n')).toBeLessThan(CLIENTS * ROUNDS)

        // every acknowledged operation is in its branch's history, through the server that answered it
        const remote = RemoteLake.connect({ url: server.url })
        const histories = new Map<string, Set<string>>()
        for (const a of acks) {
          let h = histories.get(a.branch)
          if (!h) {
            h = new Set((await remote.log(a.branch)).map((x) => x.hash))
            histories.set(a.branch, h)
          }
          expect(h.has(a.hash), `${a.op} ${a.hash} on ${a.branch}`).toBe(true)
        }
        // and main holds every client's work: each own table whole, the shared table with every acknowledged append
        const main = histories.get('main') as Set<string>
        for (const a of acks.filter((x) => x.branch.startsWith('client'))) expect(main.has(a.hash)).toBe(true)
        for (let c = 0; c < CLIENTS; c++) {
          expect((await remote.getTable(`own${c}`, { ref: 'main' })).recordCount).toBe(ROUNDS * ROWS)
          // the last run of each client saw every round of its own table
          expect((await remote.query(`SELECT round, n FROM run${c}`)).rows()).toEqual([
            { round: ROUNDS - 1, n: BigInt(ROUNDS * ROWS) },
          ])
          if (c % 2 === 0) {
            expect((await remote.query(`SELECT client, round FROM s${c}`, { ref: 'shared' })).rows()).toEqual(
              [{ client: c, round: ROUNDS - 1 }],
            )
          }
        }
        // every run landed: no job failed or left running, no run branch left behind
        const jobs = await remote.listJobs()
        expect(jobs).toHaveLength(ROUNDS * (CLIENTS + CLIENTS / 2))
        expect(jobs.filter((j) => j.status !== 'succeeded').map((j) => j.error?.message)).toEqual([])
        expect((await remote.listBranches()).filter((b) => b.name.startsWith('run/'))).toEqual([])
        const sharedAcks = acks.filter((a) => a.op === 'shared-import').length
        const counted = await remote.query('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM trips')
        expect(counted.rows()).toEqual([
          { n: BigInt(ROWS * (1 + sharedAcks)), ids: BigInt(ROWS * (1 + sharedAcks)) },
        ])
        const namespaces = (await remote.listNamespaces({ ref: 'main' })).map((n) => n.namespace)
        expect(namespaces.filter((n) => n.startsWith('ns'))).toHaveLength(CLIENTS * ROUNDS)
      } finally {
        expect(await server.stop()).toBe(0)
      }
      // one chain of heads per branch (the catalog's reflog, read after the server stopped)
      const lake = await Lake.open({
        home: env.TARN_HOME,
        catalogUrl: env.TARN_CATALOG_URL,
        warehouse: env.TARN_WAREHOUSE,
        env: {},
      })
      try {
        for (const b of await lake.listBranches()) {
          const reflog = await lake.catalog.backend.reflog(b.name)
          for (let i = 1; i < reflog.length; i++) expect(reflog[i]?.oldHead).toBe(reflog[i - 1]?.newHead)
          expect(reflog.at(-1)?.newHead).toBe(b.head)
        }
        const mainReflog = await lake.catalog.backend.reflog('main')
        // every head main ever had that a client was told about is one of its reflog entries
        const heads = new Set(mainReflog.map((r) => r.newHead))
        for (const a of acks.filter((x) => x.branch === 'main' && x.op !== 'merge'))
          expect(heads.has(a.hash)).toBe(true)
      } finally {
        await lake.close()
      }
    }, 300_000)
  },
)
