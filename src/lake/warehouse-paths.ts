import type { ObjectStore } from '../storage/object-store.js'
import { TarnError } from '../util/errors.js'
import type { Random } from '../util/random.js'

/** Where tables an Iceberg client creates live: new directories of the warehouse, and nowhere outside it. */
export class WarehousePaths {
  readonly #store: ObjectStore
  readonly #random: Random

  constructor(store: ObjectStore, random: Random) {
    this.#store = store
    this.#random = random
  }

  /** A new directory for a table: `<warehouse>/<namespace>/<name>-<random hex>`. */
  defaultLocation(namespace: string, name: string): string {
    const suffix = Buffer.from(this.#random.bytes(4)).toString('hex')
    return this.#store.uriOf(`${namespace}/${name}-${suffix}`)
  }

  /** Refuses a table location outside the warehouse: clients must not make the server write elsewhere. */
  location(location: string): string {
    const root = this.#store.root.replace(/\/+$/, '')
    const norm = location.replace(/^s3[an]:\/\//i, 's3://').replace(/\/+$/, '')
    if (!norm.startsWith(`${root}/`)) {
      throw new TarnError(
        'INVALID_ARGUMENT',
        `table location ${location} lies outside the warehouse ${root}`,
        {
          location,
          warehouse: root,
        },
      )
    }
    return norm
  }

  /** The store key of a table location inside the warehouse. */
  rootKey(location: string): string {
    const key = this.#store.keyOf(this.location(location))
    if (key === undefined)
      throw new TarnError('INVALID_ARGUMENT', `cannot write under ${location}`, { location })
    return key
  }
}
