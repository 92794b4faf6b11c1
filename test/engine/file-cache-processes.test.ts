import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cacheFileName, FileCache } from '../../src/engine/file-cache.js'
import { LocalObjectStore } from '../../src/storage/local.js'
import { ensureBuilt, ROOT } from '../helpers/build.js'

/** A reader in another process: acquires one file from the shared cache, says `held <path>`, and releases on `release`. */
const READER = `
const { FileCache } = await import(process.env.DIST + '/engine/file-cache.js')
const { LocalObjectStore } = await import(process.env.DIST + '/storage/local.js')
const store = await LocalObjectStore.create(process.env.WAREHOUSE)
const cache = await FileCache.open({ dir: process.env.CACHE, maxBytes: 10_000, inPlace: () => false })
const { paths, release } = await cache.acquire(store, [process.env.URI])
process.stdout.write('held ' + paths[0] + '\\n')
process.stdin.setEncoding('utf8')
for await (const line of process.stdin) {
  if (line.includes('release')) break
}
await release()
process.stdout.write('released\\n')
process.exit(0)
`

let dir: string
let store: LocalObjectStore
const uri = (name: string): string => store.uriOf(name)

function readLine(child: ChildProcess, prefix: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      const line = buffered.split('\n').find((l) => l.startsWith(prefix))
      if (line !== undefined) resolve(line)
    })
    child.once('exit', (code) => reject(new Error(`reader exited with ${code} before "${prefix}"`)))
  })
}

beforeAll(async () => {
  ensureBuilt()
  dir = mkdtempSync(join(tmpdir(), 'tarn-cache-procs-'))
  store = await LocalObjectStore.create(join(dir, 'warehouse'))
  for (const name of ['x.bin', 'y.bin', 'z.bin', 'w.bin', 'v.bin'])
    await store.put(name, new Uint8Array(100).fill(7))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the file cache shared by processes', () => {
  it('never evicts a file a reader in another process holds, and evicts it once released', async () => {
    const cacheDir = join(dir, 'cache')
    const reader = spawn(process.execPath, ['--input-type=module', '-e', READER], {
      env: {
        ...process.env,
        DIST: join(ROOT, 'dist'),
        WAREHOUSE: join(dir, 'warehouse'),
        CACHE: cacheDir,
        URI: uri('x.bin'),
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    try {
      const held = (await readLine(reader, 'held ')).slice('held '.length)
      expect(held).toBe(join(cacheDir, cacheFileName(uri('x.bin'))))
      await sleep(20)
      // This process's cache holds at most one file: x.bin (the oldest) would be the first victim.
      const cache = await FileCache.open({ dir: cacheDir, maxBytes: 150, inPlace: () => false })
      for (const name of ['y.bin', 'z.bin']) {
        const { release } = await cache.acquire(store, [uri(name)])
        await release()
        await sleep(20)
      }
      expect(cache.stats().evicted).toBeGreaterThan(0)
      expect(existsSync(held)).toBe(true)
      expect(readdirSync(cacheDir).filter((n) => n.endsWith('.evicting'))).toEqual([])

      reader.stdin?.write('release\n')
      await readLine(reader, 'released')
      const { release } = await cache.acquire(store, [uri('w.bin')])
      await release()
      expect(existsSync(held)).toBe(false)
      expect(existsSync(join(cacheDir, cacheFileName(uri('w.bin'))))).toBe(true)
    } finally {
      reader.kill()
    }
  })

  it('ignores and sweeps the leases of processes that died without releasing', async () => {
    const cacheDir = join(dir, 'cache-stale')
    const cache = await FileCache.open({ dir: cacheDir, maxBytes: 150, inPlace: () => false })
    const { release: first } = await cache.acquire(store, [uri('v.bin')])
    await first()
    const victim = cacheFileName(uri('v.bin'))
    const stale = join(`${cacheDir}.leases`, `${victim}@2147483646`)
    writeFileSync(stale, '')
    await sleep(20)
    for (const name of ['y.bin', 'z.bin']) {
      const { release } = await cache.acquire(store, [uri(name)])
      await release()
    }
    expect(existsSync(join(cacheDir, victim))).toBe(false)
    expect(existsSync(stale)).toBe(false)
  })
})
