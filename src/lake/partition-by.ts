import type { PartitionFieldInput } from '../iceberg/writer/table-writer.js'
import { parsePartitionField, splitPartitionList } from '../pipeline/partition-fields.js'
import { TarnError } from '../util/errors.js'

/**
 * Parses a `--partitioned-by` list: `day(ts), region, bucket[16](id), truncate[4](name)` (also `bucket(16, id)`).
 * A bare column is an identity partition. The syntax is the one pipeline models use for `partitionedBy`.
 */
export function parsePartitionBy(text: string): PartitionFieldInput[] {
  return splitPartitionList(text).map((part) => {
    const field = parsePartitionField(part)
    if (typeof field === 'string') throw new TarnError('INVALID_ARGUMENT', field, { partitionBy: text })
    return { column: field.column, transform: field.transform }
  })
}
