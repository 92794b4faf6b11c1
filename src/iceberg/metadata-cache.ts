import type { TableMetadata } from './table-metadata.js'

/** Characters of metadata JSON a cache holds at most by default (about 64 MiB of text). */
export const DEFAULT_METADATA_CACHE_CHARS = 64 * 1024 * 1024

/**
 * A least-recently-used cache of parsed table metadata files, keyed by the file's URI. Iceberg never rewrites a
 * metadata file in place (every change writes a new one), so a parsed file stays valid for as long as it is cached:
 * the metadata a commit just wrote is the base of the next commit, which then needs no read and no parse. Bounded by
 * the total length of the files' JSON text. A lake holds one (`Lake.metadataCache`); `loadTable` reads it and
 * `writeMetadataFile` fills it when given it.
 */
export class MetadataCache {
  readonly #maxChars: number
  readonly #files = new Map<string, { readonly metadata: TableMetadata; readonly chars: number }>()
  #chars = 0

  constructor(options: { readonly maxChars?: number } = {}) {
    this.#maxChars = Math.max(0, options.maxChars ?? DEFAULT_METADATA_CACHE_CHARS)
  }

  /** The metadata of the file at `uri`, when cached. */
  get(uri: string): TableMetadata | undefined {
    const hit = this.#files.get(uri)
    if (hit === undefined) return undefined
    // Re-inserting moves the key to the young end of the map's order.
    this.#files.delete(uri)
    this.#files.set(uri, hit)
    return hit.metadata
  }

  /** Keeps the metadata of the file at `uri`, whose JSON text is `chars` characters long. */
  set(uri: string, metadata: TableMetadata, chars: number): void {
    if (chars > this.#maxChars) return
    const old = this.#files.get(uri)
    if (old !== undefined) {
      this.#files.delete(uri)
      this.#chars -= old.chars
    }
    this.#files.set(uri, { metadata, chars })
    this.#chars += chars
    for (const [oldest, v] of this.#files) {
      if (this.#chars <= this.#maxChars) break
      this.#files.delete(oldest)
      this.#chars -= v.chars
    }
  }

  /** Drops everything. */
  clear(): void {
    this.#files.clear()
    this.#chars = 0
  }

  /** Files and characters held. */
  stats(): { files: number; chars: number } {
    return { files: this.#files.size, chars: this.#chars }
  }
}
