import { TarnError } from '../util/errors.js'
import type { ByteRange, ObjectInfo, ObjectStore } from './object-store.js'
import { openObjectStore, parseStorageUri } from './open.js'
import { putAll, putAllIfAbsent } from './put-all.js'
import { putFileIfAbsent } from './put-file.js'
import { putFresh } from './put-fresh.js'

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\//i

/** The part of `uri` below `root` (both absolute URIs), or undefined when `uri` is not under `root`. */
function prefixInside(root: string, uri: string): string | undefined {
  const base = root.endsWith('/') ? root : `${root}/`
  if (uri === root) return ''
  return uri.startsWith(base) ? uri.slice(base.length) : undefined
}

/**
 * The warehouse store, extended so that it can also address files outside the warehouse by absolute URI: registered
 * foreign tables keep their files where they are (zero-copy) and are read through the same store.
 *
 * Keys inside the warehouse are relative, as with any store. A key that is an absolute URI (`file:///...`,
 * `s3://bucket/...`) is routed to a store opened on that URI's root (`/` for local files, the bucket for S3), opened
 * once and reused. `keyOf` returns the relative key for URIs inside the warehouse and the URI itself otherwise.
 */
export class RoutingObjectStore implements ObjectStore {
  readonly root: string
  readonly #warehouse: ObjectStore
  readonly #others = new Map<string, Promise<ObjectStore>>()

  constructor(warehouse: ObjectStore) {
    this.#warehouse = warehouse
    this.root = warehouse.root
  }

  /** The store and relative key that hold `key` (a prefix when `isPrefix`, which may end with `/`). */
  async #route(key: string, isPrefix = false): Promise<[ObjectStore, string]> {
    if (!ABSOLUTE.test(key)) return [this.#warehouse, key]
    const inside = isPrefix ? prefixInside(this.#warehouse.root, key) : this.#warehouse.keyOf(key)
    if (inside !== undefined) return [this.#warehouse, inside]
    const parsed = parseStorageUri(key)
    const rootUri = parsed.scheme === 'file' ? 'file:///' : `s3://${parsed.bucket}`
    let store = this.#others.get(rootUri)
    if (!store) {
      store = openObjectStore(rootUri)
      this.#others.set(rootUri, store)
    }
    const s = await store
    const normalized = key.replace(/^s3[an]:\/\//i, 's3://')
    const rel = isPrefix ? prefixInside(s.root, normalized) : s.keyOf(normalized)
    if (rel === undefined) throw new TarnError('INVALID_ARGUMENT', `cannot address ${key}`, { uri: key })
    return [s, rel]
  }

  async get(key: string, options?: { range?: ByteRange }): Promise<Uint8Array> {
    const [s, k] = await this.#route(key)
    return s.get(k, options)
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const [s, k] = await this.#route(key)
    return s.put(k, data)
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    const [s, k] = await this.#route(key)
    return s.putIfAbsent(k, data)
  }

  async putFresh(key: string, data: Uint8Array): Promise<boolean> {
    const [s, k] = await this.#route(key)
    return putFresh(s, k, data)
  }

  async putFileIfAbsent(key: string, path: string): Promise<boolean> {
    const [s, k] = await this.#route(key)
    return putFileIfAbsent(s, k, path)
  }

  async putAllIfAbsent(entries: readonly { key: string; data: Uint8Array }[]): Promise<boolean[]> {
    const routed = await Promise.all(
      entries.map(async (e) => ({ at: await this.#route(e.key), data: e.data })),
    )
    const [first] = routed
    // together when every key lies in one store (a commit's files do: the warehouse), else one by one
    if (first !== undefined && routed.every((r) => r.at[0] === first.at[0]))
      return putAllIfAbsent(
        first.at[0],
        routed.map((r) => ({ key: r.at[1], data: r.data })),
      )
    return Promise.all(routed.map((r) => r.at[0].putIfAbsent(r.at[1], r.data)))
  }

  async putAll(entries: readonly { key: string; data: Uint8Array }[]): Promise<void> {
    const routed = await Promise.all(
      entries.map(async (e) => ({ at: await this.#route(e.key), data: e.data })),
    )
    const [first] = routed
    if (first !== undefined && routed.every((r) => r.at[0] === first.at[0]))
      return putAll(
        first.at[0],
        routed.map((r) => ({ key: r.at[1], data: r.data })),
      )
    await Promise.all(routed.map((r) => r.at[0].put(r.at[1], r.data)))
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const [s, k] = await this.#route(key)
    return s.head(k)
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const [s, k] = await this.#route(prefix, true)
    if (s === this.#warehouse) {
      yield* s.list(k)
      return
    }
    for await (const info of s.list(k)) yield { ...info, key: s.uriOf(info.key) }
  }

  async delete(key: string): Promise<void> {
    const [s, k] = await this.#route(key)
    return s.delete(k)
  }

  uriOf(key: string): string {
    return ABSOLUTE.test(key) ? key : this.#warehouse.uriOf(key)
  }

  keyOf(uri: string): string | undefined {
    if (!ABSOLUTE.test(uri)) return this.#warehouse.keyOf(uri)
    return this.#warehouse.keyOf(uri) ?? uri
  }

  async close(): Promise<void> {
    const others = await Promise.allSettled(this.#others.values())
    await Promise.allSettled([
      this.#warehouse.close(),
      ...others.map((o) => (o.status === 'fulfilled' ? o.value.close() : undefined)),
    ])
  }
}
