import { fileURLToPath } from 'node:url'
import type { ObjectStore } from '../storage/object-store.js'
import { TarnError } from '../util/errors.js'

/**
 * How a table's files are reached: every path recorded in metadata goes through `resolve` (which applies the
 * allow-moved-paths mapping), then is read from the object store or turned into a local file path for DuckDB.
 */
export interface TableIO {
  readonly store: ObjectStore
  /** The URI a recorded path resolves to now. */
  resolve(path: string): string
  /** Reads a whole file. */
  read(path: string): Promise<Uint8Array>
  /** A local filesystem path holding the file (for DuckDB). */
  localPath(path: string): Promise<string>
}

/**
 * Options of {@link tableIO}.
 */
export interface TableIOOptions {
  /** Recorded table location to map from (allow-moved-paths). */
  readonly movedFrom?: string
  /** Where that location lives now. */
  readonly movedTo?: string
  /** Turns a store URI into a local path (e.g. fetching from S3 into a cache). Default: `file://` URIs only. */
  readonly localPathOf?: (uri: string) => Promise<string>
}

const isRelative = (p: string): boolean => !/^[a-z][a-z0-9+.-]*:/i.test(p) && !p.startsWith('/')
/** s3a/s3n become s3; a relative path (`./t/data/x`, as some engines record) loses its leading `./`. */
const normScheme = (p: string): string =>
  isRelative(p) ? p.replace(/^(\.\/)+/, '') : p.replace(/^s3a:\/\//, 's3://').replace(/^s3n:\/\//, 's3://')
const trimSlash = (p: string): string => p.replace(/\/+$/, '')

/**
 * Maps `path` onto `to` when it starts with the recorded location `from` (s3/s3a/s3n schemes are treated alike; a
 * relative location such as `./t` matches paths `t/...` and `./t/...`).
 */
export function mapMovedPath(path: string, from: string, to: string): string {
  const f = trimSlash(normScheme(from))
  const p = normScheme(path)
  if (isRelative(path) && (f === '' || f === '.')) return `${trimSlash(to)}/${p}`
  if (p === f) return trimSlash(to)
  if (p.startsWith(`${f}/`)) return trimSlash(to) + p.slice(f.length)
  return path
}

/**
 * A {@link TableIO} over an object store.
 */
export function tableIO(store: ObjectStore, opts: TableIOOptions = {}): TableIO {
  const resolve = (path: string): string =>
    opts.movedFrom !== undefined && opts.movedTo !== undefined
      ? mapMovedPath(path, opts.movedFrom, opts.movedTo)
      : path
  const keyOf = (path: string): string => {
    const uri = resolve(path)
    const key = store.keyOf(uri)
    if (key === undefined) {
      throw new TarnError('OBJECT_NOT_FOUND', `File ${path} lies outside the warehouse ${store.root}`, {
        path,
        uri,
      })
    }
    return key
  }
  return {
    store,
    resolve,
    read: (path) => store.get(keyOf(path)),
    localPath: async (path) => {
      const uri = store.uriOf(keyOf(path))
      if (opts.localPathOf) return opts.localPathOf(uri)
      if (uri.startsWith('file://')) return fileURLToPath(uri)
      throw new TarnError('STORAGE_ERROR', `No local path for ${uri}: pass localPathOf`, { uri })
    },
  }
}
