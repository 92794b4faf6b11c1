import type { ObjectStore } from './object-store.js'

/**
 * Stores `data` under a fresh, unique `key` that nothing reads or references yet (false, storing nothing, when an
 * object has it): through the store's own `putFresh` when it has one (the local store writes the file in place,
 * with fewer file-system calls than an atomic `putIfAbsent`), else `putIfAbsent`. Durable when it returns, so the
 * caller may then publish the key (point the catalog at it).
 */
export async function putFresh(store: ObjectStore, key: string, data: Uint8Array): Promise<boolean> {
  if (store.putFresh) return store.putFresh(key, data)
  return store.putIfAbsent(key, data)
}
