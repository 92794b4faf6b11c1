#!/usr/bin/env node
// Writes the taxi example's sample data, deterministically (same rows on every machine and every run):
//   <out>/trips.parquet  synthetic taxi trips (January 2026), with a few rows the pipeline cleans away
//   <out>/zones.csv      the zones trips start and end in
// Usage: node examples/taxi/generate.mjs [out-dir (default: examples/taxi/data)] [--trips N (default 5000)]
// The quickstart imports them: tarn table create trips --from <out>/trips.parquet --partitioned-by "day(pickup_ts)"
//                              tarn table create zones --from <out>/zones.csv
import { mkdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const tripsFlag = args.indexOf('--trips')
const trips = tripsFlag >= 0 ? Number(args[tripsFlag + 1]) : 5000
if (!Number.isInteger(trips) || trips <= 0) throw new Error('--trips expects a positive integer')
const positional = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--trips')
const out = resolve(positional[0] ?? join(here, 'data'))
await mkdir(out, { recursive: true })

const zones = [
  [1, 'Harbour', 'Docklands'],
  [2, 'Old Town', 'Centre'],
  [3, 'Market Square', 'Centre'],
  [4, 'University', 'Northside'],
  [5, 'Airport', 'Eastfield'],
  [6, 'Riverside', 'Docklands'],
  [7, 'Station', 'Centre'],
  [8, 'Stadium', 'Northside'],
  [9, 'Hospital', 'Westend'],
  [10, 'Lakeside', 'Westend'],
]

const sqlString = (s) => `'${s.replaceAll("'", "''")}'`
const instance = await DuckDBInstance.create(':memory:')
const conn = await instance.connect()
try {
  await conn.run(
    `CREATE TABLE zones AS SELECT * FROM (VALUES ${zones
      .map(([id, name, borough]) => `(${id}, ${sqlString(name)}, ${sqlString(borough)})`)
      .join(', ')}) AS z(zone_id, zone_name, borough)`,
  )
  await conn.run(`COPY zones TO ${sqlString(join(out, 'zones.csv'))} (HEADER, DELIMITER ',')`)
  // hash(i, k) is deterministic, so every "random" column is a pure function of the row number.
  const u = (k) => `(hash(i, ${k}) % 1000000) / 1000000.0`
  await conn.run(`
    CREATE TABLE trips AS
    WITH base AS (
      SELECT
        i,
        TIMESTAMP '2026-01-01 00:00:00' + to_seconds(CAST(floor(${u(1)} * 31 * 86400) AS BIGINT)) AS pickup_ts,
        1 + CAST(floor(${u(2)} * ${zones.length}) AS INTEGER) AS pickup_zone,
        1 + CAST(floor(${u(3)} * ${zones.length}) AS INTEGER) AS dropoff_zone,
        1 + CAST(floor(${u(4)} * 4) AS INTEGER) AS passengers,
        round(0.5 + ${u(5)} * 25, 2) AS distance_km,
        ${u(6)} AS noise,
        ${u(7)} AS tip_rate
      FROM range(${trips}) AS r(i)
    )
    SELECT
      CAST(i + 1 AS BIGINT) AS trip_id,
      pickup_ts,
      -- one trip in 200 ends before it starts (a clock error the pipeline drops)
      CASE WHEN i % 200 = 7 THEN pickup_ts - INTERVAL 5 MINUTE
           ELSE pickup_ts + to_seconds(CAST(120 + distance_km * 150 + noise * 600 AS BIGINT)) END AS dropoff_ts,
      pickup_zone,
      dropoff_zone,
      passengers,
      -- one trip in 150 has no distance
      CASE WHEN i % 150 = 3 THEN 0.0 ELSE distance_km END AS distance_km,
      -- one trip in 100 has a fare below the minimum
      CASE WHEN i % 100 = 5 THEN round(noise * 2, 2) ELSE round(3.0 + distance_km * 1.8 + noise * 4, 2) END AS fare,
      round((3.0 + distance_km * 1.8) * tip_rate * 0.25, 2) AS tip,
      CASE WHEN tip_rate < 0.3 THEN 'cash' ELSE 'card' END AS payment_type
    FROM base
    ORDER BY trip_id
  `)
  await conn.run(`COPY trips TO ${sqlString(join(out, 'trips.parquet'))} (FORMAT parquet)`)
  const count = await conn.runAndReadAll(
    'SELECT count(*) AS n, min(pickup_ts) AS lo, max(pickup_ts) AS hi FROM trips',
  )
  const row = count.getRowObjectsJS()[0]
  const iso = (d) => (d instanceof Date ? d.toISOString() : String(d))
  console.log(`wrote ${row.n} trips (${iso(row.lo)} .. ${iso(row.hi)}) and ${zones.length} zones to ${out}`)
} finally {
  conn.closeSync()
  instance.closeSync()
}
