import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import { memoryIO } from '../src/cli/io.js'
import { sqlString } from '../src/duckdb/sql-quote.js'
import { engineDirs, QueryEngine } from '../src/engine/index.js'
import { createTable, loadTable, planScan } from '../src/iceberg/index.js'
import { Lake } from '../src/lake/lake.js'
import { printTable } from '../src/lake/query-output.js'
import { fixedClock } from '../src/util/clock.js'
import { seededRandom } from '../src/util/random.js'
import { type BenchResult, type BenchSection, fmt, median } from './result.js'

const ROWS = Number(process.env.TARN_BENCH_EXPORT_ROWS ?? 3_000_000)
const RUNS = Number(process.env.TARN_BENCH_EXPORT_RUNS ?? 5)
const PREVIEW_RUNS = 21

const SOURCE = `SELECT range::BIGINT AS id,
  TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (range // 1000) SECOND AS ts,
  (range % 100)::INTEGER AS category,
  'customer ' || (range % 5000) AS customer,
  (((range * 7919) % 10000) / 100)::DECIMAL(10, 2) AS amount
  FROM range(${ROWS})`

/** Times `fn` once and returns milliseconds. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now()
  await fn()
  return performance.now() - t
}

/**
 * Big results: a preview of 10 rows of a multi-million-row table through `tarn query`'s printer against raw DuckDB's
 * `LIMIT 10`, and `tarn query --output` / `tarn table export` to Parquet and CSV against raw DuckDB's `COPY` of the
 * same files, interleaved, 2 DuckDB threads everywhere.
 *
 * @example
 * ```ts
 * const section = await benchExport()
 * ```
 */
export async function benchExport(): Promise<BenchSection> {
  const home = mkdtempSync(join(tmpdir(), 'tarn-bench-export-'))
  const out = mkdtempSync(join(tmpdir(), 'tarn-bench-export-out-'))
  const deps = { clock: fixedClock(Date.parse('2026-01-01T00:00:00Z'), 1000), random: seededRandom(13) }
  const lake = await Lake.init({ home, env: {}, clock: deps.clock, random: deps.random, author: 'bench' })
  let engine: QueryEngine | undefined
  let raw: DuckDBInstance | undefined
  try {
    const created = await createTable(lake.store, { tableKey: 'tarn/events', source: SOURCE }, deps)
    await lake.catalog.commit({
      branch: 'main',
      changes: [{ type: 'putTable', key: 'tarn.events', state: created.state }],
      message: 'bench table',
    })
    const table = await loadTable(lake.store, created.metadataLocation)
    const files = (await planScan(table)).tasks.map((t) => fileURLToPath(t.dataFile.dataFile.filePath))
    engine = await QueryEngine.create({
      catalog: lake.catalog,
      store: lake.store,
      ...engineDirs(home),
      threads: 2,
    })
    raw = await DuckDBInstance.create(':memory:')
    const conn = await raw.connect()
    await conn.run('SET threads = 2')
    const from = `read_parquet([${files.map(sqlString).join(', ')}])`
    const e = engine

    const preview = async (): Promise<void> => {
      const io = memoryIO()
      const stream = await e.stream('SELECT * FROM events', { ref: 'main', batchRows: 4096 })
      try {
        await printTable(io, stream, 10)
      } finally {
        await stream.close()
      }
      if (!io.stdout().includes('10 shown')) throw new Error(`unexpected preview:\n${io.stdout()}`)
    }
    const ours: number[] = []
    const theirs: number[] = []
    for (let i = -3; i < PREVIEW_RUNS; i++) {
      const a = await timed(preview)
      const b = await timed(() => conn.runAndReadAll(`SELECT * FROM ${from} LIMIT 10`))
      if (i >= 0) {
        ours.push(a)
        theirs.push(b)
      }
    }

    const exportPair = async (
      format: 'parquet' | 'csv',
    ): Promise<{ ours: number; theirs: number; rows: number }> => {
      const o: number[] = []
      const t: number[] = []
      let rows = 0
      const options = format === 'csv' ? '(FORMAT csv, HEADER true)' : '(FORMAT parquet)'
      for (let i = -1; i < RUNS; i++) {
        const a = await timed(async () => {
          const r = await e.export('SELECT * FROM events', {
            ref: 'main',
            output: join(out, `tarn.${format}`),
            force: true,
          })
          rows = r.rows
        })
        rmSync(join(out, `tarn.${format}`), { force: true })
        const b = await timed(() =>
          conn.run(`COPY (SELECT * FROM ${from}) TO ${sqlString(join(out, `raw.${format}`))} ${options}`),
        )
        rmSync(join(out, `raw.${format}`), { force: true })
        if (i >= 0) {
          o.push(a)
          t.push(b)
        }
      }
      if (rows !== ROWS) throw new Error(`export wrote ${rows} rows, expected ${ROWS}`)
      return { ours: median(o), theirs: median(t), rows }
    }
    const parquet = await exportPair('parquet')
    const csv = await exportPair('csv')
    conn.closeSync()

    const rows = `${fmt(ROWS / 1e6)}M rows`
    const pTheirs = median(theirs)
    const pOurs = median(ours)
    const results: BenchResult[] = [
      { name: `preview 10 rows of ${rows}, raw DuckDB LIMIT 10`, value: pTheirs, unit: 'ms' },
      {
        name: `preview 10 rows of ${rows}, tarn query (table printer)`,
        value: pOurs,
        unit: 'ms',
        baseline: 'raw DuckDB LIMIT 10',
        ratio: pOurs / pTheirs,
        note: 'streams and stops after the 11th row; includes SQL parsing, ref resolution, scan planning and views',
      },
      { name: `export ${rows} to Parquet, raw DuckDB COPY`, value: parquet.theirs / 1000, unit: 's' },
      {
        name: `export ${rows} to Parquet, tarn query --output`,
        value: parquet.ours / 1000,
        unit: 's',
        baseline: 'raw DuckDB COPY',
        ratio: parquet.ours / parquet.theirs,
        note: 'goal: at most 1.2x',
      },
      { name: `export ${rows} to CSV, raw DuckDB COPY`, value: csv.theirs / 1000, unit: 's' },
      {
        name: `export ${rows} to CSV, tarn query --output`,
        value: csv.ours / 1000,
        unit: 's',
        baseline: 'raw DuckDB COPY',
        ratio: csv.ours / csv.theirs,
        note: 'goal: at most 1.2x',
      },
    ]
    return {
      title: 'Big results: previews and exports',
      description:
        `A ${rows} table written by tarn's writers (${files.length} file(s)). The preview runs \`SELECT * FROM events\` ` +
        "through `tarn query`'s table printer (10 rows shown) against raw DuckDB's `SELECT * ... LIMIT 10` over the same " +
        `files, medians of ${PREVIEW_RUNS} warm runs. Exports write the whole table through \`tarn query --output\` ` +
        `(a sandbox of its own, DuckDB \`COPY\`, temporary file renamed into place) against raw DuckDB's \`COPY\` of ` +
        `\`read_parquet([...])\`, medians of ${RUNS} runs, interleaved; 2 DuckDB threads everywhere.`,
      results,
    }
  } finally {
    await engine?.close()
    raw?.closeSync()
    await lake.close()
    rmSync(home, { recursive: true, force: true })
    rmSync(out, { recursive: true, force: true })
  }
}
