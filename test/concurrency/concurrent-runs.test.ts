import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Commit } from '../../src/catalog/types.js'
import { planScan } from '../../src/iceberg/scan-planner.js'
import { Lake } from '../../src/lake/lake.js'
import { ensureBuilt } from '../helpers/build.js'
import { jsonLinesOf } from '../helpers/json-lines-child.js'
import { freshSchemaUrl, postgresUrl } from '../helpers/postgres.js'
import { testSeed } from '../helpers/test-seed.js'

const WORKERS = 5
const OPS = 16
const BRANCHES = ['main', 'b1', 'b2']
const SEED = testSeed(11)
const pg = await postgresUrl()

/** One line a worker prints: an acknowledged import, merge or run, or a rejected operation. */
interface Line {
  worker: number
  op: 'import' | 'merge' | 'run' | 'rejected'
  of?: 'import' | 'merge' | 'run'
  branch?: string
  hash?: string
  rows?: number
  source?: string
  kind?: string
  project?: string
  job?: string | null
  status?: string
  target?: string
  mergeCommit?: string | null
  runBranch?: string | null
  tables?: Record<string, number>
  code?: string
  message?: string
}

const PROJECT_YML = 'name: conc\nnamespace: tarn\n'
const BY_K = '-- tarn: materialize=REPLACE\nSELECT k, count(*) AS n, sum(v) AS total FROM t GROUP BY k\n'
const BIG = '-- tarn: materialize=APPEND\nSELECT id, v FROM t WHERE v > 900\n'

/** The tiny SQL project, a variant with a model that fails at run time, and one with an expectation that fails. */
function writeProjects(dir: string): Record<string, string> {
  const variants: Record<string, Record<string, string>> = {
    good: { 'by_k.sql': BY_K, 'big.sql': BIG },
    appendOnly: { 'big.sql': BIG },
    badSql: {
      'by_k.sql': BY_K,
      'big.sql': BIG,
      'broken.sql':
        "-- tarn: materialize=REPLACE\nSELECT k, CAST('not a number' AS INTEGER) AS boom FROM by_k\n",
    },
    badExpectation: {
      'by_k.sql': BY_K,
      'big.sql': BIG,
      'checks.ts': [
        "import { expectation, input } from 'tarn'",
        'export const never_holds = expectation(',
        "  { inputs: { by_k: input('by_k', { columns: ['n'] }) } },",
        '  async ({ by_k }) => by_k.numRows < 0,',
        ')',
        '',
      ].join('\n'),
    },
  }
  const dirs: Record<string, string> = {}
  for (const [name, files] of Object.entries(variants)) {
    const p = join(dir, name)
    mkdirSync(p, { recursive: true })
    writeFileSync(join(p, 'tarn_project.yml'), PROJECT_YML)
    for (const [f, text] of Object.entries(files)) writeFileSync(join(p, f), text)
    dirs[name] = p
  }
  return dirs
}

function worker(args: string[]): Promise<Line[]> {
  return jsonLinesOf<Line>('test/fixtures/random-lake-worker.mjs', args)
}

/** Every commit reachable from a branch head (all parents). */
async function history(lake: Lake, branch: string): Promise<Map<string, Commit>> {
  return new Map((await lake.catalog.log(branch)).map((c) => [c.hash, c]))
}

const backends: [string, (dir: string) => string][] = [
  ['sqlite', (dir) => `sqlite:${join(dir, 'catalog.db')}`],
]
if (pg) backends.push(['postgres', () => freshSchemaUrl(pg, 'lakeconc')])

describe.each(backends)(
  'processes importing, merging and running pipelines on one lake (%s)',
  (name, url) => {
    beforeAll(() => ensureBuilt())

    it('keeps one chain of heads per branch, every acknowledged write and landing in its history, and no trace of failed runs', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tarn-lakeconc-'))
      const catalogUrl = url(dir)
      const warehouse = join(dir, 'warehouse')
      const started = Date.now()
      console.log(`[concurrency] ${name}: TARN_SEED=${SEED}, ${WORKERS} processes x ${OPS} operations`)

      const lake = await Lake.init({
        home: join(dir, 'home'),
        catalogUrl,
        warehouse,
        author: 'setup',
        env: {},
      })
      const first = join(dir, 'base.csv')
      writeFileSync(first, 'id,k,v\n1,0,10\n2,1,950\n3,2,300\n4,3,990\n5,4,5\n')
      await lake.createTable('t', { from: first, branch: 'main' })
      const projects = writeProjects(join(dir, 'projects'))
      // both model tables exist before the branches fork: concurrent appends to big then always merge
      const setup = await lake.run({ dir: projects.good as string, branch: 'main' })
      for (const b of ['b1', 'b2']) await lake.createBranch(b, { from: 'main' })

      try {
        const lines = (
          await Promise.all(
            Array.from({ length: WORKERS }, (_, i) =>
              worker([
                catalogUrl,
                warehouse,
                join(dir, `home-${i}`),
                join(dir, `data-${i}`),
                JSON.stringify(projects),
                String(i),
                String(OPS),
                String(SEED * 100 + i),
              ]),
            ),
          )
        ).flat()

        const imports = lines.filter((l) => l.op === 'import')
        const merges = lines.filter((l) => l.op === 'merge')
        const runs = lines.filter((l) => l.op === 'run')
        const rejected = lines.filter((l) => l.op === 'rejected')
        const failedRuns = rejected.filter((l) => l.of === 'run')
        const codes: Record<string, number> = {}
        for (const r of rejected) codes[`${r.of}:${r.code}`] = (codes[`${r.of}:${r.code}`] ?? 0) + 1
        console.log(
          `[concurrency] ${name}: ${lines.length} operations: ${imports.length} imports, ${merges.length} merges, ` +
            `${runs.length} runs succeeded, ${failedRuns.length} runs failed, rejected ${JSON.stringify(codes)}`,
        )
        if (process.env.TARN_DEBUG) for (const r of rejected) console.log(JSON.stringify(r))
        expect(lines).toHaveLength(WORKERS * OPS)
        expect(imports.length).toBeGreaterThan(0)
        expect(merges.length).toBeGreaterThan(0)
        expect(runs.length).toBeGreaterThan(0)
        expect(failedRuns.length).toBeGreaterThan(0)

        // every branch, run branches included: the reflog is one chain ending at the head
        const refs = await lake.catalog.backend.listRefs('branch')
        for (const ref of refs) {
          const reflog = await lake.catalog.backend.reflog(ref.name)
          // sealing is logged without a movement (null -> null), and nothing moves a branch after it
          const seal = reflog.findIndex((e) => e.operation === 'seal')
          expect(seal === -1 ? reflog.length - 1 : seal, `${ref.name} moved after its seal`).toBe(
            reflog.length - 1,
          )
          expect(seal !== -1, ref.name).toBe(ref.sealed)
          const moves = reflog.filter((e) => e.operation !== 'seal')
          for (let i = 1; i < moves.length; i++)
            expect(moves[i]?.oldHead, `${ref.name} reflog #${i}`).toBe(moves[i - 1]?.newHead)
          expect(moves.at(-1)?.newHead, ref.name).toBe(ref.head)
        }

        // every acknowledged import, merge and landing is in its branch's history
        const histories = new Map<string, Map<string, Commit>>()
        for (const b of BRANCHES) histories.set(b, await history(lake, b))
        const hist = (b: string | undefined): Map<string, Commit> =>
          histories.get(b as string) as Map<string, Commit>
        for (const l of [...imports, ...merges]) {
          expect(hist(l.branch).has(l.hash as string), `${l.op} ${l.hash} on ${l.branch}`).toBe(true)
          if (l.source) expect(hist(l.branch).has(l.source), `merge source ${l.source}`).toBe(true)
        }

        // a succeeded run landed as one merge commit marked with its job, above its model commits
        for (const r of runs) {
          expect(r.status).toBe('succeeded')
          expect(r.target).toBe(r.branch)
          const h = hist(r.target)
          const landing = h.get(r.mergeCommit as string)
          expect(landing, `landing of ${r.job} on ${r.target}`).toBeDefined()
          expect(landing?.properties['tarn.landed_job']).toBe(r.job)
          let c = await lake.catalog.getCommit(landing?.parents[1] as string)
          const models: string[] = []
          while (c.properties['tarn.job_id'] === r.job) {
            models.push(c.hash)
            c = await lake.catalog.getCommit(c.parents[0] as string)
          }
          expect(models, `model commits of ${r.job}`).toHaveLength(Object.keys(r.tables ?? {}).length)
          for (const m of models) expect(h.has(m)).toBe(true)
          expect(refs.some((ref) => ref.name === r.runBranch)).toBe(false)
          expect((await lake.getJob(r.job as string)).status).toBe('succeeded')
        }

        // a failed run left a sealed run branch and no commit of its job on any branch
        const jobsOnBranches = new Set<string>()
        for (const h of histories.values())
          for (const c of h.values()) {
            const job = c.properties['tarn.job_id']
            if (job) jobsOnBranches.add(job)
          }
        for (const r of failedRuns) {
          // big exists on every branch and appends always merge: a run that only appends never conflicts
          if (r.project === 'appendOnly') expect(r.code, `${r.job}: ${r.message}`).not.toBe('MERGE_CONFLICT')
          if (r.project === 'badSql') expect(r.code).toBe('RUN_FAILED')
          if (r.project === 'badExpectation' && r.code !== 'MERGE_CONFLICT')
            expect(r.code).toBe('EXPECTATION_FAILED')
          expect(r.job, `${r.code}: ${r.message}`).toBeTruthy()
          expect(jobsOnBranches.has(r.job as string), `failed ${r.job} (${r.code}) left commits`).toBe(false)
          const ref = refs.find((x) => x.name === r.runBranch)
          expect(ref?.sealed, `run branch ${r.runBranch}`).toBe(true)
          expect((await lake.getJob(r.job as string)).status).toBe('failed')
        }
        for (const r of runs) expect(jobsOnBranches.has(r.job as string)).toBe(true)

        // data: every file the heads reference exists, and t holds exactly the rows of the imports each branch has
        for (const b of BRANCHES) {
          for (const entry of await lake.listTables({ ref: b })) {
            const { loaded } = await lake.loadTable(entry.table, { ref: b })
            for (const task of (await planScan(loaded)).tasks) {
              const path = task.dataFile.dataFile.filePath
              expect(existsSync(path.startsWith('file:') ? fileURLToPath(path) : path), path).toBe(true)
            }
            const n = await lake.query(`SELECT count(*) AS n FROM ${entry.table}`, { ref: b })
            expect(n.numRows).toBe(1)
          }
          const expected =
            5 +
            imports.filter((l) => hist(b).has(l.hash as string)).reduce((a, l) => a + (l.rows as number), 0)
          const got = Number((await lake.query('SELECT count(*) AS n FROM tarn.t', { ref: b })).rows()[0]?.n)
          expect(got, `rows of tarn.t on ${b}`).toBe(expected)
          // and big holds exactly the rows appended by the runs that landed in its history
          const appended = [setup.job, ...runs]
            .filter((r) => hist(b).has(r.mergeCommit as string))
            .reduce((a, r) => a + (r.tables?.['tarn.big'] ?? 0), 0)
          const big = Number(
            (await lake.query('SELECT count(*) AS n FROM tarn.big', { ref: b })).rows()[0]?.n,
          )
          expect(big, `rows of tarn.big on ${b}`).toBe(appended)
        }
        console.log(`[concurrency] ${name}: checked in ${((Date.now() - started) / 1000).toFixed(1)} s`)
      } finally {
        await lake.close()
      }
    }, 120_000)
  },
)
