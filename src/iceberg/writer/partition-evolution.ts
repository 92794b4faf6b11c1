import { nextMetadataLog } from '../metadata-log.js'
import { sameSpecShape } from '../partition-spec.js'
import type { LoadedTable } from '../table-loader.js'
import { currentSchema, type TableMetadata } from '../table-metadata.js'
import { type CommitResult, keyOfUri, type WriterDeps, writeMetadataFile } from './snapshot-producer.js'
import { buildPartitionSpec, type PartitionFieldInput } from './table-writer.js'

/**
 * Changes how new data is partitioned: adds a partition spec (or reuses an identical existing one) and makes it the
 * default. Existing files keep their spec; scans read every spec.
 */
export async function updatePartitionSpec(
  table: LoadedTable,
  fields: readonly PartitionFieldInput[],
  deps: WriterDeps,
): Promise<CommitResult> {
  const m = table.metadata
  const nextSpecId = Math.max(...m['partition-specs'].map((s) => s['spec-id'])) + 1
  const candidate = buildPartitionSpec(currentSchema(m), fields, nextSpecId, m['last-partition-id'])
  // Reuse field ids of identical (source, transform) pairs, as Iceberg does across specs.
  const reused = {
    ...candidate,
    fields: candidate.fields.map((f) => {
      const old = m['partition-specs']
        .flatMap((s) => s.fields)
        .find((x) => x['source-id'] === f['source-id'] && x.transform === f.transform)
      return old ? { ...f, 'field-id': old['field-id'], name: old.name } : f
    }),
  }
  let next = m['last-partition-id']
  const spec = {
    ...reused,
    fields: reused.fields.map((f) =>
      f['field-id'] > m['last-partition-id'] ? { ...f, 'field-id': ++next } : f,
    ),
  }
  const existing = m['partition-specs'].find((s) => sameSpecShape(s, spec))
  const now = deps.clock.now()
  const metadata: TableMetadata = {
    ...m,
    'last-updated-ms': now,
    'partition-specs': existing ? m['partition-specs'] : [...m['partition-specs'], spec],
    'default-spec-id': existing ? existing['spec-id'] : spec['spec-id'],
    'last-partition-id': Math.max(next, m['last-partition-id']),
    'metadata-log': nextMetadataLog(
      m['metadata-log'],
      { 'timestamp-ms': m['last-updated-ms'], 'metadata-file': table.metadataLocation },
      m.properties,
    ),
  }
  return writeMetadataFile(
    table.io.store,
    keyOfUri(table.io.store, table.root),
    metadata,
    table.metadataLocation,
    deps,
  )
}
