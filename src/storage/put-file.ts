import { readFile } from 'node:fs/promises'
import type { ObjectStore } from './object-store.js'

/**
 * Stores a local file under `key` unless an object has that key (then returns false and stores nothing): through the
 * store's own `putFileIfAbsent` when it has one (the local store links the file into place without copying it),
 * else by reading the file and `putIfAbsent`. The file must not change afterwards.
 */
export async function putFileIfAbsent(store: ObjectStore, key: string, path: string): Promise<boolean> {
  if (store.putFileIfAbsent) return store.putFileIfAbsent(key, path)
  return store.putIfAbsent(key, new Uint8Array(await readFile(path)))
}
