import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { Lake } from '../src/lake/lake.js'
import { type BenchResult, type BenchSection, loadNote, median, processTreeCpuMs } from './result.js'

const ROWS = Number(process.env.TARN_BENCH_PIPELINE_ROWS ?? 1_000_000)
const REPEAT = 7
/** The tiny DAG is cheap: more runs make its median steady on a loaded machine. */
const SMALL_REPEAT = 15

/** Milliseconds of CPU (user + system, every thread of this process) that `fn` took. */
async function cpuMs(fn: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage()
  await fn()
  const used = process.cpuUsage(before)
  return (used.user + used.system) / 1000
}

function project(dir: string, name: string, files: Record<string, string>): string {
  const root = join(dir, name)
  mkdirSync(root, { recursive: true })
  writeFileSync(join(root, 'tarn_project.yml'), `name: ${name}\nnamespace: tarn\n`)
  for (const [file, text] of Object.entries(files)) writeFileSync(join(root, file), text)
  return root
}

const TS_DOUBLE = `import { tableFromArrays } from 'apache-arrow'
import { input, model } from 'tarn'

export const doubled = model(
  { inputs: { rows: input('filtered', { columns: ['k', 'v'] }) }, memory: '2GB', timeout: '5m' },
  async ({ rows }) => {
    const k = rows.getChild('k')?.toArray() as Int32Array
    const v = rows.getChild('v')?.toArray() as Float64Array
    const v2 = new Float64Array(v.length)
    for (let i = 0; i < v.length; i++) v2[i] = v[i] * 2
    return tableFromArrays({ k: Int32Array.from(k), v2 })
  },
)
`

async function timedRuns(
  lake: Lake,
  dir: string,
  pauseMs = 0,
  repeat = REPEAT,
): Promise<{ ms: number; cpu: number; treeCpu: number; nodes: Record<string, number> }[]> {
  const out: { ms: number; cpu: number; treeCpu: number; nodes: Record<string, number> }[] = []
  for (let i = 0; i < repeat + 1; i++) {
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs))
    const t = performance.now()
    const c = process.cpuUsage()
    const tree = processTreeCpuMs()
    const { job } = await lake.run({ dir, branch: 'main' })
    const ms = performance.now() - t
    const used = process.cpuUsage(c)
    const cpu = (used.user + used.system) / 1000
    if (job.status !== 'succeeded') throw new Error(`bench run failed: ${job.error?.message}`)
    const nodes: Record<string, number> = {}
    for (const n of job.nodes)
      if (n.startedAt !== null && n.finishedAt !== null) nodes[n.id] = n.finishedAt - n.startedAt
    // workers end (and count) a moment after the run: wait for the exit before reading the children's time
    await new Promise((r) => setTimeout(r, 50))
    if (i > 0) out.push({ ms, cpu, treeCpu: processTreeCpuMs() - tree, nodes })
  }
  return out
}

/** Pipeline benchmarks: run overhead, a SQL → TS → SQL DAG on 1M rows against one DuckDB session, worker start. */
export async function benchPipeline(): Promise<BenchSection> {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-bench-pipe-'))
  const lake = await Lake.init({ home: join(dir, 'lake'), author: 'bench' })
  try {
    const source = join(dir, 'events.parquet')
    const tiny = join(dir, 'tiny.csv')
    writeFileSync(tiny, 'id,v\n1,1.5\n2,2.5\n3,3.5\n')
    const db = await DuckDBInstance.create(':memory:')
    const conn = await db.connect()
    await conn.run(
      `COPY (SELECT range::BIGINT AS id, (range % 1000)::INTEGER AS k, ((range % 997) - 100) / 10.0 AS v FROM range(${ROWS}))
       TO '${source}' (FORMAT parquet)`,
    )
    await lake.createTable('events', { from: source })
    await lake.createTable('tiny', { from: tiny })

    const small = project(dir, 'small', {
      'a.sql': '-- tarn: materialize=REPLACE\nSELECT id, v FROM tiny\n',
      'b.sql': '-- tarn: materialize=REPLACE\nSELECT id, v * 2 AS v2 FROM a\n',
      'c.sql': '-- tarn: materialize=REPLACE\nSELECT sum(v2) AS total FROM b\n',
    })
    const dag = project(dir, 'dag', {
      'filtered.sql': 'SELECT k, v FROM events WHERE v > 0\n',
      'doubled.ts': TS_DOUBLE,
      'summary.sql':
        '-- tarn: materialize=REPLACE\nSELECT k, sum(v2) AS total, count(*) AS n FROM doubled GROUP BY k\n',
    })

    const smallRuns = await timedRuns(lake, small, 0, SMALL_REPEAT)
    const smallMs = median(smallRuns.map((r) => r.ms))
    const smallCpu = median(smallRuns.map((r) => r.cpu))
    const baseSmall: number[] = []
    const baseSmallCpu: number[] = []
    for (let i = 0; i < SMALL_REPEAT; i++) {
      const t = performance.now()
      baseSmallCpu.push(
        await cpuMs(async () => {
          await conn.run(`CREATE OR REPLACE TABLE a AS SELECT id, v FROM read_csv('${tiny}')`)
          await conn.run('CREATE OR REPLACE TABLE b AS SELECT id, v * 2 AS v2 FROM a')
          await conn.run(
            `COPY (SELECT sum(v2) AS total FROM b) TO '${join(dir, 'small.parquet')}' (FORMAT parquet)`,
          )
        }),
      )
      baseSmall.push(performance.now() - t)
    }

    const dagRuns = await timedRuns(lake, dag)
    const dagMs = median(dagRuns.map((r) => r.ms))
    const dagTreeCpu = median(dagRuns.map((r) => r.treeCpu))
    const dagLoad = loadNote()
    const worker = median(dagRuns.map((r) => r.nodes['model:doubled'] ?? Number.NaN))
    const baseDag: number[] = []
    const baseDagCpu: number[] = []
    const baseStep: number[] = []
    for (let i = 0; i < REPEAT; i++) {
      const t = performance.now()
      const c = process.cpuUsage()
      await conn.run(
        `CREATE OR REPLACE TABLE filtered AS SELECT k, v FROM read_parquet('${source}') WHERE v > 0`,
      )
      const step = performance.now()
      await conn.run('CREATE OR REPLACE TABLE doubled AS SELECT k, v * 2 AS v2 FROM filtered')
      baseStep.push(performance.now() - step)
      await conn.run(
        `COPY (SELECT k, sum(v2) AS total, count(*) AS n FROM doubled GROUP BY k) TO '${join(dir, 'dag.parquet')}' (FORMAT parquet)`,
      )
      baseDag.push(performance.now() - t)
      const used = process.cpuUsage(c)
      baseDagCpu.push((used.user + used.system) / 1000)
    }
    conn.closeSync()
    db.closeSync()

    const tiny1 = project(dir, 'tiny-ts', {
      'one.ts': `import { input, model } from 'tarn'\nexport const one = model({ inputs: { t: input('tiny') } }, async ({ t }) => t)\n`,
    })
    const starts = (await timedRuns(lake, tiny1)).map((r) => r.nodes['model:one'] ?? Number.NaN)
    const warmStarts = (await timedRuns(lake, tiny1, 2000)).map((r) => r.nodes['model:one'] ?? Number.NaN)
    const bare: number[] = []
    for (let i = 0; i < REPEAT; i++) {
      const t = performance.now()
      spawnSync(process.execPath, ['-e', ''])
      bare.push(performance.now() - t)
    }

    const results: BenchResult[] = [
      {
        name: '3-model SQL DAG on a 3-row table: plan + run branch + 3 commits + merge',
        value: smallMs,
        unit: 'ms',
        baseline: `same SQL in one DuckDB session ${median(baseSmall).toFixed(1)} ms`,
        ratio: smallMs / median(baseSmall),
        note: 'the absolute figure is the fixed cost of a transactional run',
      },
      {
        name: '  the same runs, process CPU time per run (all threads; robust to other load)',
        value: smallCpu,
        unit: 'ms',
        baseline: `same SQL in one DuckDB session ${median(baseSmallCpu).toFixed(1)} ms`,
        ratio: smallCpu / median(baseSmallCpu),
      },
      {
        name: `SQL -> TS -> SQL DAG on ${ROWS.toLocaleString('en-US')} rows (TS model in a worker, result materialised)`,
        value: dagMs,
        unit: 'ms',
        baseline: `same steps in one DuckDB session ${median(baseDag).toFixed(1)} ms`,
        ratio: dagMs / median(baseDag),
        note: dagLoad,
      },
      {
        name: '  the same runs, CPU time per run of the process and its TS worker (all threads)',
        value: dagTreeCpu,
        unit: 'ms',
        baseline: `same steps in one DuckDB session ${median(baseDagCpu).toFixed(1)} ms`,
        ratio: dagTreeCpu / median(baseDagCpu),
        note: 'the worker process counts whole (its start, ahead of the run, included), once it has exited',
      },
      {
        name: `  of which the TS model node (worker start, Arrow in and out, ${ROWS.toLocaleString('en-US')} rows)`,
        value: worker,
        unit: 'ms',
        baseline: `the TS step as SQL in one DuckDB session ${median(baseStep).toFixed(1)} ms`,
        ratio: worker / median(baseStep),
      },
      {
        name: 'TS model node on a 3-row input, warm module cache, the spare worker booted (runs 2 s apart)',
        value: median(warmStarts),
        unit: 'ms',
        baseline: `start and exit of a bare node process ${median(bare).toFixed(1)} ms`,
        ratio: median(warmStarts) / median(bare),
        note: 'a run prestarts a worker per heap limit after planning and keeps one spare after each function',
      },
      {
        name: 'TS model node on a 3-row input, warm module cache, runs back to back (spare still booting)',
        value: median(starts),
        unit: 'ms',
        baseline: `start and exit of a bare node process ${median(bare).toFixed(1)} ms`,
        ratio: median(starts) / median(bare),
        note: 'the whole TS node as the run sees it (input to Arrow, worker, result to Parquet)',
      },
    ]
    return {
      title: 'Pipelines',
      description:
        `Medians of ${REPEAT} runs (${SMALL_REPEAT} for the 3-row DAG) after one warm-up, each a full transactional run (plan, fork a run branch, run ` +
        'the models, one commit per materialised model, merge) on the local embedded lake, against the same ' +
        'transformations in one DuckDB session in the same run (the TS step written as SQL there).',
      results,
    }
  } finally {
    await lake.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
