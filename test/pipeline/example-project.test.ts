import { describe, expect, it } from 'vitest'
import { pipelinePlanJson, renderPlan } from '../../src/cli/format/plan-render.js'
import { buildLogicalPlan, loadProject, planProject } from '../../src/pipeline/index.js'
import { TAXI, TAXI_LAKE } from './project-dir.js'

describe('the taxi example project', () => {
  it('loads its SQL models, its Python model, its TS model and its expectations with their config and lines', async () => {
    const project = await loadProject(TAXI)
    expect(project.name).toBe('taxi')
    expect(project.namespace).toBe('tarn')
    expect(project.params).toEqual({ min_fare: 2.5, run_date: '2026-01-31' })
    expect(project.models.map((m) => `${m.name}:${m.kind}`).sort()).toEqual([
      'borough_summary:sql',
      'daily_trips:sql',
      'fare_bands:py',
      'trips_clean:sql',
      'zone_stats:sql',
      'zones_enriched:ts',
    ])
    expect(project.expectations.map((e) => e.name).sort()).toEqual([
      'every_zone_has_a_name',
      'fares_are_positive',
    ])
    const daily = project.models.find((m) => m.name === 'daily_trips')
    expect(daily?.materialize).toBe('OVERWRITE_PARTITIONS')
    expect(daily?.partitionedBy).toEqual([{ column: 'pickup_ts', transform: 'day', text: 'day(pickup_ts)' }])
    expect(daily?.overwriteFilter).toBe(
      "pickup_ts >= DATE '2026-01-31' AND pickup_ts < DATE '2026-01-31' + INTERVAL 1 DAY",
    )
    const enriched = project.models.find((m) => m.name === 'zones_enriched')
    expect(enriched?.file).toBe('zones_enriched.ts')
    expect(enriched?.line).toBe(7)
    expect(enriched?.memory).toBe('512MB')
    expect(enriched?.inputs.map((i) => [i.alias, i.table, i.columns, i.filter])).toEqual([
      ['zones', 'zones', ['zone_id', 'zone_name', 'borough'], null],
      ['trips', 'trips', ['pickup_zone', 'fare'], 'fare >= 2.5'],
      ['bands', 'fare_bands', ['pickup_zone', 'median_fare', 'p90_fare', 'fare_per_km'], null],
    ])
    expect(enriched?.params).toEqual(['min_fare'])
    // the Python model is read from its decorators, without importing it (pyarrow need not be installed to plan)
    const bands = project.models.find((m) => m.name === 'fare_bands')
    expect(bands?.file).toBe('fare_bands.py')
    expect(bands?.line).toBe(17)
    expect(bands?.materialize).toBe('REPLACE')
    expect(bands?.tags).toEqual(['daily'])
    expect(bands?.inputs.map((i) => [i.alias, i.table, i.columns, i.filter])).toEqual([
      ['trips', 'trips_clean', ['pickup_zone', 'fare', 'distance_km'], 'distance_km >= 1'],
    ])
  })

  it('gives the project and its plans as immutable plain data', async () => {
    const { project, logical, physical } = await planProject(TAXI, { ref: 'main', lake: TAXI_LAKE })
    expect(JSON.parse(JSON.stringify(project))).toEqual(project)
    expect(JSON.parse(JSON.stringify(physical))).toEqual(physical)
    expect(Object.isFrozen(project.models[0])).toBe(true)
    expect(Object.isFrozen(logical.nodes)).toBe(true)
    expect(Object.isFrozen(physical.scans[0]?.readers)).toBe(true)
  })

  it('plans into topological levels where independent models share a level', async () => {
    const { physical } = await planProject(TAXI, { ref: 'main', lake: TAXI_LAKE })
    // SQL -> Python -> TS -> SQL: trips_clean, then fare_bands, then zones_enriched, then borough_summary
    expect(physical.levels).toEqual([
      ['scan:tarn.trips', 'scan:tarn.zones'],
      ['model:trips_clean'],
      [
        'materialize:trips_clean',
        'model:daily_trips',
        'model:fare_bands',
        'expectation:fares_are_positive',
        'model:zone_stats',
      ],
      [
        'materialize:daily_trips',
        'materialize:fare_bands',
        'materialize:zone_stats',
        'expectation:every_zone_has_a_name',
        'model:zones_enriched',
      ],
      ['materialize:zones_enriched', 'model:borough_summary'],
      ['materialize:borough_summary'],
    ])
    expect(physical.steps.find((s) => s.id === 'model:fare_bands')?.language).toBe('py')
    const daily = physical.steps.find((s) => s.id === 'materialize:daily_trips')
    expect(daily?.table).toBe('tarn.daily_trips')
    expect(daily?.partitionedBy?.map((p) => p.text)).toEqual(['day(pickup_ts)'])
  })

  it('merges the scans of a table read by several models: union of columns, weakest filter', async () => {
    const { physical } = await planProject(TAXI, { ref: 'main', lake: TAXI_LAKE })
    const trips = physical.scans.find((s) => s.table === 'tarn.trips')
    expect(trips?.ref).toBe('main')
    expect(trips?.readers.map((r) => r.node)).toEqual(['trips_clean', 'zones_enriched'])
    // trips_clean names every column but payment_type; zones_enriched needs two, filtered.
    expect(trips?.columns).toEqual([
      'trip_id',
      'pickup_ts',
      'dropoff_ts',
      'pickup_zone',
      'dropoff_zone',
      'passengers',
      'distance_km',
      'fare',
      'tip',
    ])
    // trips_clean's WHERE on trips implies zones_enriched's filter: the scan keeps the weaker one.
    expect(trips?.readers[0]?.filter).toBe('(fare >= 2.5) AND (dropoff_ts > pickup_ts) AND (distance_km > 0)')
    expect(trips?.filter).toBe('fare >= 2.5')
    expect(trips?.readers[1]).toEqual({
      node: 'zones_enriched',
      alias: 'trips',
      columns: ['pickup_zone', 'fare'],
      filter: 'fare >= 2.5',
    })
    const zones = physical.scans.find((s) => s.table === 'tarn.zones')
    expect(zones?.columns).toEqual(['zone_id', 'zone_name', 'borough'])
    expect(zones?.readers.map((r) => r.node)).toEqual(['zone_stats', 'zones_enriched'])
    expect(zones?.filter).toBeNull()
  })

  it('resolves model names to models and other names to lake tables of the default namespace', async () => {
    const plan = buildLogicalPlan(await loadProject(TAXI))
    expect(plan.tables).toEqual(['tarn.trips', 'tarn.zones'])
    expect(plan.edges.filter((e) => e.to === 'zone_stats')).toEqual([
      { from: 'trips_clean', to: 'zone_stats', kind: 'model' },
      { from: 'tarn.zones', to: 'zone_stats', kind: 'table' },
    ])
    expect(plan.edges.filter((e) => e.to === 'fare_bands' || e.from === 'fare_bands')).toEqual([
      { from: 'trips_clean', to: 'fare_bands', kind: 'model' },
      { from: 'fare_bands', to: 'zones_enriched', kind: 'model' },
    ])
    expect(plan.edges.filter((e) => e.to === 'borough_summary')).toEqual([
      { from: 'zones_enriched', to: 'borough_summary', kind: 'model' },
    ])
  })

  it('substitutes --param values in SQL models and TS input filters', async () => {
    const { project, physical } = await planProject(TAXI, {
      params: { min_fare: '10', run_date: '2026-01-15' },
    })
    expect(project.models.find((m) => m.name === 'trips_clean')?.sql).toContain('WHERE fare >= 10')
    expect(physical.scans.find((s) => s.table === 'tarn.trips')?.readers[1]?.filter).toBe('fare >= 10')
    expect(project.models.find((m) => m.name === 'daily_trips')?.sql).toContain(
      "pickup_ts >= DATE '2026-01-15'",
    )
  })

  it('renders an ASCII DAG, the merged scans and the levels, and a JSON form', async () => {
    const { physical } = await planProject(TAXI, { ref: 'main', lake: TAXI_LAKE })
    const text = renderPlan(physical)
    expect(text).toContain('tarn.trips [lake table]\n+-> trips_clean [sql model, REPLACE -> tarn.trips_clean')
    expect(text).toContain(
      '|   +-> daily_trips [sql model, OVERWRITE_PARTITIONS -> tarn.daily_trips, partitioned by day(pickup_ts)]',
    )
    expect(text).toContain('|   +-> fare_bands [py model, REPLACE -> tarn.fare_bands, tags daily]')
    expect(text).toContain('|   |   \\-> zones_enriched [ts model, REPLACE -> tarn.zones_enriched')
    expect(text).toContain('|   |       \\-> borough_summary [sql model, REPLACE -> tarn.borough_summary')
    expect(text).toContain('+-> zone_stats (see above)')
    expect(text).toContain('merged for 2 readers')
    expect(text).toContain('level 1  run trips_clean (sql)\n')
    expect(text).toContain('| run fare_bands (py) |')
    expect(text).toContain('level 4  write tarn.zones_enriched (REPLACE) | run borough_summary (sql)')
    expect(text).toContain('nothing is materialised')
    const json = JSON.parse(JSON.stringify(pipelinePlanJson(physical)))
    expect(json.levels[0]).toEqual(['scan:tarn.trips', 'scan:tarn.zones'])
    expect(json.nodes.map((n: { name: string }) => n.name)).toContain('zones_enriched')
  })
})
