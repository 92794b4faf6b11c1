import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { TarnError } from '../util/errors.js'
import { LocalObjectStore } from './local.js'
import type { ObjectStore } from './object-store.js'
import { type S3ConnectionOptions, S3ObjectStore } from './s3.js'

/**
 * Where a storage URI points, as plain data: a local directory (always an absolute path) or an S3 bucket and key
 * prefix (without leading or trailing slashes, '' for the whole bucket).
 *
 * @example
 * ```ts
 * const where: StorageUri = { scheme: 's3', bucket: 'lake', prefix: 'warehouse' }
 * ```
 */
export type StorageUri = { scheme: 'file'; path: string } | { scheme: 's3'; bucket: string; prefix: string }

/**
 * Options of {@link openObjectStore}.
 *
 * @example
 * ```ts
 * const options: OpenObjectStoreOptions = { s3: { endpoint: 'http://127.0.0.1:9000', listPageSize: 100 } }
 * ```
 */
export interface OpenObjectStoreOptions {
  /** Connection settings used when the URI is `s3://` or `s3a://` (defaults come from the environment). */
  readonly s3?: S3ConnectionOptions
}

/**
 * Parses a storage URI: `file:///abs/path`, a plain absolute or relative path (resolved against the working
 * directory), or `s3://bucket/prefix` (`s3a://` and `s3n://` are accepted as aliases). Throws `INVALID_ARGUMENT` (with
 * the uri in the context) for anything else.
 *
 * @example
 * ```ts
 * parseStorageUri('s3://lake/warehouse/') // { scheme: 's3', bucket: 'lake', prefix: 'warehouse' }
 * parseStorageUri('file:///tmp/lake')     // { scheme: 'file', path: '/tmp/lake' }
 * parseStorageUri('./warehouse')          // { scheme: 'file', path: '/current/dir/warehouse' }
 * ```
 */
export function parseStorageUri(uri: string): StorageUri {
  const invalid = (reason: string, cause?: unknown): TarnError =>
    new TarnError(
      'INVALID_ARGUMENT',
      `Invalid storage URI ${JSON.stringify(uri)}: ${reason}`,
      { uri },
      cause === undefined ? undefined : { cause },
    )
  if (typeof uri !== 'string' || uri.trim() === '') throw invalid('empty')
  if (uri.includes('\0')) throw invalid('contains a NUL character')
  const s3 = /^s3[an]?:\/\/([^/?#]*)(\/[^?#]*)?$/i.exec(uri)
  if (s3 !== null) {
    const bucket = s3[1] ?? ''
    if (bucket === '') throw invalid('missing bucket')
    const prefix = (s3[2] ?? '').replace(/^\/+|\/+$/g, '')
    if (prefix.split('/').some((s) => s === '.' || s === '..') || prefix.includes('//')) {
      throw invalid('invalid prefix')
    }
    return { scheme: 's3', bucket, prefix }
  }
  if (/^s3[an]?:/i.test(uri)) throw invalid('expected s3://bucket/prefix')
  if (/^file:/i.test(uri)) {
    try {
      return { scheme: 'file', path: fileURLToPath(uri) }
    } catch (e) {
      throw invalid(e instanceof Error ? e.message : 'not a local file URL', e)
    }
  }
  // Any other scheme (http:, gs:, abfs:, ...) is not supported. Windows drive letters are not schemes.
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(uri)) throw invalid('unsupported scheme; use a path, file:// or s3://')
  return { scheme: 'file', path: resolve(uri) }
}

/**
 * Opens the object store at a storage URI: a local directory (`file:///abs/path` or a plain path; created when
 * missing) or S3 (`s3://bucket/prefix`, `s3a://...`, with connection settings from `options.s3` and the environment).
 *
 * @example
 * ```ts
 * const store = await openObjectStore(process.env.TARN_WAREHOUSE ?? '/home/me/.tarn/warehouse')
 * try {
 *   await store.put('hello.txt', new TextEncoder().encode('hi'))
 * } finally {
 *   await store.close()
 * }
 * ```
 */
export async function openObjectStore(uri: string, options?: OpenObjectStoreOptions): Promise<ObjectStore> {
  const where = parseStorageUri(uri)
  if (where.scheme === 'file') return LocalObjectStore.create(where.path)
  const store = S3ObjectStore.create({ ...options?.s3, bucket: where.bucket, prefix: where.prefix })
  try {
    await store.checkRegion()
  } catch (e) {
    await store.close()
    throw e
  }
  return store
}
