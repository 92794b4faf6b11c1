import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LocalObjectStore } from '../../src/storage/local.js'
import { collect, INVALID_KEYS, tarnErrorOf } from './object-store.contract.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

/** Every file under `dir`, recursively, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
}

describe('LocalObjectStore', () => {
  let base: string
  let rootDir: string
  let store: LocalObjectStore

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'tarn-local-store-'))
    rootDir = join(base, 'lake', 'warehouse')
    store = await LocalObjectStore.create(rootDir)
  })

  afterEach(async () => {
    await store.close()
    await rm(base, { recursive: true, force: true })
  })

  describe('create', () => {
    it('creates the root directory, including missing parents', async () => {
      expect((await stat(rootDir)).isDirectory()).toBe(true)
      expect(store.rootDir).toBe(rootDir)
      expect(store.root).toBe(pathToFileURL(rootDir).href)
    })

    it('resolves a relative root against the working directory', async () => {
      const s = await LocalObjectStore.create(relative(process.cwd(), join(base, 'rel')))
      expect(s.rootDir).toBe(join(base, 'rel'))
      expect((await stat(s.rootDir)).isDirectory()).toBe(true)
    })

    it('opens an existing directory and sees the objects already in it', async () => {
      await store.put('kept/file', enc('still here'))
      const again = await LocalObjectStore.create(rootDir)
      expect(dec(await again.get('kept/file'))).toBe('still here')
    })

    it('rejects an empty root with INVALID_ARGUMENT', async () => {
      expect((await tarnErrorOf(() => LocalObjectStore.create(''))).code).toBe('INVALID_ARGUMENT')
    })

    it('fails with STORAGE_ERROR when the root cannot be created', async () => {
      await writeFile(join(base, 'a-file'), 'x')
      const err = await tarnErrorOf(() => LocalObjectStore.create(join(base, 'a-file', 'sub')))
      expect(err.code).toBe('STORAGE_ERROR')
      expect(err.cause).toBeDefined()
    })
  })

  describe('layout on disk', () => {
    it('stores each object as a file at the path of its key', async () => {
      await store.put('tables/orders/data/part-0.parquet', enc('parquet bytes'))
      expect(await readFile(join(rootDir, 'tables', 'orders', 'data', 'part-0.parquet'), 'utf8')).toBe(
        'parquet bytes',
      )
    })

    it('leaves no temp files behind after put and putIfAbsent', async () => {
      await store.put('a/b', enc('1'))
      await store.put('a/b', enc('2'))
      await store.putIfAbsent('a/c', enc('3'))
      await store.putIfAbsent('a/c', enc('4'))
      expect((await filesUnder(rootDir)).sort()).toEqual(['a/b', 'a/c'])
    })

    it('does not list temp files of writes in progress', async () => {
      await store.put('d/real', enc('1'))
      await writeFile(join(rootDir, 'd', '.tarn-tmp-0123456789abcdef'), 'partial')
      expect((await collect(store.list(''))).map((i) => i.key)).toEqual(['d/real'])
    })

    it('removes directories left empty by a delete, but never the root', async () => {
      await store.put('x/y/z/only', enc('1'))
      await store.put('x/keep', enc('2'))
      await store.delete('x/y/z/only')
      expect(await readdir(join(rootDir, 'x'))).toEqual(['keep'])
      await store.delete('x/keep')
      expect(await readdir(rootDir)).toEqual([])
      expect((await stat(rootDir)).isDirectory()).toBe(true)
    })

    it('reports STORAGE_ERROR when a key needs a directory where an object is', async () => {
      await store.put('file', enc('1'))
      const err = await tarnErrorOf(() => store.put('file/child', enc('2')))
      expect(err.code).toBe('STORAGE_ERROR')
      expect(err.context.key).toBe('file/child')
      expect(err.cause).toBeDefined()
    })
  })

  describe('ranged reads', () => {
    it('reads a small range of a large file correctly', async () => {
      const big = new Uint8Array(4 * 1024 * 1024)
      for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) % 256
      await store.put('big.bin', big)
      const part = await store.get('big.bin', { range: { offset: 4096 * 1000, length: 4097 } })
      expect(part.length).toBe(4097)
      expect(part[0]).toBe(1000 % 256)
      expect(part[4096]).toBe(1001 % 256)
    })
  })

  describe('concurrency and atomicity', () => {
    it('lets exactly one of many concurrent putIfAbsent calls of the same key win', async () => {
      for (let round = 0; round < 5; round++) {
        const key = `race/${round}/winner.json`
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) => store.putIfAbsent(key, enc(`writer-${i}`))),
        )
        const winners = results.flatMap((won, i) => (won ? [i] : []))
        expect(winners).toHaveLength(1)
        expect(dec(await store.get(key))).toBe(`writer-${winners[0]}`)
      }
      expect((await filesUnder(rootDir)).every((f) => !f.includes('.tarn-tmp-'))).toBe(true)
    })

    it('lets exactly one of two stores on the same directory win a putIfAbsent race', async () => {
      const other = await LocalObjectStore.create(rootDir)
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? store : other).putIfAbsent('shared', enc(String(i)))),
      )
      expect(results.filter(Boolean)).toHaveLength(1)
    })

    it('never shows a reader a partial object while it is overwritten many times', async () => {
      const size = 256 * 1024
      const version = (v: number): Uint8Array => new Uint8Array(size).fill(v)
      await store.put('hot/object', version(0))
      let writing = true
      const writer = (async () => {
        try {
          for (let v = 1; v <= 60; v++) await store.put('hot/object', version(v))
        } finally {
          writing = false
        }
      })()
      const seen = new Set<number>()
      let reads = 0
      while (writing || reads < 10) {
        const bytes = await store.get('hot/object')
        reads++
        expect(bytes.length).toBe(size)
        const first = bytes[0] ?? -1
        expect(bytes.every((b) => b === first)).toBe(true)
        seen.add(first)
        const tail = await store.get('hot/object', { range: { offset: size - 8 } })
        expect(tail.length).toBe(8)
      }
      await writer
      expect((await store.get('hot/object'))[0]).toBe(60)
      expect(seen.size).toBeGreaterThan(0)
    })

    it('keeps puts and deletes of sibling keys in the same directory consistent', async () => {
      await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          await store.put(`dir/sub/k${i}`, enc(String(i)))
          if (i % 2 === 0) await store.delete(`dir/sub/k${i}`)
        }),
      )
      const keys = (await collect(store.list('dir/'))).map((i) => i.key)
      expect(keys).toEqual(
        Array.from({ length: 15 }, (_, j) => `dir/sub/k${2 * j + 1}`).sort((a, b) => (a < b ? -1 : 1)),
      )
    })
  })

  describe('putFileIfAbsent', () => {
    it('stores a local file without copying it, keeps it when the caller deletes its own name, and never replaces an object', async () => {
      const source = join(base, 'out.parquet')
      await writeFile(source, 'first')
      expect(await store.putFileIfAbsent('t/data/a.parquet', source)).toBe(true)
      const stored = join(rootDir, 't', 'data', 'a.parquet')
      expect((await stat(stored)).ino).toBe((await stat(source)).ino)
      await rm(source)
      expect(dec(await store.get('t/data/a.parquet'))).toBe('first')
      const other = join(base, 'other.parquet')
      await writeFile(other, 'second')
      expect(await store.putFileIfAbsent('t/data/a.parquet', other)).toBe(false)
      expect(dec(await store.get('t/data/a.parquet'))).toBe('first')
      expect(await filesUnder(rootDir)).toEqual([join('t', 'data', 'a.parquet')])
    })

    it('fails with STORAGE_ERROR and stores nothing when the file does not exist', async () => {
      const err = await tarnErrorOf(() => store.putFileIfAbsent('t/x.parquet', join(base, 'missing.parquet')))
      expect(err.code).toBe('STORAGE_ERROR')
      expect(await store.head('t/x.parquet')).toBeUndefined()
    })
  })

  describe('putAllIfAbsent', () => {
    it('stores every new object across directories, keeps the ones that exist, and leaves no temp file', async () => {
      await store.put('t/metadata/old.json', enc('old'))
      const stored = await store.putAllIfAbsent([
        { key: 't/metadata/a.avro', data: enc('a') },
        { key: 't/metadata/old.json', data: enc('replaced?') },
        { key: 't/metadata/b.json', data: enc('b') },
        { key: 't/other/c.avro', data: enc('c') },
      ])
      expect(stored).toEqual([true, false, true, true])
      expect(dec(await store.get('t/metadata/old.json'))).toBe('old')
      expect(dec(await store.get('t/metadata/a.avro'))).toBe('a')
      expect(dec(await store.get('t/other/c.avro'))).toBe('c')
      expect((await filesUnder(rootDir)).sort()).toEqual(
        [
          join('t', 'metadata', 'a.avro'),
          join('t', 'metadata', 'b.json'),
          join('t', 'metadata', 'old.json'),
          join('t', 'other', 'c.avro'),
        ].sort(),
      )
    })

    it('putAll replaces existing objects and writes new ones in several directories, leaving no temp file', async () => {
      await store.put('jobs/j.json', enc('running'))
      await store.putAll([
        { key: 'jobs/j.json', data: enc('succeeded') },
        { key: 'jobs/j.log', data: enc('log') },
        { key: 'other/x', data: enc('x') },
      ])
      expect(dec(await store.get('jobs/j.json'))).toBe('succeeded')
      expect(dec(await store.get('jobs/j.log'))).toBe('log')
      expect((await filesUnder(rootDir)).sort()).toEqual(
        [join('jobs', 'j.json'), join('jobs', 'j.log'), join('other', 'x')].sort(),
      )
    })

    it('rejects an invalid key with INVALID_ARGUMENT', async () => {
      const err = await tarnErrorOf(() => store.putAllIfAbsent([{ key: '../escape', data: enc('x') }]))
      expect(err.code).toBe('INVALID_ARGUMENT')
    })
  })

  describe('putFresh', () => {
    it('writes a new object in place, in a new directory too, and never replaces one', async () => {
      expect(await store.putFresh('t/metadata/00001-a.metadata.json', enc('{"v":1}'))).toBe(true)
      expect(await store.putFresh('t/metadata/00001-a.metadata.json', enc('{"v":2} and longer'))).toBe(false)
      expect(dec(await store.get('t/metadata/00001-a.metadata.json'))).toBe('{"v":1}')
      expect(await store.putFresh('t/metadata/empty', new Uint8Array(0))).toBe(true)
      expect((await store.get('t/metadata/empty')).length).toBe(0)
      // no temp file was made, and none is left
      expect((await filesUnder(rootDir)).sort()).toEqual([
        join('t', 'metadata', '00001-a.metadata.json'),
        join('t', 'metadata', 'empty'),
      ])
    })

    it('lets exactly one of many concurrent writers of the same key win', async () => {
      const wins = await Promise.all(
        Array.from({ length: 16 }, (_, i) => store.putFresh('race/m.json', enc(`writer ${i}`))),
      )
      expect(wins.filter((w) => w)).toHaveLength(1)
      expect(dec(await store.get('race/m.json'))).toBe(`writer ${wins.indexOf(true)}`)
    })

    it('finishes every one of many writes to one directory, which share its fsyncs, in waves', async () => {
      for (let wave = 0; wave < 3; wave++) {
        const keys = Array.from({ length: 40 }, (_, i) => `t/metadata/${wave}-${i}.json`)
        const written = await Promise.all(
          keys.map(async (k, i) => {
            // some arrive while a sync of the directory is already running
            if (i % 3 === 0) await new Promise((r) => setImmediate(r))
            return store.putFresh(k, enc(k))
          }),
        )
        expect(written.every((w) => w)).toBe(true)
        for (const k of keys) expect(dec(await store.get(k))).toBe(k)
      }
    })

    it('fails with STORAGE_ERROR where a key needs a directory an object occupies', async () => {
      await store.put('occupied', enc('x'))
      const err = await tarnErrorOf(() => store.putFresh('occupied/m.json', enc('y')))
      expect(err.code).toBe('STORAGE_ERROR')
    })
  })

  describe('containment', () => {
    it('refuses keys with .. segments and writes nothing outside the root', async () => {
      for (const key of ['../escape', 'a/../../escape', '..', 'tables/../../../escape']) {
        expect((await tarnErrorOf(() => store.put(key, enc('x')))).code).toBe('INVALID_ARGUMENT')
        expect((await tarnErrorOf(() => store.putIfAbsent(key, enc('x')))).code).toBe('INVALID_ARGUMENT')
        expect((await tarnErrorOf(() => store.get(key))).code).toBe('INVALID_ARGUMENT')
        expect((await tarnErrorOf(() => store.delete(key))).code).toBe('INVALID_ARGUMENT')
      }
      expect((await filesUnder(base)).filter((f) => f.includes('escape'))).toEqual([])
    })

    it('cannot read or delete a file outside the root', async () => {
      const secret = join(base, 'lake', 'secret.txt')
      await writeFile(secret, 'secret')
      expect((await tarnErrorOf(() => store.get('../secret.txt'))).code).toBe('INVALID_ARGUMENT')
      expect((await tarnErrorOf(() => store.delete('../secret.txt'))).code).toBe('INVALID_ARGUMENT')
      expect(await readFile(secret, 'utf8')).toBe('secret')
    })

    it('rejects every invalid key listed by the contract', async () => {
      for (const key of INVALID_KEYS) {
        const err = await tarnErrorOf(() => store.put(key, enc('x')))
        expect(err.code).toBe('INVALID_ARGUMENT')
        expect(err.context.key).toBe(key)
      }
    })

    it('rejects keys that use the reserved temp-file marker', async () => {
      expect((await tarnErrorOf(() => store.put('a/.tarn-tmp-x', enc('x')))).code).toBe('INVALID_ARGUMENT')
    })
  })

  describe('uriOf and keyOf', () => {
    it('returns file:// URIs that point at the object file', async () => {
      await store.put('p/q r#.txt', enc('x'))
      const uri = store.uriOf('p/q r#.txt')
      expect(uri.startsWith('file:///')).toBe(true)
      expect(await readFile(fileURLToPath(uri), 'utf8')).toBe('x')
    })

    it('accepts plain absolute paths and single-slash file URIs in keyOf', () => {
      expect(store.keyOf(join(rootDir, 'a', 'b'))).toBe('a/b')
      expect(store.keyOf(`file:${rootDir}/a/b`)).toBe('a/b')
    })

    it('returns undefined from keyOf for paths outside the root', () => {
      expect(store.keyOf(dirname(rootDir))).toBeUndefined()
      expect(store.keyOf(join(rootDir, '..', 'other', 'x'))).toBeUndefined()
      expect(store.keyOf(`${rootDir}-other/x`)).toBeUndefined()
      expect(store.keyOf('file://remote-host/x')).toBeUndefined()
    })
  })
})
