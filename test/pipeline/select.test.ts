import { describe, expect, it } from 'vitest'
import {
  buildLogicalPlan,
  buildPhysicalPlan,
  loadProject,
  planProject,
  selectPlan,
} from '../../src/pipeline/index.js'
import { PROJECT_YML, rejection, TAXI, TAXI_LAKE, thrown, writeProject } from './project-dir.js'

const names = (plan: { nodes: readonly { name: string }[] }) => plan.nodes.map((n) => n.name).sort()

describe('--select narrows the graph', () => {
  it('selects a model and its descendants with name+', async () => {
    const plan = selectPlan(buildLogicalPlan(await loadProject(TAXI)), ['trips_clean+'])
    // descendants through every language: fare_bands (Python), zones_enriched (TS), borough_summary (SQL)
    expect(names(plan)).toEqual([
      'borough_summary',
      'daily_trips',
      'every_zone_has_a_name',
      'fare_bands',
      'fares_are_positive',
      'trips_clean',
      'zone_stats',
      'zones_enriched',
    ])
    expect(names(selectPlan(buildLogicalPlan(await loadProject(TAXI)), ['fare_bands+']))).toEqual([
      'borough_summary',
      'fare_bands',
      'zones_enriched',
    ])
    expect(plan.selection).toEqual(['trips_clean+'])
  })

  it('selects a model and its ancestors with +name, with the expectations whose models are all selected', async () => {
    const plan = selectPlan(buildLogicalPlan(await loadProject(TAXI)), ['+zone_stats'])
    expect(names(plan)).toEqual(['every_zone_has_a_name', 'fares_are_positive', 'trips_clean', 'zone_stats'])
    expect(plan.tables).toEqual(['tarn.trips', 'tarn.zones'])
  })

  it('selects by tag, and takes the union of several selectors', async () => {
    const full = buildLogicalPlan(await loadProject(TAXI))
    expect(names(selectPlan(full, ['tag:daily']))).toEqual([
      'borough_summary',
      'every_zone_has_a_name',
      'fare_bands',
      'fares_are_positive',
      'trips_clean',
      'zone_stats',
      'zones_enriched',
    ])
    expect(names(selectPlan(full, ['zones_enriched daily_trips']))).toEqual(['daily_trips', 'zones_enriched'])
    expect(names(selectPlan(full, ['zones_enriched,daily_trips', '+fares_are_positive']))).toEqual([
      'daily_trips',
      'fares_are_positive',
      'trips_clean',
      'zones_enriched',
    ])
  })

  it('reads a left-out upstream model from its materialised table', async () => {
    const full = buildLogicalPlan(await loadProject(TAXI))
    const plan = selectPlan(full, ['zone_stats'])
    expect(names(plan)).toEqual(['every_zone_has_a_name', 'zone_stats'])
    expect(plan.tables).toEqual(['tarn.trips_clean', 'tarn.zones'])
    const input = plan.nodes
      .find((n) => n.name === 'zone_stats')
      ?.inputs.find((i) => i.table === 'trips_clean')
    expect(input?.source).toEqual({
      kind: 'table',
      table: 'tarn.trips_clean',
      self: false,
      fromModel: 'trips_clean',
    })
    const physical = buildPhysicalPlan(plan, { ref: 'main' })
    expect(physical.levels).toEqual([
      ['scan:tarn.trips_clean', 'scan:tarn.zones'],
      ['model:zone_stats'],
      ['materialize:zone_stats', 'expectation:every_zone_has_a_name'],
    ])
    const missing = await rejection(
      planProject(TAXI, { select: ['zone_stats'], lake: TAXI_LAKE, ref: 'main' }),
    )
    expect(missing.code).toBe('TABLE_NOT_FOUND')
    expect(missing.message).toContain('model trips_clean is left out by --select')
  })

  it('refuses to leave out an upstream model that is only kept in memory', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'a.sql': 'SELECT * FROM trips',
      'b.sql': '-- tarn: materialize=REPLACE\nSELECT * FROM a',
    })
    const full = buildLogicalPlan(await loadProject(dir))
    const e = thrown(() => selectPlan(full, ['b']))
    expect(e.code).toBe('INVALID_SELECTION')
    expect(e.context).toMatchObject({ file: 'b.sql', line: 2, model: 'b', reads: 'a' })
    expect(names(selectPlan(full, ['+b']))).toEqual(['a', 'b'])
  })

  it('refuses unknown names and tags', async () => {
    const full = buildLogicalPlan(await loadProject(TAXI))
    expect(thrown(() => selectPlan(full, ['nope+'])).code).toBe('INVALID_SELECTION')
    expect(thrown(() => selectPlan(full, ['tag:weekly'])).message).toContain(
      'no model or expectation has tag weekly',
    )
  })
})
