import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { newTableMetadata } from '../../src/iceberg/commit/new-table-metadata.js'
import { MetadataCache } from '../../src/iceberg/metadata-cache.js'
import { loadTable } from '../../src/iceberg/table-loader.js'
import { serializeTableMetadata } from '../../src/iceberg/table-metadata.js'
import { writeMetadataFile } from '../../src/iceberg/writer/snapshot-producer.js'
import { Lake } from '../../src/lake/lake.js'
import { LocalObjectStore } from '../../src/storage/local.js'
import type { ByteRange, ObjectStore } from '../../src/storage/object-store.js'
import { fixedClock } from '../../src/util/clock.js'
import { seededRandom } from '../../src/util/random.js'

/** A real local store whose reads are counted (every other call goes straight to it). */
async function countingStore(dir: string): Promise<{ store: ObjectStore; reads: () => number }> {
  const inner = await LocalObjectStore.create(dir)
  let reads = 0
  const store: ObjectStore = Object.assign(Object.create(inner) as ObjectStore, {
    get: (key: string, options?: { range?: ByteRange }) => {
      reads++
      return inner.get(key, options)
    },
  })
  return { store, reads: () => reads }
}

const schema = {
  type: 'struct' as const,
  'schema-id': 0,
  fields: [{ id: 1, name: 'id', required: true, type: 'long' }],
}

describe('table metadata cache', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tarn-mdcache-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('loads the metadata a commit just wrote without reading the file back, as compact JSON equal to it', async () => {
    const { store, reads } = await countingStore(dir)
    const metadataCache = new MetadataCache()
    const deps = { clock: fixedClock(1000, 1), random: seededRandom(7), metadataCache }
    const m = newTableMetadata({ schema, location: `${store.root}/t` }, { uuid: 'u-1', now: 1000 })
    const written = await writeMetadataFile(store, 't', m, undefined, deps)
    const loaded = await loadTable(store, written.metadataLocation, { metadataCache })
    expect(reads()).toBe(0)
    // without the cache the file is read
    await loadTable(store, written.metadataLocation)
    expect(reads()).toBe(1)
    expect(loaded.metadata).toBe(m)
    // what the file holds is the compact serialisation the REST answer reuses
    const text = new TextDecoder().decode(
      await (await LocalObjectStore.create(dir)).get(store.keyOf(written.metadataLocation) as string),
    )
    expect(text).toBe(serializeTableMetadata(m, 0))
    expect(text.includes('\n')).toBe(false)
  })

  it('is each lake’s own: a lake that has not read a file reads it, even when another lake in the process has', async () => {
    const home = join(dir, 'lake')
    const a = await Lake.init({ home, author: 'a' })
    const b = await Lake.open({ home, author: 'b' })
    try {
      await a.icebergCatalog().createNamespace('main', 'ns', {})
      const created = await a.icebergCatalog().createTable('main', 'ns.t', { schema })
      if (created.metadataLocation === undefined) throw new Error('staged')
      expect(a.metadataCache.get(created.metadataLocation)).toBeDefined()
      expect(b.metadataCache.get(created.metadataLocation)).toBeUndefined()
      // the file is corrupted behind both lakes' backs: the lake that wrote it still has it, the other reads it
      writeFileSync(fileURLToPath(created.metadataLocation), '')
      const fromA = await a.icebergCatalog().loadTable('main', 'ns.t')
      expect(fromA.metadata['table-uuid']).toBe(created.metadata['table-uuid'])
      await expect(b.icebergCatalog().loadTable('main', 'ns.t')).rejects.toThrow(/corrupt/)
    } finally {
      await b.close()
      await a.close()
    }
  })

  it('keeps at most its bound of metadata text, dropping the least recently used file first', () => {
    const cache = new MetadataCache({ maxChars: 100 })
    const m = newTableMetadata({ schema, location: 'file:///w/t' }, { uuid: 'u-1', now: 1 })
    cache.set('a', m, 40)
    cache.set('b', m, 40)
    expect(cache.get('a')).toBe(m) // a is now the most recently used
    cache.set('c', m, 40)
    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('a')).toBe(m)
    expect(cache.get('c')).toBe(m)
    cache.set('huge', m, 101)
    expect(cache.get('huge')).toBeUndefined()
    expect(cache.stats()).toEqual({ files: 2, chars: 80 })
  })
})
