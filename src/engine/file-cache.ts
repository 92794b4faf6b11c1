import { createHash } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { mkdir, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ObjectStore } from '../storage/object-store.js'
import { type Clock, systemClock } from '../util/clock.js'
import { TarnError } from '../util/errors.js'

/**
 * Counters of a {@link FileCache}, for tests and `--explain`: files fetched from the warehouse, cache hits, bytes
 * fetched and evicted files. Plain data.
 */
export interface CacheStats {
  readonly fetched: number
  readonly hits: number
  readonly bytesFetched: number
  readonly evicted: number
}

/**
 * Options of {@link FileCache.open}.
 */
export interface FileCacheOptions {
  /** The directory that holds cached files (created when missing). */
  readonly dir: string
  /** Size bound: least recently used files are evicted beyond it (default 10 GiB). */
  readonly maxBytes?: number
  /** How many files are fetched at once (default 8). */
  readonly concurrency?: number
  /** Time source of the LRU order (default the system clock). */
  readonly clock?: Clock
  /** Which URIs are read where they are instead of being copied into the cache (default: every `file://` URI). */
  readonly inPlace?: (uri: string) => boolean
}

/** The suffix of the cache directory's sibling that holds lease files, one per pinned file and process: `<name>@<pid>`. */
const LEASES = '.leases'
/** The suffix of a file being evicted (moved aside before its leases are checked again). */
const EVICTING = '.evicting'

/** True when a process with this id exists (EPERM: it exists but belongs to someone else). */
function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    const { code } = e as NodeJS.ErrnoException
    return code === 'EPERM'
  }
}

/**
 * The default size bound of the file cache: 10 GiB.
 */
export const DEFAULT_CACHE_MAX_BYTES = 10 * 2 ** 30

/**
 * The cache file name of a warehouse URI: SHA-256 of the URI (data files are immutable, so a URI names one content
 * forever) plus the original extension, so DuckDB recognises the format.
 */
export function cacheFileName(uri: string): string {
  const hash = createHash('sha256').update(uri).digest('hex')
  const ext = /\.[A-Za-z0-9]{1,12}$/.exec(uri)?.[0] ?? ''
  return `${hash}${ext}`
}

/**
 * A local, content-addressed cache of immutable warehouse files with a size bound and LRU eviction. Local
 * warehouse files (`file://`) are read in place; remote ones (S3) are fetched once, in parallel, and reused across
 * queries, branches and processes (the access time is kept in the file's mtime). Files in use by a running query are
 * pinned and never evicted, by this process or any other sharing the directory: a pin writes a lease file
 * `<dir>.leases/<name>@<pid>` before the cached file is looked at, and an evictor moves a victim aside, re-reads the leases
 * and puts it back when a live process holds one (leases of dead processes are swept). Entries never need
 * invalidation: a data file never changes once written.
 */
export class FileCache {
  readonly dir: string
  readonly maxBytes: number
  readonly #concurrency: number
  readonly #clock: Clock
  readonly #inPlace: (uri: string) => boolean
  readonly #inflight = new Map<string, Promise<string>>()
  readonly #pins = new Map<string, number>()
  #stats: CacheStats = { fetched: 0, hits: 0, bytesFetched: 0, evicted: 0 }
  #tick = 0

  private constructor(
    dir: string,
    maxBytes: number,
    concurrency: number,
    clock: Clock,
    inPlace: (uri: string) => boolean,
  ) {
    this.dir = dir
    this.maxBytes = maxBytes
    this.#concurrency = concurrency
    this.#clock = clock
    this.#inPlace = inPlace
  }

  /**
   * Opens (and creates) a cache directory.
   */
  static async open(options: FileCacheOptions): Promise<FileCache> {
    await mkdir(options.dir, { recursive: true })
    await mkdir(`${options.dir}${LEASES}`, { recursive: true })
    const max = options.maxBytes ?? DEFAULT_CACHE_MAX_BYTES
    if (!(max > 0)) throw new TarnError('INVALID_ARGUMENT', 'the cache size bound must be positive', { max })
    return new FileCache(
      options.dir,
      max,
      Math.max(1, options.concurrency ?? 8),
      options.clock ?? systemClock,
      options.inPlace ?? ((uri) => uri.startsWith('file://')),
    )
  }

  /** Counters since the cache was opened. */
  stats(): CacheStats {
    return this.#stats
  }

  /**
   * The local path of one warehouse file: the file itself when it is read in place (local warehouse files), else the
   * cached copy (fetched on a miss). With `pin`, the file is pinned (see {@link pin}) before any eviction can run, and the caller must release
   * it with the function {@link acquire} returns or `unpin`.
   */
  localPath(store: ObjectStore, uri: string, pin = false): Promise<string> {
    if (this.#inPlace(uri)) return Promise.resolve(fileURLToPath(uri))
    const name = cacheFileName(uri)
    if (pin) this.#pin(name)
    const running = this.#inflight.get(name)
    if (running) return running
    const p = this.#fetch(store, uri, name).finally(() => this.#inflight.delete(name))
    this.#inflight.set(name, p)
    return p
  }

  /**
   * Local paths of many files, fetching misses in parallel (bounded by the concurrency), in input order, each pinned
   * as soon as it is requested so that fetching the later ones cannot evict the earlier ones. Call `release` when the
   * query that reads them is done: it unpins them and trims the cache to its bound.
   */
  async acquire(
    store: ObjectStore,
    uris: readonly string[],
  ): Promise<{ paths: string[]; release: () => Promise<void> }> {
    const out: string[] = new Array(uris.length)
    const pinned: string[] = []
    const release = async (): Promise<void> => {
      const names = pinned.splice(0)
      for (const n of names) this.#unpin(n)
      if (names.length > 0) await this.#evict()
    }
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < uris.length) {
        const i = next++
        const uri = uris[i] as string
        const cached = !this.#inPlace(uri)
        if (cached) pinned.push(cacheFileName(uri))
        out[i] = await this.localPath(store, uri, cached)
      }
    }
    try {
      await Promise.all(Array.from({ length: Math.min(this.#concurrency, uris.length) }, worker))
    } catch (e) {
      await release()
      throw e
    }
    return { paths: out, release }
  }

  /**
   * Pins cached files (by local path) while a query reads them: eviction skips them until the returned function is
   * called.
   */
  pin(paths: readonly string[]): () => void {
    const names = paths.filter((p) => p.startsWith(this.dir)).map((p) => p.slice(this.dir.length + 1))
    for (const n of names) this.#pin(n)
    return () => {
      for (const n of names) this.#unpin(n)
    }
  }

  /** Pins `name` in this process; the first pin writes its lease file, before anyone looks at the cached file. */
  #pin(name: string): void {
    const c = this.#pins.get(name) ?? 0
    if (c === 0) {
      mkdirSync(`${this.dir}${LEASES}`, { recursive: true })
      writeFileSync(this.#leasePath(name), '')
    }
    this.#pins.set(name, c + 1)
  }

  #unpin(name: string): void {
    const c = (this.#pins.get(name) ?? 1) - 1
    if (c <= 0) {
      this.#pins.delete(name)
      rmSync(this.#leasePath(name), { force: true })
    } else this.#pins.set(name, c)
  }

  #leasePath(name: string): string {
    return join(`${this.dir}${LEASES}`, `${name}@${process.pid}`)
  }

  /** True when a live process other than this one holds a lease on `name`; sweeps leases of dead processes. */
  async #leasedElsewhere(name: string): Promise<boolean> {
    const leases = await readdir(`${this.dir}${LEASES}`).catch(() => [] as string[])
    for (const lease of leases) {
      const at = lease.lastIndexOf('@')
      if (lease.slice(0, at) !== name) continue
      const pid = Number(lease.slice(at + 1))
      if (pid === process.pid) continue
      if (processAlive(pid)) return true
      await rm(join(`${this.dir}${LEASES}`, lease), { force: true })
    }
    return false
  }

  async #fetch(store: ObjectStore, uri: string, name: string): Promise<string> {
    const path = join(this.dir, name)
    const existing = await stat(path).catch(() => undefined)
    if (existing) {
      this.#stats = { ...this.#stats, hits: this.#stats.hits + 1 }
      await this.#touch(path)
      return path
    }
    const key = store.keyOf(uri)
    if (key === undefined) {
      throw new TarnError('OBJECT_NOT_FOUND', `File ${uri} lies outside the warehouse ${store.root}`, { uri })
    }
    const bytes = await store.get(key)
    const tmp = `${path}.${process.pid}.${this.#tick++}.tmp`
    await writeFile(tmp, bytes)
    await rename(tmp, path)
    await this.#touch(path)
    this.#stats = {
      ...this.#stats,
      fetched: this.#stats.fetched + 1,
      bytesFetched: this.#stats.bytesFetched + bytes.byteLength,
    }
    this.#pin(name)
    try {
      await this.#evict()
    } finally {
      this.#unpin(name)
    }
    return path
  }

  async #touch(path: string): Promise<void> {
    const now = this.#clock.now() / 1000
    await utimes(path, now, now).catch(() => undefined)
  }

  /** Deletes least recently used files until the cache fits its bound (pinned files stay). */
  /**
   * Deletes a cached file unless another live process leases it: the file is first moved aside (so a reader that
   * leases it from now on finds it missing and fetches it again), then the leases are read; a lease taken before the
   * move puts the file back.
   */
  async #remove(name: string): Promise<boolean> {
    if (await this.#leasedElsewhere(name)) return false
    const path = join(this.dir, name)
    const aside = `${path}.${process.pid}.${this.#tick++}${EVICTING}`
    try {
      await rename(path, aside)
    } catch {
      return false
    }
    if (await this.#leasedElsewhere(name)) {
      // A reader leased it meanwhile: put it back (unless it fetched a fresh copy, which is the same bytes).
      await rename(aside, path).catch(() => rm(aside, { force: true }))
      return false
    }
    await rm(aside, { force: true })
    return true
  }

  async #evict(): Promise<void> {
    const names = (await readdir(this.dir)).filter(
      (n) => !n.startsWith('.') && !n.endsWith('.tmp') && !n.endsWith(EVICTING),
    )
    const entries = (
      await Promise.all(
        names.map(async (n) => {
          const s = await stat(join(this.dir, n)).catch(() => undefined)
          return s ? { name: n, size: s.size, used: s.mtimeMs } : undefined
        }),
      )
    ).filter((e) => e !== undefined)
    let total = entries.reduce((a, e) => a + e.size, 0)
    if (total <= this.maxBytes) return
    const victims = [...entries].sort((a, b) => a.used - b.used)
    for (const v of victims) {
      if (total <= this.maxBytes) break
      if (this.#pins.has(v.name)) continue
      if (!(await this.#remove(v.name))) continue
      total -= v.size
      this.#stats = { ...this.#stats, evicted: this.#stats.evicted + 1 }
    }
  }
}
