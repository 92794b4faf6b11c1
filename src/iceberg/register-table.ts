import type { ObjectStore } from '../storage/object-store.js'
import { TarnError } from '../util/errors.js'
import { snapshotManifests } from './scan-planner.js'
import { type LoadedTable, loadTable, tableRootOf } from './table-loader.js'
import { snapshotById } from './table-metadata.js'
import { type CommitResult, stateOf } from './writer/snapshot-producer.js'

/**
 * Options of {@link registerTable}.
 */
export interface RegisterOptions {
  /**
   * Map every path that starts with the table location recorded in the metadata onto the directory that holds the
   * metadata now (for tables copied or moved from elsewhere).
   */
  readonly allowMovedPaths?: boolean
}

/**
 * Registers an existing Iceberg table without copying anything: loads the metadata file, checks that its current
 * snapshot's manifests are reachable, and returns the state for the catalog. Fails with `INVALID_ARGUMENT` when the
 * recorded location differs from where the table lives and `allowMovedPaths` is not set.
 */
export async function registerTable(
  store: ObjectStore,
  metadataLocation: string,
  opts: RegisterOptions = {},
): Promise<CommitResult & { readonly table: LoadedTable }> {
  const table = await loadTable(store, metadataLocation, { allowMovedPaths: opts.allowMovedPaths === true })
  const root = tableRootOf(table.metadataLocation)
  const norm = (u: string): string => u.replace(/^s3[an]:\/\//i, 's3://').replace(/\/+$/, '')
  const recorded = norm(table.metadata.location)
  if (recorded !== norm(root) && !opts.allowMovedPaths) {
    throw new TarnError(
      'INVALID_ARGUMENT',
      `The table records location ${table.metadata.location} but its metadata lives under ${root}; register it with --allow-moved-paths to read it from there`,
      { recorded, actual: root },
    )
  }
  const snapshot = snapshotById(table.metadata)
  if (snapshot) await snapshotManifests(table, snapshot)
  const state = stateOf(table.metadata, table.metadataLocation)
  return {
    metadata: table.metadata,
    metadataLocation: table.metadataLocation,
    snapshotId: state.snapshotId,
    state,
    table,
  }
}
