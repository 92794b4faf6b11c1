import type { RecordBatch } from 'apache-arrow'
import type { QueryBatches } from '../lake/lake-api.js'
import { TarnError } from '../util/errors.js'
import type { ServerLimits } from './server-limits.js'

/**
 * The refusal of a result past the server's bounds: `RESULT_TOO_LARGE` (413) naming the bound.
 */
export function resultTooLarge(what: 'rows' | 'bytes', max: number): TarnError {
  return new TarnError(
    'RESULT_TOO_LARGE',
    `the result has more than ${max} ${what}, this server's bound; narrow the query (WHERE, LIMIT) or export less`,
    what === 'rows' ? { maxRows: max } : { maxBytes: max },
  )
}

/**
 * A query result checked against the server's row and byte bounds before the response starts: with a bound set,
 * the batches are read ahead (at most the bound's worth is held) and a result past it is refused with
 * `RESULT_TOO_LARGE` while the status can still say so; without bounds the stream passes through untouched.
 */
export async function boundedResult(source: QueryBatches, limits: ServerLimits): Promise<QueryBatches> {
  const maxRows = limits.maxResultRows
  const maxBytes = limits.maxResultBytes
  if (maxRows <= 0 && maxBytes <= 0) return source
  const held: RecordBatch[] = []
  let rows = 0
  let bytes = 0
  try {
    for await (const batch of source) {
      rows += batch.numRows
      bytes += batch.data.byteLength
      if (maxRows > 0 && rows > maxRows) throw resultTooLarge('rows', maxRows)
      if (maxBytes > 0 && bytes > maxBytes) throw resultTooLarge('bytes', maxBytes)
      held.push(batch)
    }
  } finally {
    await source.close()
  }
  return {
    plan: source.plan,
    schema: source.schema,
    close: async () => undefined,
    async *[Symbol.asyncIterator]() {
      yield* held
    },
  }
}
