import type { ObjectStore } from './object-store.js'

/**
 * Stores each entry unless an object has its key, and answers per entry whether it was stored: through the store's
 * own `putAllIfAbsent` when it has one (the local store makes the files durable together, one directory fsync per
 * directory), else one `putIfAbsent` per entry, side by side. Every stored object is durable when it returns.
 */
export async function putAllIfAbsent(
  store: ObjectStore,
  entries: readonly { key: string; data: Uint8Array }[],
): Promise<boolean[]> {
  if (store.putAllIfAbsent) return store.putAllIfAbsent(entries)
  return Promise.all(entries.map((e) => store.putIfAbsent(e.key, e.data)))
}

/**
 * Stores each entry, replacing any object with its key: through the store's own `putAll` when it has one (the local
 * store makes the files durable together, one directory fsync per directory), else one `put` per entry, side by side.
 * Every object is durable when it returns.
 */
export async function putAll(
  store: ObjectStore,
  entries: readonly { key: string; data: Uint8Array }[],
): Promise<void> {
  if (store.putAll) return store.putAll(entries)
  await Promise.all(entries.map((e) => store.put(e.key, e.data)))
}
