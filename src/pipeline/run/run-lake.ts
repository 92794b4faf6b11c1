import type { Catalog } from '../../catalog/catalog.js'
import type { QueryEngine } from '../../engine/query-engine.js'
import type { MetadataCache } from '../../iceberg/metadata-cache.js'
import type { ObjectStore } from '../../storage/object-store.js'
import type { Clock } from '../../util/clock.js'
import type { Random } from '../../util/random.js'

/**
 * What a pipeline run needs of a `Lake`: its catalog, warehouse, injected clock and random source, author and home.
 */
export interface RunLake {
  readonly catalog: Catalog
  readonly store: ObjectStore
  readonly clock: Clock
  readonly random: Random
  readonly author: string
  readonly config: { readonly home: string }
  /** The lake's parsed Iceberg metadata files. */
  readonly metadataCache?: MetadataCache
  activeBranch(): string
  /** The lake's shared query engine (its file cache serves the run's remote files). */
  queryEngine(): Promise<QueryEngine>
}
