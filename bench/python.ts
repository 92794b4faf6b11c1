import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { runPythonNode } from '../src/pipeline/run/python-node.js'
import { ensurePythonEnv } from '../src/runtime/python-env.js'
import { type BenchResult, type BenchSection, loadNote, median } from './result.js'

const ROWS = Number(process.env.TARN_BENCH_PYTHON_ROWS ?? 1_000_000)

const DOUBLE_PY = `import pyarrow.compute as pc
import tarn


@tarn.model()
def doubled(t=tarn.Model("events")):
    return t.set_column(2, "v", pc.multiply(t.column("v"), 2))
`

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now()
  const value = await fn()
  return { ms: performance.now() - t, value }
}

/**
 * Python models: the cold build of an environment (uv, pyarrow from uv's own package cache), a cache hit, and a
 * Python node on 1M rows (inputs written as Parquet by DuckDB, the process started, the function run, its Parquet
 * output counted) against the same step in DuckDB and against a bare Python start that imports pyarrow.
 */
export async function benchPython(): Promise<BenchSection> {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-bench-py-'))
  const source = join(dir, 'events.parquet')
  const db = await DuckDBInstance.create(':memory:')
  const conn = await db.connect()
  await conn.run(
    `COPY (SELECT range::BIGINT AS id, (range % 1000)::INTEGER AS k, ((range % 997) - 100) / 10.0 AS v FROM range(${ROWS}))
     TO '${source}' (FORMAT parquet)`,
  )
  const results: BenchResult[] = []
  const cacheRoot = join(dir, 'cache')
  const cold = await timed(() => ensurePythonEnv({ python: null, pip: {} }, cacheRoot))
  results.push({
    name: 'environment build, cold (python3 + pyarrow; wheels from uv’s cache)',
    value: cold.ms,
    unit: 'ms',
    note: `first run of a model with these pins; later runs find the environment; ${loadNote()}`,
  })
  const hits: number[] = []
  for (let i = 0; i < 21; i++)
    hits.push((await timed(() => ensurePythonEnv({ python: null, pip: {} }, cacheRoot))).ms)
  results.push({
    name: 'environment cache hit',
    value: median(hits),
    unit: 'ms',
    note: `goal: at most 50 ms; ${loadNote()}`,
  })

  const bare: number[] = []
  for (let i = 0; i < 5; i++) {
    const t = performance.now()
    spawnSync(cold.value.python, ['-c', 'import pyarrow, pyarrow.parquet'])
    bare.push(performance.now() - t)
  }
  const bareMs = median(bare)
  results.push({ name: 'bare Python start importing pyarrow', value: bareMs, unit: 'ms' })

  writeFileSync(join(dir, 'doubled.py'), DOUBLE_PY)
  const duck: number[] = []
  const node: number[] = []
  for (let i = 0; i < 6; i++) {
    const d = await timed(() =>
      conn.run(
        `COPY (SELECT id, k, v * 2 AS v FROM read_parquet('${source}')) TO '${join(dir, `duck-${i}.parquet`)}' (FORMAT parquet)`,
      ),
    )
    const scratch = mkdtempSync(join(dir, 'scratch-'))
    const p = await timed(() =>
      runPythonNode({
        kind: 'model',
        name: 'doubled',
        file: 'doubled.py',
        line: 5,
        projectDir: dir,
        call: { version: null, pip: {}, paramArgs: {}, contextArg: null, paramDefaults: {} },
        memory: '2GB',
        timeout: '5m',
        relations: [{ name: 't', sql: `SELECT * FROM read_parquet('${source}')` }],
        scratch,
        cacheRoot,
        params: {},
        jobId: 'bench',
        onLog: () => undefined,
        onProgress: () => undefined,
      }),
    )
    if (i === 0) continue
    duck.push(d.ms)
    node.push(p.ms)
  }
  conn.closeSync()
  db.closeSync()
  const duckMs = median(duck)
  results.push({
    name: `the same step in DuckDB, ${ROWS.toLocaleString('en')} rows`,
    value: duckMs,
    unit: 'ms',
  })
  const nodeLoad = loadNote()
  const nodeMs = median(node)
  results.push({
    name: `Python node, ${ROWS.toLocaleString('en')} rows (start + Parquet in and out), warm`,
    value: nodeMs,
    unit: 'ms',
    baseline: 'the same step in DuckDB',
    ratio: nodeMs / duckMs,
    note: `goal: at most 300 ms; the environment's spare process (started after the previous node) has imported pyarrow (${Math.round(bareMs)} ms alone) already; ${nodeLoad} at the end`,
  })
  return {
    title: 'Python models',
    description: `A Python node doubling one column of ${ROWS.toLocaleString('en')} rows: DuckDB writes the input as Parquet, the environment's spare process (started after the previous node) reads it with pyarrow, runs, writes Parquet and its row count. Medians of 5 warm runs; the environment cold build uses uv's package cache (no download). Run with \`npm run bench -- python\`.`,
    results,
  }
}
