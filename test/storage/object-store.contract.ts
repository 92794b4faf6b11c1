import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ObjectInfo, ObjectStore } from '../../src/storage/object-store.js'
import { TarnError } from '../../src/util/errors.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

/** Every byte value, twice, so that ranged reads have something to check against. */
const BINARY = Uint8Array.from({ length: 512 }, (_, i) => (i * 7 + 3) % 256)

/**
 * Collects an async iterable into an array.
 *
 * @example
 * ```ts
 * const infos = await collect(store.list('tables/'))
 * ```
 */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

/**
 * Runs `fn` and returns the `TarnError` it throws (failing the test when it throws nothing or something else).
 *
 * @example
 * ```ts
 * expect((await tarnErrorOf(() => store.get('missing'))).code).toBe('OBJECT_NOT_FOUND')
 * ```
 */
export async function tarnErrorOf(fn: () => unknown): Promise<TarnError> {
  try {
    await fn()
  } catch (e) {
    expect(e).toBeInstanceOf(TarnError)
    return e as TarnError
  }
  throw new Error('expected a TarnError, but nothing was thrown')
}

const keysOf = (infos: ObjectInfo[]): string[] => infos.map((i) => i.key)

/**
 * Keys no store may accept: each could escape the root or is ambiguous.
 *
 * @example
 * ```ts
 * for (const key of INVALID_KEYS) await expect(store.put(key, bytes)).rejects.toThrow()
 * ```
 */
export const INVALID_KEYS = [
  '',
  '/abs',
  '../x',
  'a/../b',
  'a/..',
  '..',
  './a',
  'a/./b',
  'a//b',
  'a/',
  'a\\b',
  'a\0b',
]

/**
 * Defines the behaviour every {@link ObjectStore} must have, as a Vitest suite named `name`.
 *
 * @param name the suite's name, e.g. `'LocalObjectStore'`
 * @param factory returns a fresh, empty store for each test (the suite closes it after the test). A backend that
 *   pages its listings should use a small page size (2 or 3) so that the listing tests cross page boundaries.
 * @example
 * ```ts
 * describeObjectStoreContract('LocalObjectStore', async () => LocalObjectStore.create(await mkdtemp(join(tmpdir(), 't-'))))
 * ```
 */
export function describeObjectStoreContract(
  name: string,
  factory: () => Promise<ObjectStore>,
  options: { skip?: boolean } = {},
): void {
  describe.skipIf(options.skip === true)(`${name} (ObjectStore contract)`, () => {
    let store: ObjectStore

    beforeEach(async () => {
      store = await factory()
    })

    afterEach(async () => {
      await store.close()
    })

    describe('put and get', () => {
      it('round-trips binary data through put and get', async () => {
        await store.put('bin/data.bin', BINARY)
        const back = await store.get('bin/data.bin')
        expect(back).toBeInstanceOf(Uint8Array)
        expect(Buffer.from(back).equals(Buffer.from(BINARY))).toBe(true)
      })

      it('round-trips an empty object', async () => {
        await store.put('empty', new Uint8Array(0))
        expect((await store.get('empty')).length).toBe(0)
        expect((await store.head('empty'))?.size).toBe(0)
      })

      it('replaces an existing object on put', async () => {
        await store.put('k', enc('first version, longer'))
        await store.put('k', enc('second'))
        expect(dec(await store.get('k'))).toBe('second')
      })

      it('accepts keys with spaces, unicode and URI-special characters', async () => {
        const key = 'dir with space/ünïcødé #1 ?x=%20&y.txt'
        await store.put(key, enc('odd'))
        expect(dec(await store.get(key))).toBe('odd')
        expect(keysOf(await collect(store.list('dir with space/')))).toEqual([key])
      })

      it('returns OBJECT_NOT_FOUND for a missing key', async () => {
        const err = await tarnErrorOf(() => store.get('missing/key.bin'))
        expect(err.code).toBe('OBJECT_NOT_FOUND')
        expect(err.context.key).toBe('missing/key.bin')
        expect(err.context.uri).toBe(store.uriOf('missing/key.bin'))
      })

      it('returns OBJECT_NOT_FOUND for a ranged get of a missing key', async () => {
        const err = await tarnErrorOf(() => store.get('missing', { range: { offset: 2, length: 3 } }))
        expect(err.code).toBe('OBJECT_NOT_FOUND')
        const empty = await tarnErrorOf(() => store.get('missing', { range: { offset: 0, length: 0 } }))
        expect(empty.code).toBe('OBJECT_NOT_FOUND')
      })

      it('returns OBJECT_NOT_FOUND for a key that is only a prefix of other keys', async () => {
        await store.put('folder/child', enc('x'))
        expect((await tarnErrorOf(() => store.get('folder'))).code).toBe('OBJECT_NOT_FOUND')
        expect(await store.head('folder')).toBeUndefined()
      })
    })

    describe('ranged get', () => {
      beforeEach(async () => {
        await store.put('r.bin', BINARY)
      })

      it('reads a range in the middle of an object', async () => {
        const part = await store.get('r.bin', { range: { offset: 100, length: 50 } })
        expect(Array.from(part)).toEqual(Array.from(BINARY.subarray(100, 150)))
      })

      it('reads from an offset to the end when the length is omitted', async () => {
        const tail = await store.get('r.bin', { range: { offset: 500 } })
        expect(Array.from(tail)).toEqual(Array.from(BINARY.subarray(500)))
      })

      it('reads the first bytes with offset 0', async () => {
        const head = await store.get('r.bin', { range: { offset: 0, length: 4 } })
        expect(Array.from(head)).toEqual(Array.from(BINARY.subarray(0, 4)))
      })

      it('reads the last byte exactly', async () => {
        const last = await store.get('r.bin', { range: { offset: 511, length: 1 } })
        expect(Array.from(last)).toEqual([BINARY[511]])
      })

      it('clamps a range that runs past the end of the object', async () => {
        const part = await store.get('r.bin', { range: { offset: 508, length: 100 } })
        expect(Array.from(part)).toEqual(Array.from(BINARY.subarray(508)))
      })

      it('returns no bytes for a range that starts at or past the end', async () => {
        expect((await store.get('r.bin', { range: { offset: 512 } })).length).toBe(0)
        expect((await store.get('r.bin', { range: { offset: 9999, length: 10 } })).length).toBe(0)
        expect((await store.get('r.bin', { range: { offset: 10, length: 0 } })).length).toBe(0)
      })

      it('rejects a negative or fractional range with INVALID_ARGUMENT', async () => {
        for (const range of [{ offset: -1 }, { offset: 1.5 }, { offset: 0, length: -2 }]) {
          expect((await tarnErrorOf(() => store.get('r.bin', { range }))).code).toBe('INVALID_ARGUMENT')
        }
      })
    })

    describe('putIfAbsent', () => {
      it('writes a new object and returns true, then returns false and leaves the content unchanged', async () => {
        expect(await store.putIfAbsent('once/x.json', enc('winner'))).toBe(true)
        expect(await store.putIfAbsent('once/x.json', enc('loser, and longer'))).toBe(false)
        expect(dec(await store.get('once/x.json'))).toBe('winner')
        expect((await store.head('once/x.json'))?.size).toBe(6)
      })

      it('returns false for a key written by put', async () => {
        await store.put('p', enc('put'))
        expect(await store.putIfAbsent('p', enc('other'))).toBe(false)
        expect(dec(await store.get('p'))).toBe('put')
      })

      it('writes again after the object was deleted', async () => {
        expect(await store.putIfAbsent('again', enc('1'))).toBe(true)
        await store.delete('again')
        expect(await store.putIfAbsent('again', enc('2'))).toBe(true)
        expect(dec(await store.get('again'))).toBe('2')
      })
    })

    describe('head', () => {
      it('returns the key, size and modification time of an object', async () => {
        const before = Date.now()
        await store.put('h/obj', BINARY)
        const info = await store.head('h/obj')
        expect(info?.key).toBe('h/obj')
        expect(info?.size).toBe(512)
        // Some servers keep whole seconds only.
        expect(info?.lastModified).toBeGreaterThan(before - 5_000)
        expect(info?.lastModified).toBeLessThan(Date.now() + 5_000)
      })

      it('returns undefined for a missing key', async () => {
        expect(await store.head('nope')).toBeUndefined()
      })
    })

    describe('list', () => {
      const KEYS = [
        'b',
        'a/b/c',
        'a-b',
        'a/a',
        'a/b/a',
        'data/file-2',
        'data/file-10',
        'data/fig',
        'z/deep/er/key',
      ]
      const SORTED = [...KEYS].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))

      beforeEach(async () => {
        for (const [i, key] of KEYS.entries()) await store.put(key, new Uint8Array(i + 1))
      })

      it('lists every object in lexicographic key order with an empty prefix', async () => {
        const infos = await collect(store.list(''))
        expect(keysOf(infos)).toEqual(SORTED)
        // 'a-b' sorts before 'a/...' because '-' < '/'.
        expect(SORTED.indexOf('a-b')).toBeLessThan(SORTED.indexOf('a/a'))
      })

      it('reports the size and modification time of each listed object', async () => {
        const infos = await collect(store.list(''))
        for (const info of infos) {
          expect(info.size).toBe(KEYS.indexOf(info.key) + 1)
          expect(info.lastModified).toBeGreaterThan(0)
        }
      })

      it('lists only objects whose key starts with the prefix, including nested keys', async () => {
        expect(keysOf(await collect(store.list('a/')))).toEqual(['a/a', 'a/b/a', 'a/b/c'])
        expect(keysOf(await collect(store.list('a/b/')))).toEqual(['a/b/a', 'a/b/c'])
        expect(keysOf(await collect(store.list('z/')))).toEqual(['z/deep/er/key'])
      })

      it('matches a prefix that ends in the middle of a path segment', async () => {
        expect(keysOf(await collect(store.list('data/fi')))).toEqual([
          'data/fig',
          'data/file-10',
          'data/file-2',
        ])
        expect(keysOf(await collect(store.list('data/file-')))).toEqual(['data/file-10', 'data/file-2'])
        expect(keysOf(await collect(store.list('a')))).toEqual(['a-b', 'a/a', 'a/b/a', 'a/b/c'])
        expect(keysOf(await collect(store.list('a/b')))).toEqual(['a/b/a', 'a/b/c'])
      })

      it('lists an object whose key equals the prefix', async () => {
        expect(keysOf(await collect(store.list('b')))).toEqual(['b'])
        expect(keysOf(await collect(store.list('a/b/c')))).toEqual(['a/b/c'])
      })

      it('lists nothing for a prefix that matches no key', async () => {
        expect(await collect(store.list('nothing/'))).toEqual([])
        expect(await collect(store.list('data/x'))).toEqual([])
      })

      it('lists more objects than fit in one page, in order', async () => {
        const many = Array.from({ length: 23 }, (_, i) => `many/${String(i).padStart(3, '0')}`)
        for (const key of [...many].reverse()) await store.put(key, enc(key))
        expect(keysOf(await collect(store.list('many/')))).toEqual(many)
      })

      it('rejects an invalid prefix with INVALID_ARGUMENT', async () => {
        for (const prefix of ['/abs', '../', 'a/../', 'a\\b', 'a//']) {
          expect((await tarnErrorOf(() => collect(store.list(prefix)))).code).toBe('INVALID_ARGUMENT')
        }
      })
    })

    describe('delete', () => {
      it('deletes an object so that get, head and list no longer see it', async () => {
        await store.put('d/one', enc('1'))
        await store.put('d/two', enc('2'))
        await store.delete('d/one')
        expect(await store.head('d/one')).toBeUndefined()
        expect((await tarnErrorOf(() => store.get('d/one'))).code).toBe('OBJECT_NOT_FOUND')
        expect(keysOf(await collect(store.list('d/')))).toEqual(['d/two'])
        expect(dec(await store.get('d/two'))).toBe('2')
      })

      it('is idempotent: deleting a missing object is not an error', async () => {
        await store.put('gone', enc('x'))
        await store.delete('gone')
        await store.delete('gone')
        await store.delete('never/existed/at/all')
        expect(await store.head('gone')).toBeUndefined()
      })

      it('deletes the last object under a prefix and leaves the store usable', async () => {
        await store.put('only/child/here', enc('x'))
        await store.delete('only/child/here')
        expect(await collect(store.list(''))).toEqual([])
        await store.put('only/child/again', enc('y'))
        expect(dec(await store.get('only/child/again'))).toBe('y')
      })
    })

    describe('uriOf and keyOf', () => {
      it('round-trips keys through uriOf and keyOf', async () => {
        for (const key of ['a', 'a/b/c.parquet', 'dir with space/ünï #?%.txt']) {
          const uri = store.uriOf(key)
          expect(uri.startsWith(`${store.root}/`)).toBe(true)
          expect(store.keyOf(uri)).toBe(key)
        }
      })

      it('has a root without a trailing slash', () => {
        expect(store.root.endsWith('/')).toBe(false)
      })

      it('returns undefined from keyOf for URIs outside the store', () => {
        expect(store.keyOf(store.root)).toBeUndefined()
        expect(store.keyOf(`${store.root}-sibling/x`)).toBeUndefined()
        expect(store.keyOf(`${store.root}/../x`)).toBeUndefined()
        expect(store.keyOf('https://example.com/a')).toBeUndefined()
        expect(store.keyOf('relative/key')).toBeUndefined()
      })
    })

    describe('key validation', () => {
      it('rejects invalid keys with INVALID_ARGUMENT on every operation', async () => {
        for (const key of INVALID_KEYS) {
          const ops: [string, () => unknown][] = [
            ['get', () => store.get(key)],
            ['put', () => store.put(key, enc('x'))],
            ['putIfAbsent', () => store.putIfAbsent(key, enc('x'))],
            ['head', () => store.head(key)],
            ['delete', () => store.delete(key)],
            ['uriOf', () => store.uriOf(key)],
          ]
          for (const [op, fn] of ops) {
            const err = await tarnErrorOf(fn)
            expect(err.code, `${op}(${JSON.stringify(key)})`).toBe('INVALID_ARGUMENT')
          }
        }
        expect(await collect(store.list(''))).toEqual([])
      })
    })
  })
}
