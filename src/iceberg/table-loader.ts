import type { ObjectStore } from '../storage/object-store.js'
import { parsingFile } from '../util/corrupt-file.js'
import { TarnError } from '../util/errors.js'
import type { MetadataCache } from './metadata-cache.js'
import { type TableIO, tableIO } from './table-io.js'
import { parseTableMetadata, type TableMetadata } from './table-metadata.js'

/**
 * A table loaded from one metadata file, with the IO that resolves its paths.
 */
export interface LoadedTable {
  readonly metadata: TableMetadata
  readonly metadataLocation: string
  readonly io: TableIO
  /** The URI of the directory that holds the table now (parent of the metadata directory). */
  readonly root: string
}

/**
 * Options of {@link loadTable}.
 */
export interface LoadTableOptions {
  /**
   * Map every path that starts with the recorded table location onto the directory that now holds the metadata
   * (default true when the two differ).
   */
  readonly allowMovedPaths?: boolean
  readonly localPathOf?: (uri: string) => Promise<string>
  /** Parsed metadata files to take the file from, and to keep it in once read (without: read and parse each time). */
  readonly metadataCache?: MetadataCache
}

/**
 * The table root implied by a metadata file URI: the parent of its `metadata/` directory.
 */
export function tableRootOf(metadataLocation: string): string {
  const dir = metadataLocation.slice(0, metadataLocation.lastIndexOf('/'))
  return dir.endsWith('/metadata') ? dir.slice(0, -'/metadata'.length) : dir
}

/**
 * Loads table metadata (plain or gzipped, v1 or v2) from a URI (or key) in the store. Metadata files never change,
 * so a file read (or written, see `writeMetadataFile`) before is taken from `opts.metadataCache` when given.
 */
export async function loadTable(
  store: ObjectStore,
  metadataLocation: string,
  opts: LoadTableOptions = {},
): Promise<LoadedTable> {
  const uri = metadataLocation.includes('://') ? metadataLocation : store.uriOf(metadataLocation)
  const key = store.keyOf(uri)
  if (key === undefined) {
    throw new TarnError('OBJECT_NOT_FOUND', `Metadata ${uri} lies outside the warehouse`, {
      metadataLocation: uri,
    })
  }
  let metadata = opts.metadataCache?.get(uri)
  if (metadata === undefined) {
    const bytes = await store.get(key)
    const parsed = parsingFile(uri, 'table metadata', () => parseTableMetadata(bytes))
    opts.metadataCache?.set(uri, parsed, bytes.length)
    metadata = parsed
  }
  const root = tableRootOf(uri)
  const moved = opts.allowMovedPaths ?? true
  const io = tableIO(store, {
    ...(moved && metadata.location !== root ? { movedFrom: metadata.location, movedTo: root } : {}),
    ...(opts.localPathOf ? { localPathOf: opts.localPathOf } : {}),
  })
  return { metadata, metadataLocation: uri, io, root }
}
