import { input, model } from 'tarn'

/** Every zone with its number of pickups and its share of all pickups (fares of at least min_fare). */
export const zones_enriched = model(
  {
    inputs: {
      zones: input('zones', { columns: ['zone_id', 'zone_name', 'borough'] }),
      trips: input('trips', { columns: ['pickup_zone', 'fare'], filter: 'fare >= $min_fare' }),
    },
    materialize: 'REPLACE',
    tags: ['daily'],
    memory: '512MB',
    timeout: '2m',
  },
  async ({ zones, trips }, ctx) => {
    const pickups = new Map<number, number>()
    for (const zone of trips.getChild('pickup_zone')?.toArray() ?? []) {
      pickups.set(Number(zone), (pickups.get(Number(zone)) ?? 0) + 1)
    }
    ctx.log(`${trips.numRows} trips of at least ${ctx.params.min_fare} in ${pickups.size} zones`)
    return zones.toArray().map((z) => {
      const count = pickups.get(Number(z.zone_id)) ?? 0
      return {
        zone_id: z.zone_id,
        zone_name: z.zone_name,
        borough: z.borough,
        pickups: count,
        share: trips.numRows === 0 ? 0 : count / trips.numRows,
      }
    })
  },
)
