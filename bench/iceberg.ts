import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { and, type Expression } from '../src/iceberg/expression.js'
import type { DataFile } from '../src/iceberg/manifest.js'
import { planScan } from '../src/iceberg/scan-planner.js'
import type { Schema } from '../src/iceberg/schema.js'
import { encodeSingleValue } from '../src/iceberg/single-value.js'
import { loadTable } from '../src/iceberg/table-loader.js'
import { commitSnapshot } from '../src/iceberg/writer/snapshot-producer.js'
import { createTable } from '../src/iceberg/writer/table-writer.js'
import { Lake } from '../src/lake/lake.js'
import { LocalObjectStore } from '../src/storage/local.js'
import { systemClock } from '../src/util/clock.js'
import { seededRandom } from '../src/util/random.js'
import { type BenchResult, type BenchSection, median, timeEach } from './result.js'

const ROWS = Number(process.env.TARN_BENCH_IMPORT_ROWS ?? 10_000_000)
const FILES = 10_000

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
  const db2 = await DuckDBInstance.create(':memory:')
  const conn2 = await db2.connect()
  await conn2.run(
    `COPY (SELECT *, ts::DATE AS day FROM read_parquet('${source}')) TO '${join(dir, 'hive')}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day))`,
  )
  const rawPartitioned = (performance.now() - t2) / 1000
  conn2.closeSync()
  db2.closeSync()

  const lake = await Lake.init({ home: join(dir, 'lake'), author: 'bench' })
  try {
    const t3 = performance.now()
    const p = await lake.createTable('events_by_day', { from: source, partitionedBy: 'day(ts)' })
    const partitioned = (performance.now() - t3) / 1000
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
        note: 'tarn stages the rows once, groups them by day in SQL and writes every partition in one pass',
      },
    ]
  } finally {
    await lake.close()
  }
}

async function planning(dir: string): Promise<BenchResult[]> {
  const store = await LocalObjectStore.create(join(dir, 'w'))
  const deps = { clock: systemClock, random: seededRandom(1) }
  const schema: Schema = {
    type: 'struct',
    'schema-id': 0,
    fields: [
      { id: 1, name: 'id', required: false, type: 'long' },
      { id: 2, name: 'day', required: false, type: 'date' },
    ],
  }
  const created = await createTable(
    store,
    { tableKey: 't', schema, partitionBy: [{ column: 'day', transform: 'identity' }] },
    deps,
  )
  let table = await loadTable(store, created.metadataLocation)
  const perSnapshot = 1000
  for (let s = 0; s < FILES / perSnapshot; s++) {
    const added: DataFile[] = []
    for (let i = s * perSnapshot; i < (s + 1) * perSnapshot; i++) {
      added.push({
        content: 0,
        filePath: store.uriOf(`t/data/f${i}.parquet`),
        fileFormat: 'PARQUET',
        partition: new Map([[1000, 19_000 + i]]),
        recordCount: 1000,
        fileSizeInBytes: 100_000,
        lowerBounds: new Map([
          [1, encodeSingleValue('long', BigInt(i * 1000))],
          [2, encodeSingleValue('date', 19_000 + i)],
        ]),
        upperBounds: new Map([
          [1, encodeSingleValue('long', BigInt(i * 1000 + 999))],
          [2, encodeSingleValue('date', 19_000 + i)],
        ]),
      })
    }
    const r = await commitSnapshot(table, { operation: 'append', added, removed: [] }, deps)
    table = await loadTable(store, r.metadataLocation)
  }
  const oneDay: Expression = { op: 'eq', column: 'day', value: '2022-01-08' }
  const byId: Expression = and(
    { op: 'gte', column: 'id', value: 5_000_000 },
    { op: 'lt', column: 'id', value: 5_001_000 },
  )
  const full = median(
    await timeEach(5, async () => planScan(await loadTable(store, table.metadataLocation)), 1),
  )
  const plan = await planScan(table)
  if (plan.tasks.length !== FILES) throw new Error(`planned ${plan.tasks.length} files`)
  const day = median(
    await timeEach(
      5,
      async () => planScan(await loadTable(store, table.metadataLocation), { filter: oneDay }),
      1,
    ),
  )
  const kept = (await planScan(table, { filter: oneDay })).tasks.length
  const ids = median(
    await timeEach(
      5,
      async () => planScan(await loadTable(store, table.metadataLocation), { filter: byId }),
      1,
    ),
  )
  const keptIds = (await planScan(table, { filter: byId })).tasks.length
  return [
    {
      name: `scan planning, ${FILES.toLocaleString('en-US')} data files in 10 manifests, no filter`,
      value: full,
      unit: 'ms',
    },
    {
      name: `scan planning, partition filter (keeps ${kept} of ${FILES.toLocaleString('en-US')})`,
      value: day,
      unit: 'ms',
      baseline: 'no filter',
      ratio: day / full,
    },
    {
      name: `scan planning, column-bounds filter on id (keeps ${keptIds})`,
      value: ids,
      unit: 'ms',
      baseline: 'no filter',
      ratio: ids / full,
    },
  ]
}

/** Iceberg benchmarks: import throughput of a 10M-row Parquet file, and scan planning over 10,000 data files. */
export async function benchIceberg(): Promise<BenchSection> {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-bench-ice-'))
  try {
    const results = [...(await importThroughput(dir)), ...(await planning(dir))]
    return {
      title: 'Iceberg tables',
      description:
        'Import: `lake.createTable` from one Parquet file (id, timestamp, region, amount) on the local warehouse, ' +
        'against a raw DuckDB Parquet-to-Parquet copy of the same file in the same run. Planning: median of 5 plans ' +
        '(metadata load included) of a table with 10,000 data files committed as 10 snapshots.',
      results,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
