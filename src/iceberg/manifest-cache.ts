/**
 * A least-recently-used cache of decoded manifests and manifest lists, keyed by the file's resolved URI (plus what
 * else the decoded value depends on). Iceberg never rewrites a manifest or manifest list in place, so a decoded
 * file stays valid for as long as it is cached. Bounded by the total number of entries held (data files and
 * manifest-list rows), not by the number of files.
 */
export class ManifestCache {
  readonly #maxEntries: number
  readonly #files = new Map<string, { readonly value: unknown; readonly weight: number }>()
  readonly #pending = new Map<string, Promise<unknown>>()
  #entries = 0
  #hits = 0
  #misses = 0

  constructor(options: { readonly maxEntries?: number } = {}) {
    this.#maxEntries = Math.max(0, options.maxEntries ?? DEFAULT_MANIFEST_CACHE_ENTRIES)
  }

  /**
   * The cached value of `key`, or the value `load` produces (then cached, weighing `weightOf(value)` entries).
   * Concurrent calls for the same key share one load; a failed load is not cached. The caller must use the same
   * value type for a key every time.
   */
  async get<T>(key: string, weightOf: (value: T) => number, load: () => Promise<T>): Promise<T> {
    const hit = this.#files.get(key)
    if (hit !== undefined) {
      this.#hits++
      // Re-inserting moves the key to the young end of the map's order.
      this.#files.delete(key)
      this.#files.set(key, hit)
      return hit.value as T
    }
    const pending = this.#pending.get(key)
    if (pending !== undefined) return (await pending) as T
    this.#misses++
    const p = load()
    this.#pending.set(key, p)
    try {
      const value = await p
      this.#put(key, value, Math.max(1, weightOf(value)))
      return value
    } finally {
      this.#pending.delete(key)
    }
  }

  #put(key: string, value: unknown, weight: number): void {
    if (weight > this.#maxEntries) return
    this.#files.set(key, { value, weight })
    this.#entries += weight
    for (const [oldest, v] of this.#files) {
      if (this.#entries <= this.#maxEntries) break
      this.#files.delete(oldest)
      this.#entries -= v.weight
    }
  }

  /** Drops everything. */
  clear(): void {
    this.#files.clear()
    this.#entries = 0
  }

  /** Files and entries held, and hits and misses since creation. */
  stats(): { files: number; entries: number; hits: number; misses: number } {
    return { files: this.#files.size, entries: this.#entries, hits: this.#hits, misses: this.#misses }
  }
}

/** Entries the shared cache holds at most (roughly 100-300 MB of decoded data-file records with column stats). */
export const DEFAULT_MANIFEST_CACHE_ENTRIES = 250_000

/**
 * The cache scan planning uses unless told otherwise (one per process).
 */
export const sharedManifestCache = new ManifestCache()
