import { input, model } from 'tarn'

/**
 * Every zone with its number of pickups (fares of at least min_fare), its share of all pickups, and the fare bands
 * the Python model fare_bands computed for it.
 */
export const zones_enriched = model(
  {
    inputs: {
      zones: input('zones', { columns: ['zone_id', 'zone_name', 'borough'] }),
      trips: input('trips', { columns: ['pickup_zone', 'fare'], filter: 'fare >= $min_fare' }),
      bands: input('fare_bands', { columns: ['pickup_zone', 'median_fare', 'p90_fare', 'fare_per_km'] }),
    },
    materialize: 'REPLACE',
    tags: ['daily'],
    memory: '512MB',
    timeout: '2m',
  },
  async ({ zones, trips, bands }, ctx) => {
    const pickups = new Map<number, number>()
    for (const zone of trips.getChild('pickup_zone')?.toArray() ?? []) {
      pickups.set(Number(zone), (pickups.get(Number(zone)) ?? 0) + 1)
    }
    ctx.log(`${trips.numRows} trips of at least ${ctx.params.min_fare} in ${pickups.size} zones`)
    const bandOf = new Map(bands.toArray().map((b) => [Number(b.pickup_zone), b]))
    return zones.toArray().map((z) => {
      const count = pickups.get(Number(z.zone_id)) ?? 0
      const band = bandOf.get(Number(z.zone_id))
      return {
        zone_id: z.zone_id,
        zone_name: z.zone_name,
        borough: z.borough,
        pickups: count,
        share: trips.numRows === 0 ? 0 : count / trips.numRows,
        median_fare: band?.median_fare ?? null,
        p90_fare: band?.p90_fare ?? null,
        fare_per_km: band?.fare_per_km ?? null,
      }
    })
  },
)
