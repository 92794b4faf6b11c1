import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { Lake } from '../src/lake/lake.js'
import type { BenchResult, BenchSection } from './result.js'

const ROWS = Number(process.env.TARN_BENCH_IMPORT_ROWS ?? 10_000_000)

/** Seconds of CPU (user + system, every thread of this process) in a `process.cpuUsage` difference. */
function cpuSeconds(used: NodeJS.CpuUsage): number {
  return (used.user + used.system) / 1e6
}

async function importThroughput(dir: string): Promise<BenchResult[]> {
  const source = join(dir, 'source.parquet')
  const db = await DuckDBInstance.create(':memory:')
  const conn = await db.connect()
  await conn.run(
    `COPY (SELECT range::BIGINT AS id, TIMESTAMP '2026-01-01' + to_seconds(range % 31536000) AS ts,
            'region-' || (range % 17)::VARCHAR AS region, (range % 1000) / 10.0 AS amount
           FROM range(${ROWS})) TO '${source}' (FORMAT parquet)`,
  )
  const bytes = statSync(source).size
  const t0 = performance.now()
  await conn.run(
    `COPY (SELECT * FROM read_parquet('${source}')) TO '${join(dir, 'copy.parquet')}' (FORMAT parquet, COMPRESSION zstd)`,
  )
  const raw = (performance.now() - t0) / 1000
  conn.closeSync()
  db.closeSync()

  const t2 = performance.now()
  const c2 = process.cpuUsage()
  const db2 = await DuckDBInstance.create(':memory:')
  const conn2 = await db2.connect()
  await conn2.run(
    `COPY (SELECT *, ts::DATE AS day FROM read_parquet('${source}')) TO '${join(dir, 'hive')}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day))`,
  )
  const rawPartitioned = (performance.now() - t2) / 1000
  const rawPartitionedCpu = cpuSeconds(process.cpuUsage(c2))
  conn2.closeSync()
  db2.closeSync()

  const lake = await Lake.init({ home: join(dir, 'lake'), author: 'bench' })
  try {
    const t3 = performance.now()
    const c3 = process.cpuUsage()
    const p = await lake.createTable('events_by_day', { from: source, partitionedBy: 'day(ts)' })
    const partitioned = (performance.now() - t3) / 1000
    const partitionedCpu = cpuSeconds(process.cpuUsage(c3))
    if (p.addedRecords !== ROWS) throw new Error(`imported ${p.addedRecords} rows, expected ${ROWS}`)
    const t1 = performance.now()
    const r = await lake.createTable('events', { from: source })
    const seconds = (performance.now() - t1) / 1000
    if (r.addedRecords !== ROWS) throw new Error(`imported ${r.addedRecords} rows, expected ${ROWS}`)
    return [
      {
        name: `import ${ROWS.toLocaleString('en-US')}-row Parquet (${(bytes / 2 ** 20).toFixed(0)} MiB), rows/s`,
        value: ROWS / seconds,
        unit: 'rows/s',
      },
      {
        name: 'import throughput, MB/s of source Parquet',
        value: bytes / 2 ** 20 / seconds,
        unit: 'MiB/s',
      },
      {
        name: 'import wall time (validate, write Parquet with field ids, manifests, commit)',
        value: seconds,
        unit: 's',
        baseline: `raw DuckDB Parquet-to-Parquet copy ${raw.toFixed(2)} s`,
        ratio: seconds / raw,
        note: 'validation reads only Parquet metadata when the file has the table types; tarn also writes Iceberg metadata',
      },
      {
        name: `import partitioned by day(ts) (${Math.ceil(Math.min(ROWS, 31_536_000) / 86_400)} partitions, ${ROWS.toLocaleString('en-US')} distinct timestamps)`,
        value: partitioned,
        unit: 's',
        baseline: `raw DuckDB hive-partitioned COPY by day ${rawPartitioned.toFixed(2)} s`,
        ratio: partitioned / rawPartitioned,
        note: 'one DuckDB COPY ... PARTITION_BY pass computes day(ts) in SQL and writes every partition with field ids and stats; the files are fsynced and linked into the warehouse 8 at a time',
      },
      {
        name: '  the same import, process CPU time (all threads; robust to other load)',
        value: partitionedCpu,
        unit: 's',
        baseline: `raw DuckDB hive-partitioned COPY by day ${rawPartitionedCpu.toFixed(2)} s`,
        ratio: partitionedCpu / rawPartitionedCpu,
      },
    ]
  } finally {
    await lake.close()
  }
}

/** Iceberg benchmarks: import throughput of a 10M-row Parquet file (scan planning is bench/planning.ts). */
export async function benchIceberg(): Promise<BenchSection> {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-bench-ice-'))
  try {
    const results = await importThroughput(dir)
    return {
      title: 'Iceberg tables',
      description:
        'Import: `lake.createTable` from one Parquet file (id, timestamp, region, amount) on the local warehouse, ' +
        'against a raw DuckDB Parquet-to-Parquet copy of the same file in the same run.',
      results,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
