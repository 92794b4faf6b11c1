import { expectation, input } from 'tarn'

/** No clean trip has a fare below zero. */
export const fares_are_positive = expectation(
  {
    inputs: { trips: input('trips_clean', { columns: ['fare'] }) },
    tags: ['daily'],
    description: 'every clean trip has a positive fare',
  },
  async ({ trips }) => {
    const fares: number[] = Array.from(trips.getChild('fare')?.toArray() ?? [], Number)
    return fares.every((f) => f > 0)
  },
)

/** Every zone with pickups has a name. */
export const every_zone_has_a_name = expectation(
  {
    inputs: { stats: input('zone_stats', { columns: ['zone_name', 'trips'] }) },
    description: 'zone_stats has rows, and each has a zone name',
  },
  async ({ stats }) => stats.numRows > 0 && stats.toArray().every((r) => typeof r.zone_name === 'string'),
)
