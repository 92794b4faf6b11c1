import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { and, type Expression } from '../src/iceberg/expression.js'
import type { DataFile } from '../src/iceberg/manifest.js'
import { ManifestCache } from '../src/iceberg/manifest-cache.js'
import { planScan } from '../src/iceberg/scan-planner.js'
import type { Schema } from '../src/iceberg/schema.js'
import { encodeSingleValue } from '../src/iceberg/single-value.js'
import { type LoadedTable, loadTable } from '../src/iceberg/table-loader.js'
import { commitSnapshot } from '../src/iceberg/writer/snapshot-producer.js'
import { createTable } from '../src/iceberg/writer/table-writer.js'
import { LocalObjectStore } from '../src/storage/local.js'
import { systemClock } from '../src/util/clock.js'
import { seededRandom } from '../src/util/random.js'
import { type BenchSection, median, timeEach } from './result.js'

const FILES = 10_000
const COLD_RUNS = 5
const WARM_RUNS = 21

/** A table with FILES data files (one per day partition, ids in disjoint ranges) committed as 10 snapshots. */
async function bigTable(dir: string): Promise<{ store: LocalObjectStore; table: LoadedTable }> {
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
  return { store, table }
}

/**
 * Scan planning over 10,000 data files in 10 manifests: cold (metadata loaded and every manifest read and decoded,
 * as every plan did before the manifest cache) against warm plans (table loaded, manifests decoded once and cached by
 * path), with no filter, a partition filter and a column-bounds filter.
 */
export async function benchPlanning(): Promise<BenchSection> {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-bench-plan-'))
  try {
    const { store, table } = await bigTable(dir)
    const oneDay: Expression = { op: 'eq', column: 'day', value: '2022-01-08' }
    const byId: Expression = and(
      { op: 'gte', column: 'id', value: 5_000_000 },
      { op: 'lt', column: 'id', value: 5_001_000 },
    )
    const cold = async (filter?: Expression) =>
      median(
        await timeEach(
          COLD_RUNS,
          async () =>
            planScan(await loadTable(store, table.metadataLocation), {
              cache: null,
              ...(filter ? { filter } : {}),
            }),
          1,
        ),
      )
    const cache = new ManifestCache()
    const warm = async (filter?: Expression) =>
      median(
        await timeEach(WARM_RUNS, async () => planScan(table, { cache, ...(filter ? { filter } : {}) }), 3),
      )
    const kept = async (filter?: Expression) =>
      (await planScan(table, { cache, ...(filter ? { filter } : {}) })).tasks.length
    if ((await kept()) !== FILES) throw new Error('the unfiltered plan must keep every file')
    const keptDay = await kept(oneDay)
    const keptIds = await kept(byId)
    const coldFull = await cold()
    const coldIds = await cold(byId)
    const warmFull = await warm()
    const warmDay = await warm(oneDay)
    const warmIds = await warm(byId)
    const n = FILES.toLocaleString('en-US')
    return {
      title: 'Scan planning',
      description:
        `A table of ${n} data files (one per day partition, disjoint id ranges) committed as 10 snapshots, so 10 ` +
        `manifests. Cold: median of ${COLD_RUNS} plans that load the table metadata and read and decode every ` +
        `manifest (what every plan did before manifests were cached). Warm: median of ${WARM_RUNS} plans of the ` +
        'loaded table with its manifest list and manifests decoded once and cached by path (they are immutable), ' +
        'as the query engine and runs plan.',
      results: [
        { name: `cold plan, no filter (${n} files in 10 manifests)`, value: coldFull, unit: 'ms' },
        {
          name: `cold plan, column-bounds filter on id (keeps ${keptIds})`,
          value: coldIds,
          unit: 'ms',
          baseline: 'cold, no filter',
          ratio: coldIds / coldFull,
        },
        {
          name: 'warm plan, no filter',
          value: warmFull,
          unit: 'ms',
          baseline: 'cold, no filter',
          ratio: warmFull / coldFull,
          note: 'goal: at most 20 ms',
        },
        {
          name: `warm plan, partition filter (keeps ${keptDay} of ${n})`,
          value: warmDay,
          unit: 'ms',
          baseline: 'warm, no filter',
          ratio: warmDay / warmFull,
        },
        {
          name: `warm plan, column-bounds filter on id (keeps ${keptIds})`,
          value: warmIds,
          unit: 'ms',
          baseline: 'warm, no filter',
          ratio: warmIds / warmFull,
          note: 'goal: below the no-filter figure; filters are compiled once per plan (columns, literals, transforms)',
        },
      ],
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
