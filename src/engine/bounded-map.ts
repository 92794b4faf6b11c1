/**
 * A map that holds at most `max` entries, dropping the oldest inserted one when full (for caches of immutable
 * things: parsed queries, loaded tables, scan plans, Parquet footers).
 */
export class BoundedMap<K, V> {
  readonly #max: number
  readonly #map = new Map<K, V>()

  constructor(max: number) {
    this.#max = Math.max(1, max)
  }

  get(k: K): V | undefined {
    return this.#map.get(k)
  }

  has(k: K): boolean {
    return this.#map.has(k)
  }

  set(k: K, v: V): void {
    if (!this.#map.has(k) && this.#map.size >= this.#max) {
      const oldest = this.#map.keys().next().value
      if (oldest !== undefined) this.#map.delete(oldest)
    }
    this.#map.set(k, v)
  }

  delete(k: K): void {
    this.#map.delete(k)
  }
}
