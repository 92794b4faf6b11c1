import { compareIcebergValues, type IcebergValue } from './iceberg-value.js'
import type { ResolvedEntry } from './manifest.js'
import { decodeSingleValue } from './single-value.js'

/**
 * One column's statistics across the entries of a manifest, decoded once: per entry (by index) the lower and upper
 * bound (undefined when absent), and whether the entry's values are all null; across the live data files, the
 * smallest lower bound and largest upper bound (undefined when some live data file that is not all-null lacks one).
 */
export interface ColumnStats {
  readonly lower: readonly (IcebergValue | undefined)[]
  readonly upper: readonly (IcebergValue | undefined)[]
  readonly allNull: readonly boolean[]
  readonly minLower: IcebergValue | undefined
  readonly maxUpper: IcebergValue | undefined
}

/**
 * The resolved entries of one manifest with lazily decoded, memoised column statistics, so that a scan filter on
 * column bounds can rule out a whole manifest (or test its files) without decoding a bound per file per plan. Cached
 * with the manifest (both are immutable).
 */
export class ManifestView {
  readonly entries: readonly ResolvedEntry[]
  /** Live (not deleted) data files. */
  readonly liveDataFiles: number
  /** True when some live entry is a delete file. */
  readonly hasDeletes: boolean
  readonly #stats = new Map<string, ColumnStats>()

  constructor(entries: readonly ResolvedEntry[]) {
    this.entries = entries
    let data = 0
    let deletes = false
    for (const e of entries) {
      if (e.status === 2) continue
      if (e.dataFile.content === 0) data++
      else deletes = true
    }
    this.liveDataFiles = data
    this.hasDeletes = deletes
  }

  /** The decoded statistics of column `id` read as `type` (a primitive Iceberg type). */
  columnStats(id: number, type: string): ColumnStats {
    const key = `${id}|${type}`
    let s = this.#stats.get(key)
    if (!s) {
      s = this.#decode(id, type)
      this.#stats.set(key, s)
    }
    return s
  }

  #decode(id: number, type: string): ColumnStats {
    const n = this.entries.length
    const lower = new Array<IcebergValue | undefined>(n)
    const upper = new Array<IcebergValue | undefined>(n)
    const allNull = new Array<boolean>(n)
    let minLower: IcebergValue | undefined
    let maxUpper: IcebergValue | undefined
    let lowerKnown = true
    let upperKnown = true
    for (let i = 0; i < n; i++) {
      const e = this.entries[i] as ResolvedEntry
      const f = e.dataFile
      const nulls = f.nullValueCounts?.get(id)
      const values = f.valueCounts?.get(id)
      const none = nulls !== undefined && values !== undefined && values > 0 && nulls === values
      allNull[i] = none
      const loB = f.lowerBounds?.get(id)
      const hiB = f.upperBounds?.get(id)
      const lo = loB === undefined ? undefined : (decodeSingleValue(type, loB) ?? undefined)
      const hi = hiB === undefined ? undefined : (decodeSingleValue(type, hiB) ?? undefined)
      lower[i] = lo
      upper[i] = hi
      if (e.status === 2 || f.content !== 0 || none) continue
      if (lo === undefined) lowerKnown = false
      else if (minLower === undefined || compareIcebergValues(lo, minLower) < 0) minLower = lo
      if (hi === undefined) upperKnown = false
      else if (maxUpper === undefined || compareIcebergValues(hi, maxUpper) > 0) maxUpper = hi
    }
    return {
      lower,
      upper,
      allNull,
      minLower: lowerKnown ? minLower : undefined,
      maxUpper: upperKnown ? maxUpper : undefined,
    }
  }
}
