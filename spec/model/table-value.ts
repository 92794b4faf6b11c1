import type { TableValue } from './types.js'

/**
 * A short, stable 64-bit hash of a string (16 hex digits; two multiplicative 32-bit lanes, mixed at the end).
 * Content addresses of commits, files and overwrite generations. Not cryptographic: the model needs only that
 * different contents get different ids among the few million an exploration makes.
 *
 * @example
 * ```ts
 * shortHash('hello').length // 16
 * ```
 */
export function shortHash(text: string): string {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507)
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507)
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return (h2 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0')
}

/**
 * The canonical text of a table value (equal values, equal texts).
 *
 * @example
 * ```ts
 * tableKey({ gen: 'g', files: ['a'] }) // 'g:a'
 * ```
 */
export function tableKey(value: TableValue | undefined): string {
  return value === undefined ? '-' : `${value.gen}:${value.files.join(',')}`
}

/**
 * True when two table values are the same state of the table.
 *
 * @example
 * ```ts
 * sameTable({ gen: 'g', files: [] }, { gen: 'g', files: [] }) // true
 * ```
 */
export function sameTable(a: TableValue | undefined, b: TableValue | undefined): boolean {
  return tableKey(a) === tableKey(b)
}

/**
 * The value after appending one data file.
 *
 * @example
 * ```ts
 * appendFile({ gen: 'g', files: ['b'] }, 'a') // { gen: 'g', files: ['a', 'b'] }
 * ```
 */
export function appendFile(value: TableValue, file: string): TableValue {
  return { gen: value.gen, files: [...value.files, file].sort() }
}

/**
 * The value after an overwrite: a new generation holding one new file.
 *
 * @example
 * ```ts
 * overwriteTable('g1') // { gen: 'g1', files: ['g1'] }
 * ```
 */
export function overwriteTable(gen: string): TableValue {
  return { gen, files: [gen] }
}

/**
 * True when `side` only appended data files to `base`: same generation, and every file of the base still there.
 *
 * @example
 * ```ts
 * onlyAppended({ gen: 'g', files: ['a'] }, { gen: 'g', files: ['a', 'b'] }) // true
 * ```
 */
export function onlyAppended(base: TableValue | undefined, side: TableValue | undefined): boolean {
  if (base === undefined || side === undefined || base.gen !== side.gen) return false
  const files = new Set(side.files)
  return base.files.every((f) => files.has(f))
}

/**
 * The files of `side` that are not in `base`.
 *
 * @example
 * ```ts
 * addedFiles({ gen: 'g', files: ['a'] }, { gen: 'g', files: ['a', 'b'] }) // ['b']
 * ```
 */
export function addedFiles(base: TableValue | undefined, side: TableValue | undefined): readonly string[] {
  const before = new Set(base?.files ?? [])
  return (side?.files ?? []).filter((f) => !before.has(f))
}

/**
 * Combines two append-only sides of a table: the same generation, the union of their files, each file once.
 *
 * @example
 * ```ts
 * combineAppends({ gen: 'g', files: ['a', 'b'] }, { gen: 'g', files: ['a', 'c'] }) // { gen: 'g', files: ['a', 'b', 'c'] }
 * ```
 */
export function combineAppends(ours: TableValue, theirs: TableValue): TableValue {
  return { gen: ours.gen, files: [...new Set([...ours.files, ...theirs.files])].sort() }
}
