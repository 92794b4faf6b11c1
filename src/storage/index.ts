/**
 * The object storage layer: the {@link ObjectStore} contract, its local-filesystem and S3 implementations, and
 * {@link openObjectStore} to open one from a URI.
 */
export { assertValidObjectKey, assertValidObjectPrefix, LocalObjectStore } from './local.js'
export type { ByteRange, ObjectInfo, ObjectStore } from './object-store.js'
export { type OpenObjectStoreOptions, openObjectStore, parseStorageUri, type StorageUri } from './open.js'
export {
  type S3ConnectionOptions,
  type S3Credentials,
  S3ObjectStore,
  type S3ObjectStoreOptions,
} from './s3.js'
