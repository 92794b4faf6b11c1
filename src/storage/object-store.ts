/**
 * What a store knows about one object.
 *
 * @example
 * ```ts
 * const info: ObjectInfo | undefined = await store.head('t/data/a.parquet'); info?.size
 * ```
 */
export interface ObjectInfo {
  /** The key, relative to the store's root, with `/` separators. */
  readonly key: string
  /** Size in bytes. */
  readonly size: number
  /** Last modification time, milliseconds since the epoch. */
  readonly lastModified: number
}

/**
 * A byte range of an object: `length` bytes from `offset` (to the end when `length` is omitted).
 *
 * @example
 * ```ts
 * await store.get('t/data/a.parquet', { range: { offset: 4, length: 100 } })
 * ```
 */
export interface ByteRange {
  readonly offset: number
  readonly length?: number
}

/**
 * The object storage contract every warehouse backend implements: immutable-friendly blob storage addressed by
 * `/`-separated keys relative to a root URI. Implementations: the local filesystem (default) and S3.
 *
 * Errors: a missing key on `get` throws `TarnError` with code `OBJECT_NOT_FOUND`; other failures throw
 * `STORAGE_ERROR` with the key and the underlying cause.
 *
 * @example
 * ```ts
 * const store = await openObjectStore('file:///tmp/lake/warehouse')
 * await store.put('a/b.txt', new TextEncoder().encode('hi'))
 * const bytes = await store.get('a/b.txt', { range: { offset: 0, length: 1 } })
 * await store.close()
 * ```
 */
export interface ObjectStore {
  /** The root URI of the store (`file:///...` or `s3://bucket/prefix`), without a trailing slash. */
  readonly root: string
  /** Reads an object, or a byte range of it. */
  get(key: string, options?: { range?: ByteRange }): Promise<Uint8Array>
  /** Writes an object, replacing any previous one. Local writes are atomic (temp file + rename). */
  put(key: string, data: Uint8Array): Promise<void>
  /** Writes an object only when no object has that key; returns false (and writes nothing) otherwise. */
  putIfAbsent(key: string, data: Uint8Array): Promise<boolean>
  /**
   * `putIfAbsent` of a local file's contents, for stores that can do better than reading it into memory (the local
   * store links it into place). The file must not change afterwards. Callers use `putFileIfAbsent` (put-file.ts),
   * which falls back to `putIfAbsent` for stores without it.
   */
  putFileIfAbsent?(key: string, path: string): Promise<boolean>
  /**
   * `putIfAbsent` of several objects at once, for stores that can make them durable together (the local store
   * fsyncs each directory once). Returns, per entry, whether it was stored. Callers use `putAllIfAbsent`
   * (put-all.ts), which falls back to one `putIfAbsent` per entry.
   */
  putAllIfAbsent?(entries: readonly { key: string; data: Uint8Array }[]): Promise<boolean[]>
  /**
   * `put` of several objects at once, for stores that can make them durable together (the local store fsyncs each
   * directory once). Callers use `putAll` (put-all.ts), which falls back to one `put` per entry.
   */
  putAll?(entries: readonly { key: string; data: Uint8Array }[]): Promise<void>
  /**
   * `putIfAbsent` of an object under a fresh, unique key that nothing reads or references before this returns (a
   * metadata file the catalog points at next), for stores that can do it cheaper: the local store writes the file in
   * place with one synchronous write, so a crash part-way may leave a partial file under that key, which nothing
   * references. Durable when it returns. Callers use `putFresh` (put-fresh.ts), which falls back to `putIfAbsent`.
   */
  putFresh?(key: string, data: Uint8Array): Promise<boolean>
  /** Size and time of an object, or undefined when it does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>
  /** Every object whose key starts with `prefix`, in lexicographic key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>
  /** Deletes an object; deleting a missing object is not an error. */
  delete(key: string): Promise<void>
  /** The absolute URI of a key (`file:///...` or `s3://bucket/...`). */
  uriOf(key: string): string
  /** The key of an absolute URI inside this store, or undefined when the URI lies outside it. */
  keyOf(uri: string): string | undefined
  /** Releases network clients and file handles. */
  close(): Promise<void>
}
