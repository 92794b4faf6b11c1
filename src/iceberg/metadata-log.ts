import type { TableMetadata } from './table-metadata.js'

/** How many previous metadata files a table's `metadata-log` keeps unless its properties say otherwise. */
export const DEFAULT_PREVIOUS_VERSIONS_MAX = 100

/**
 * The `metadata-log` of new metadata: `log` and then `entry` (the metadata file it replaces), keeping the newest
 * `write.metadata.previous-versions-max` entries of the new `properties` (100 by default, as Iceberg's writers do),
 * so a table committed to often keeps a bounded metadata file instead of one that grows with every commit. Older
 * files stay reachable through tarn's commit history.
 */
export function nextMetadataLog(
  log: TableMetadata['metadata-log'],
  entry: TableMetadata['metadata-log'][number],
  properties: Readonly<Record<string, string>>,
): TableMetadata['metadata-log'] {
  const raw = Number(properties['write.metadata.previous-versions-max'])
  const max = Number.isInteger(raw) && raw >= 1 ? raw : DEFAULT_PREVIOUS_VERSIONS_MAX
  return log.length + 1 > max ? [...log.slice(log.length + 1 - max), entry] : [...log, entry]
}
