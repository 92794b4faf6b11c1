import { randomBytes } from 'node:crypto'
import {
  close as closeCb,
  constants,
  type Dirent,
  fsync as fsyncCb,
  open as openCb,
  write as writeCb,
} from 'node:fs'
import { link, mkdir, open, readdir, readFile, rename, rmdir, stat, unlink } from 'node:fs/promises'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { messageOf, TarnError } from '../util/errors.js'
import { objectNotFound } from './object-not-found.js'
import type { ByteRange, ObjectInfo, ObjectStore } from './object-store.js'

/** Marker in the names of in-flight temp files; such files are never listed and never valid keys. */
const TEMP_MARKER = '.tarn-tmp-'

/**
 * Throws `INVALID_ARGUMENT` unless `key` is a valid object key: a non-empty, relative, `/`-separated path with no
 * empty, `.` or `..` segments, no backslashes, no NUL characters and no tarn temp-file marker. Valid keys can never
 * address anything outside a store's root.
 *
 * @example
 * ```ts
 * assertValidObjectKey('tables/orders/metadata/v1.json') // ok
 * assertValidObjectKey('../etc/passwd') // throws TarnError INVALID_ARGUMENT
 * ```
 */
export function assertValidObjectKey(key: string): void {
  const reason = invalidKeyReason(key, false)
  if (reason !== undefined) {
    throw new TarnError('INVALID_ARGUMENT', `Invalid object key ${JSON.stringify(key)}: ${reason}`, { key })
  }
}

/**
 * Throws `INVALID_ARGUMENT` unless `prefix` is a valid listing prefix: the empty string, or a string that would be a
 * valid key prefix (it may end in `/` or in the middle of a segment, but has no `..` segments, backslashes or NULs).
 *
 * @example
 * ```ts
 * assertValidObjectPrefix('tables/orders/') // ok
 * assertValidObjectPrefix('/abs') // throws TarnError INVALID_ARGUMENT
 * ```
 */
export function assertValidObjectPrefix(prefix: string): void {
  if (prefix === '') return
  const reason = invalidKeyReason(prefix, true)
  if (reason !== undefined) {
    throw new TarnError('INVALID_ARGUMENT', `Invalid object prefix ${JSON.stringify(prefix)}: ${reason}`, {
      prefix,
    })
  }
}

function invalidKeyReason(key: string, isPrefix: boolean): string | undefined {
  if (typeof key !== 'string') return 'not a string'
  if (key.length === 0) return 'empty'
  if (key.includes('\0')) return 'contains a NUL character'
  if (key.includes('\\')) return 'contains a backslash'
  if (key.startsWith('/')) return 'absolute path'
  const segments = key.split('/')
  // A prefix may end with '/' (an empty last segment) or stop in the middle of a segment.
  const checked = isPrefix ? segments.slice(0, -1) : segments
  for (const segment of checked) {
    if (segment === '') return 'empty path segment'
    if (segment === '.' || segment === '..') return `'${segment}' path segment`
  }
  const last = segments[segments.length - 1] ?? ''
  if (isPrefix && last === '..') return "'..' path segment"
  if (segments.some((s) => s.includes(TEMP_MARKER))) return `contains the reserved marker '${TEMP_MARKER}'`
  return undefined
}

function errnoCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code
  return undefined
}

function checkRange(range: ByteRange, key: string): void {
  const { offset, length } = range
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new TarnError('INVALID_ARGUMENT', `Invalid byte range offset ${offset}`, { key, offset })
  }
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
    throw new TarnError('INVALID_ARGUMENT', `Invalid byte range length ${length}`, { key, length })
  }
}

/** Orders keys like S3 does: by their UTF-8 bytes. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

const fdOpen = promisify(openCb) as (path: string, flags: string | number, mode: number) => Promise<number>
const fdClose = promisify(closeCb)
const fdSync = promisify(fsyncCb)
const fdWrite = (
  fd: number,
  data: Uint8Array,
  offset: number,
  length: number,
  position: number,
): Promise<number> =>
  new Promise((resolve, reject) => {
    writeCb(fd, data, offset, length, position, (e, written) => (e ? reject(e) : resolve(written)))
  })

/** Attempts at a write when a concurrent delete removes the parent directory between mkdir and open/rename. */
const WRITE_ATTEMPTS = 5

/**
 * How `putFresh` opens its file: created, never an existing one, and (where the platform has `O_DSYNC`) every write
 * durable when it returns, which saves the separate fsync.
 */
const FRESH_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_DSYNC ?? 0)

/**
 * An {@link ObjectStore} on the local filesystem: each object is a file under a root directory, at the path given by
 * its key. Writes are atomic (temp file in the same directory, fsync, rename), `putIfAbsent` is atomic against
 * concurrent writers (hard link of a temp file, which fails when the target exists), ranged reads read only the bytes
 * asked for, and keys are validated so nothing can escape the root. Deleting an object also removes the parent
 * directories it leaves empty (never the root).
 *
 * @example
 * ```ts
 * const store = await LocalObjectStore.create('/tmp/lake/warehouse')
 * await store.put('tables/t/data/0.parquet', bytes)
 * for await (const info of store.list('tables/t/')) console.log(info.key, info.size)
 * ```
 */
export class LocalObjectStore implements ObjectStore {
  /** The `file://` URI of the root directory, without a trailing slash. */
  readonly root: string
  /** The absolute path of the root directory. */
  readonly rootDir: string
  /**
   * Directory fsyncs running, by directory, each with the one queued behind it: a writer whose file appeared while a
   * sync of its directory was already running waits for the next one, which all such writers share. (A plain field,
   * not `#`: stores that wrap this one with `Object.create` reach it through the prototype.)
   */
  private readonly dirSyncs = new Map<string, { readonly running: Promise<void>; next?: Promise<void> }>()

  private constructor(rootDir: string) {
    this.rootDir = rootDir
    this.root = pathToFileURL(rootDir).href.replace(/\/+$/, '')
  }

  /**
   * Opens a store rooted at `rootDir` (absolute, or relative to the working directory), creating the directory when
   * it does not exist.
   *
   * @example
   * ```ts
   * const store = await LocalObjectStore.create('./warehouse')
   * store.root // 'file:///home/me/project/warehouse'
   * ```
   */
  static async create(rootDir: string): Promise<LocalObjectStore> {
    if (typeof rootDir !== 'string' || rootDir === '' || rootDir.includes('\0')) {
      throw new TarnError('INVALID_ARGUMENT', `Invalid root directory ${JSON.stringify(rootDir)}`, {
        rootDir,
      })
    }
    const abs = resolve(rootDir)
    try {
      await mkdir(abs, { recursive: true })
    } catch (e) {
      throw new TarnError(
        'STORAGE_ERROR',
        `Cannot create the storage root ${abs}: ${messageOf(e)}`,
        { path: abs },
        { cause: e },
      )
    }
    return new LocalObjectStore(abs)
  }

  private pathOf(key: string): string {
    assertValidObjectKey(key)
    return join(this.rootDir, ...key.split('/'))
  }

  private storageError(op: string, key: string, e: unknown): TarnError {
    if (e instanceof TarnError) return e
    return new TarnError(
      'STORAGE_ERROR',
      `Cannot ${op} object ${key}: ${messageOf(e)}`,
      { key, uri: this.uriOf(key) },
      { cause: e },
    )
  }

  private notFound(key: string, cause?: unknown): TarnError {
    return objectNotFound(key, this.uriOf(key), cause)
  }

  async get(key: string, options?: { range?: ByteRange }): Promise<Uint8Array> {
    const path = this.pathOf(key)
    const range = options?.range
    if (range !== undefined) checkRange(range, key)
    let handle: Awaited<ReturnType<typeof open>>
    try {
      handle = await open(path, 'r')
    } catch (e) {
      const code = errnoCode(e)
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') throw this.notFound(key, e)
      throw this.storageError('read', key, e)
    }
    try {
      const st = await handle.stat()
      if (!st.isFile()) throw this.notFound(key)
      const start = Math.min(range?.offset ?? 0, st.size)
      const end = range?.length === undefined ? st.size : Math.min(st.size, start + range.length)
      const out = new Uint8Array(end - start)
      let done = 0
      while (done < out.length) {
        const { bytesRead } = await handle.read(out, done, out.length - done, start + done)
        if (bytesRead === 0) break // the file shrank under us; cannot happen with atomic puts
        done += bytesRead
      }
      return done === out.length ? out : out.subarray(0, done)
    } catch (e) {
      throw this.storageError('read', key, e)
    } finally {
      await handle.close()
    }
  }

  /**
   * Writes `data` to a fresh, fsynced temp file next to `path` and returns the temp file's path. The directory is
   * made only when the temp file cannot be created for want of it (the common case skips the `mkdir`), and the file
   * is written through a plain descriptor: a `FileHandle` costs more per call, and a commit writes several files.
   */
  private async writeTemp(path: string, data: Uint8Array): Promise<string> {
    const dir = dirname(path)
    for (let attempt = 1; ; attempt++) {
      const temp = join(dir, `${TEMP_MARKER}${randomBytes(12).toString('hex')}`)
      let fd: number
      try {
        fd = await fdOpen(temp, 'wx', 0o644)
      } catch (e) {
        // The directory is missing (new, or pruned by a concurrent delete between mkdir and open): make it again.
        if (errnoCode(e) === 'ENOENT' && attempt < WRITE_ATTEMPTS) {
          await mkdir(dir, { recursive: true })
          continue
        }
        throw e
      }
      try {
        let done = 0
        while (done < data.length) done += await fdWrite(fd, data, done, data.length - done, done)
        await fdSync(fd)
      } catch (e) {
        await fdClose(fd).catch(() => {})
        await unlink(temp).catch(() => {})
        throw e
      }
      await fdClose(fd)
      return temp
    }
  }

  /**
   * {@link syncDir} shared by concurrent writers of one directory (the files of one table commit, commits of one
   * table from several clients): each waits for a sync that starts after its file appeared, and one sync serves all
   * that queued while the one before ran.
   */
  private syncDirShared(dir: string): Promise<void> {
    const current = this.dirSyncs.get(dir)
    if (current === undefined) return this.startDirSync(dir)
    current.next ??= current.running.then(() => this.startDirSync(dir))
    return current.next
  }

  private startDirSync(dir: string): Promise<void> {
    const entry: { readonly running: Promise<void>; next?: Promise<void> } = { running: this.syncDir(dir) }
    this.dirSyncs.set(dir, entry)
    void entry.running.then(() => {
      if (this.dirSyncs.get(dir) === entry && entry.next === undefined) this.dirSyncs.delete(dir)
    })
    return entry.running
  }

  /** Makes a rename or link durable by fsyncing the directory (best effort: not every platform allows it). */
  private async syncDir(dir: string): Promise<void> {
    let fd: number
    try {
      fd = await fdOpen(dir, 'r', 0)
    } catch {
      return // Directory fsync is unsupported on some platforms; the data itself is already fsynced.
    }
    try {
      await fdSync(fd)
    } catch {
      // As above.
    } finally {
      await fdClose(fd).catch(() => {})
    }
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    await this.putAll([{ key, data }])
  }

  /**
   * `put` of several objects made durable together: each is written to its own fsynced temp file and renamed into
   * place (all at once), then each directory they landed in is fsynced once. When it returns, every object is durable.
   */
  async putAll(entries: readonly { key: string; data: Uint8Array }[]): Promise<void> {
    const paths = await Promise.all(
      entries.map(async ({ key, data }) => {
        const path = this.pathOf(key)
        try {
          for (let attempt = 1; ; attempt++) {
            const temp = await this.writeTemp(path, data)
            try {
              await rename(temp, path)
              return path
            } catch (e) {
              await unlink(temp).catch(() => {})
              if (errnoCode(e) === 'ENOENT' && attempt < WRITE_ATTEMPTS) continue
              throw e
            }
          }
        } catch (e) {
          throw this.storageError('write', key, e)
        }
      }),
    )
    await Promise.all([...new Set(paths.map((p) => dirname(p)))].map((d) => this.syncDirShared(d)))
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    const [stored] = await this.putAllIfAbsent([{ key, data }])
    return stored === true
  }

  /**
   * `putIfAbsent` of several objects made durable together: each is written to its own fsynced temp file and
   * hard-linked into place (all at once), then each directory they landed in is fsynced once, so n files in one
   * directory cost n + 1 fsyncs instead of 2n. Returns, per entry, whether it was stored; when the call returns,
   * every stored object is durable.
   */
  async putAllIfAbsent(entries: readonly { key: string; data: Uint8Array }[]): Promise<boolean[]> {
    const placed = await Promise.all(
      entries.map(async ({ key, data }) => {
        const path = this.pathOf(key)
        try {
          return { key, path, temp: await this.linkIfAbsent(path, data) }
        } catch (e) {
          throw this.storageError('write', key, e)
        }
      }),
    )
    const linked = placed.filter((p) => p.temp !== undefined)
    const dirs = [...new Set(linked.map((p) => dirname(p.path)))]
    // The temp names go while the directories are synced: only the links must be durable before we answer.
    await Promise.all([
      ...dirs.map((d) => this.syncDirShared(d)),
      ...linked.map((p) => unlink(p.temp as string).catch(() => {})),
    ])
    return placed.map((p) => p.temp !== undefined)
  }

  /**
   * Writes a file under a fresh key in place (no temp file, link and unlink): created exclusively, written
   * synchronously (`O_DSYNC`, else an fsync), then the directory fsynced. Four file-system calls where
   * `putIfAbsent` makes ten; a crash part-way may leave a partial file under the key, which nothing references.
   */
  async putFresh(key: string, data: Uint8Array): Promise<boolean> {
    const path = this.pathOf(key)
    try {
      for (let attempt = 1; ; attempt++) {
        let fd: number
        try {
          fd = await fdOpen(path, FRESH_FLAGS, 0o644)
        } catch (e) {
          const errno = errnoCode(e)
          if (errno === 'EEXIST') return false
          if (errno === 'ENOENT' && attempt < WRITE_ATTEMPTS) {
            await mkdir(dirname(path), { recursive: true })
            continue
          }
          throw e
        }
        try {
          let done = 0
          while (done < data.length) done += await fdWrite(fd, data, done, data.length - done, done)
          if (constants.O_DSYNC === undefined) await fdSync(fd)
        } catch (e) {
          await fdClose(fd).catch(() => {})
          await unlink(path).catch(() => {})
          throw e
        }
        await fdClose(fd)
        await this.syncDirShared(dirname(path))
        return true
      }
    } catch (e) {
      throw this.storageError('write', key, e)
    }
  }
  /**
   * Writes `data` to a fsynced temp file and hard-links it to `path` unless a file is there: returns the temp file's
   * path (to unlink once the directory is synced), or undefined when `path` existed and nothing was stored.
   */
  private async linkIfAbsent(path: string, data: Uint8Array): Promise<string | undefined> {
    // Cheap early exit; the link below is what makes the operation atomic.
    if (await this.isFile(path)) return undefined
    for (let attempt = 1; ; attempt++) {
      const temp = await this.writeTemp(path, data)
      try {
        await link(temp, path)
        return temp
      } catch (e) {
        await unlink(temp).catch(() => {})
        const code = errnoCode(e)
        if (code === 'EEXIST') {
          const st = await stat(path).catch(() => undefined)
          if (st?.isDirectory()) throw e
          return undefined
        }
        if (code === 'ENOENT' && attempt < WRITE_ATTEMPTS) continue
        throw e
      }
    }
  }

  /** True when `path` is a file (what `head` answers, by path). */
  private async isFile(path: string): Promise<boolean> {
    try {
      return (await stat(path)).isFile()
    } catch (e) {
      const code = errnoCode(e)
      if (code === 'ENOENT' || code === 'ENOTDIR') return false
      throw e
    }
  }

  /**
   * Stores a local file without copying it when it lies on the warehouse's filesystem: the file is fsynced and
   * hard-linked into place (atomic against concurrent writers like `putIfAbsent`); across filesystems its bytes are
   * copied. The caller may delete its own name afterwards but must not change the file.
   */
  async putFileIfAbsent(key: string, source: string): Promise<boolean> {
    const path = this.pathOf(key)
    try {
      if ((await this.head(key)) !== undefined) return false
      const handle = await open(source, 'r')
      try {
        await handle.sync()
      } finally {
        await handle.close()
      }
      for (let attempt = 1; ; attempt++) {
        // the directory is made only when the link finds none (most writes go to an existing data directory)
        if (attempt > 1) await mkdir(dirname(path), { recursive: true })
        try {
          await link(source, path)
          await this.syncDirShared(dirname(path))
          return true
        } catch (e) {
          const errno = errnoCode(e)
          if (errno === 'EEXIST') {
            const st = await stat(path).catch(() => undefined)
            if (st?.isDirectory()) throw e
            return false
          }
          // The directory is missing (new, or pruned by a concurrent delete): make it and link again.
          if (errno === 'ENOENT' && attempt < WRITE_ATTEMPTS) continue
          // Another filesystem, or one without hard links: copy the bytes.
          if (errno === 'EXDEV' || errno === 'EPERM' || errno === 'ENOTSUP' || errno === 'EMLINK')
            return await this.putIfAbsent(key, new Uint8Array(await readFile(source)))
          throw e
        }
      }
    } catch (e) {
      throw this.storageError('write', key, e)
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const path = this.pathOf(key)
    try {
      const st = await stat(path)
      if (!st.isFile()) return undefined
      return { key, size: st.size, lastModified: st.mtimeMs }
    } catch (e) {
      const code = errnoCode(e)
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
      throw this.storageError('stat', key, e)
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertValidObjectPrefix(prefix)
    const slash = prefix.lastIndexOf('/')
    const startKey = slash < 0 ? '' : prefix.slice(0, slash)
    yield* this.walk(startKey, prefix)
  }

  /** Yields the objects under the directory of key `dirKey` ('' for the root) whose keys start with `prefix`. */
  private async *walk(dirKey: string, prefix: string): AsyncGenerator<ObjectInfo> {
    const dirPath = dirKey === '' ? this.rootDir : join(this.rootDir, ...dirKey.split('/'))
    let entries: Dirent[]
    try {
      entries = await readdir(dirPath, { withFileTypes: true })
    } catch (e) {
      const code = errnoCode(e)
      if (code === 'ENOENT' || code === 'ENOTDIR') return
      throw new TarnError(
        'STORAGE_ERROR',
        `Cannot list ${dirPath}: ${messageOf(e)}`,
        { prefix, uri: pathToFileURL(dirPath).href },
        { cause: e },
      )
    }
    // Sort a directory as `name/` so that its keys sort correctly against sibling files (e.g. 'a-b' < 'a/c').
    const sorted = entries
      .filter((d) => (d.isFile() || d.isDirectory()) && !d.name.includes(TEMP_MARKER))
      .map((d) => ({ d, sortKey: d.isDirectory() ? `${d.name}/` : d.name }))
      .sort((a, b) => compareUtf8(a.sortKey, b.sortKey))
    for (const { d } of sorted) {
      const key = dirKey === '' ? d.name : `${dirKey}/${d.name}`
      if (d.isDirectory()) {
        const asDir = `${key}/`
        if (asDir.startsWith(prefix) || prefix.startsWith(asDir)) yield* this.walk(key, prefix)
      } else if (key.startsWith(prefix)) {
        try {
          const st = await stat(join(dirPath, d.name))
          if (st.isFile()) yield { key, size: st.size, lastModified: st.mtimeMs }
        } catch (e) {
          if (errnoCode(e) !== 'ENOENT') throw this.storageError('stat', key, e)
          // Deleted while we listed: skip it.
        }
      }
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key)
    try {
      await unlink(path)
    } catch (e) {
      const code = errnoCode(e)
      if (code === 'ENOENT' || code === 'ENOTDIR') return
      if (code === 'EISDIR' || code === 'EPERM') {
        // A directory is not an object: nothing to delete.
        const st = await stat(path).catch(() => undefined)
        if (st?.isDirectory()) return
      }
      throw this.storageError('delete', key, e)
    }
    await this.pruneEmptyParents(dirname(path))
  }

  /** Removes `dir` and its ancestors while they are empty, stopping at the root. */
  private async pruneEmptyParents(dir: string): Promise<void> {
    let current = dir
    while (current !== this.rootDir && current.startsWith(this.rootDir + sep)) {
      try {
        await rmdir(current)
      } catch {
        return // not empty (or already gone, or not ours to remove): stop
      }
      current = dirname(current)
    }
  }

  uriOf(key: string): string {
    return pathToFileURL(this.pathOf(key)).href
  }

  /**
   * The key of a `file:` URI (or of a plain absolute path) inside this store, or undefined when it lies outside the
   * root or is not a valid key.
   */
  keyOf(uri: string): string | undefined {
    let path: string
    if (uri.startsWith('file:')) {
      try {
        path = fileURLToPath(uri)
      } catch {
        return undefined
      }
    } else if (isAbsolute(uri)) {
      path = resolve(uri)
    } else {
      return undefined
    }
    const rel = relative(this.rootDir, path)
    if (rel === '' || isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) return undefined
    const key = rel.split(sep).join('/')
    return invalidKeyReason(key, false) === undefined ? key : undefined
  }

  async close(): Promise<void> {
    // Nothing to release: every operation opens and closes its own file handles.
  }
}
