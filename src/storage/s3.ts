import { createRequire } from 'node:module'
import type * as AwsS3 from '@aws-sdk/client-s3'
import type { ListObjectsV2CommandOutput, S3Client, S3ClientConfig } from '@aws-sdk/client-s3'
import { messageOf, TarnError } from '../util/errors.js'
import { assertValidObjectKey, assertValidObjectPrefix } from './local.js'
import { objectNotFound } from './object-not-found.js'
import type { ByteRange, ObjectInfo, ObjectStore } from './object-store.js'

/**
 * Static credentials for {@link S3ObjectStoreOptions}; omit them to use the AWS SDK's default provider chain.
 *
 * @example
 * ```ts
 * const credentials: S3Credentials = { accessKeyId: 'minio', secretAccessKey: 'minio123' }
 * ```
 */
export interface S3Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

/**
 * Options of {@link S3ObjectStore.create}. Everything but `bucket` is optional: the AWS SDK reads the standard
 * environment (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_PROFILE`, ...), `AWS_ENDPOINT_URL_S3`
 * sets the endpoint (and then path-style addressing defaults to on), and `TARN_S3_FORCE_PATH_STYLE=true|false`
 * overrides the addressing style.
 *
 * @example
 * ```ts
 * const options: S3ObjectStoreOptions = { bucket: 'lake', prefix: 'warehouse', endpoint: 'http://127.0.0.1:9000' }
 * ```
 */
export interface S3ObjectStoreOptions {
  /** The bucket name. */
  readonly bucket: string
  /** The key prefix inside the bucket under which the store lives, without leading or trailing slashes ('' for none). */
  readonly prefix?: string
  /** An S3-compatible endpoint URL (MinIO, s3rver, ...). Defaults to `AWS_ENDPOINT_URL_S3`, else AWS itself. */
  readonly endpoint?: string
  /** The region. Defaults to the SDK's resolution (`AWS_REGION`, profile), else `us-east-1` with a custom endpoint. */
  readonly region?: string
  /** Path-style addressing (`endpoint/bucket/key`). Defaults to `TARN_S3_FORCE_PATH_STYLE`, else true iff an endpoint is set. */
  readonly forcePathStyle?: boolean
  /** Static credentials; defaults to the SDK's provider chain. */
  readonly credentials?: S3Credentials
  /** Keys per ListObjectsV2 page (1..1000, default 1000); small values exercise pagination in tests. */
  readonly listPageSize?: number
  /**
   * For servers that accept but ignore `If-None-Match: *` (s3rver, old MinIO): `putIfAbsent` sends a HEAD first.
   * That is check-then-put, not atomic: two writers can both win. Defaults to `TARN_S3_EMULATE_CONDITIONAL_WRITES`,
   * else false (AWS S3, current MinIO, R2 and GCS enforce the header).
   */
  readonly emulateConditionalWrites?: boolean
}

/**
 * The connection settings of an S3 store, without its location (the `s3` option of `openObjectStore`).
 *
 * @example
 * ```ts
 * const s3: S3ConnectionOptions = { endpoint: 'http://127.0.0.1:9000', region: 'us-east-1' }
 * ```
 */
export type S3ConnectionOptions = Omit<S3ObjectStoreOptions, 'bucket' | 'prefix'>

/** Reads the environment and options into an S3 client configuration. */
function clientConfig(options: S3ObjectStoreOptions, env: NodeJS.ProcessEnv): S3ClientConfig {
  const endpoint = options.endpoint ?? nonEmpty(env.AWS_ENDPOINT_URL_S3)
  const envPathStyle = parseBoolean(env.TARN_S3_FORCE_PATH_STYLE)
  const forcePathStyle = options.forcePathStyle ?? envPathStyle ?? endpoint !== undefined
  const config: S3ClientConfig = { forcePathStyle }
  if (endpoint !== undefined) {
    config.endpoint = endpoint
    // S3-compatible servers vary in their support of the newer default checksums; send them only when required.
    config.requestChecksumCalculation = 'WHEN_REQUIRED'
    config.responseChecksumValidation = 'WHEN_REQUIRED'
  }
  const region =
    options.region ??
    nonEmpty(env.AWS_REGION) ??
    nonEmpty(env.AWS_DEFAULT_REGION) ??
    (endpoint !== undefined ? 'us-east-1' : undefined)
  if (region !== undefined) config.region = region
  if (options.credentials !== undefined) config.credentials = { ...options.credentials }
  return config
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s
}

const EMULATE_VAR = 'TARN_S3_EMULATE_CONDITIONAL_WRITES'

function parseBoolean(s: string | undefined, name = 'TARN_S3_FORCE_PATH_STYLE'): boolean | undefined {
  if (s === undefined || s === '') return undefined
  const v = s.trim().toLowerCase()
  if (v === 'true' || v === '1' || v === 'yes' || v === 'on') return true
  if (v === 'false' || v === '0' || v === 'no' || v === 'off') return false
  throw new TarnError('INVALID_ARGUMENT', `${name} must be true or false, not ${JSON.stringify(s)}`, {
    [name]: s,
  })
}

const SDK_NODE_WARNING = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'

const requireModule = createRequire(import.meta.url)
let awsS3: typeof AwsS3 | undefined

/** The AWS SDK's S3 module, loaded on the first request (it takes hundreds of milliseconds to load). */
function sdk(): typeof AwsS3 {
  awsS3 ??= requireModule('@aws-sdk/client-s3') as typeof AwsS3
  return awsS3
}

/**
 * Creates the SDK client without its "future releases will require Node 22" notice on stderr, which a tarn user
 * cannot act on (tarn pins its SDK and supports Node 20); setting the SDK's own
 * `AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED` variable (to anything) restores its behaviour.
 */
function newClient(config: S3ClientConfig): S3Client {
  const { S3Client } = sdk()
  if (process.env[SDK_NODE_WARNING] !== undefined) return new S3Client(config)
  process.env[SDK_NODE_WARNING] = 'true'
  try {
    return new S3Client(config)
  } finally {
    delete process.env[SDK_NODE_WARNING]
  }
}

/** The error name and HTTP status of an AWS SDK error. */
function awsError(e: unknown): { name: string | undefined; status: number | undefined } {
  if (typeof e !== 'object' || e === null) return { name: undefined, status: undefined }
  const name = 'name' in e && typeof e.name === 'string' ? e.name : undefined
  let status: number | undefined
  if ('$metadata' in e && typeof e.$metadata === 'object' && e.$metadata !== null) {
    const meta = e.$metadata
    if ('httpStatusCode' in meta && typeof meta.httpStatusCode === 'number') status = meta.httpStatusCode
  }
  return { name, status }
}

function isNotFound(e: unknown): boolean {
  const { name, status } = awsError(e)
  // A missing bucket is a configuration error, not a missing object (HEAD has no body, so it cannot tell them apart).
  if (name === 'NoSuchBucket') return false
  return name === 'NoSuchKey' || name === 'NotFound' || status === 404
}

function isPreconditionFailed(e: unknown): boolean {
  const { name, status } = awsError(e)
  return name === 'PreconditionFailed' || status === 412
}

function isConditionalConflict(e: unknown): boolean {
  const { name, status } = awsError(e)
  return name === 'ConditionalRequestConflict' || status === 409
}

function isInvalidRange(e: unknown): boolean {
  const { name, status } = awsError(e)
  return name === 'InvalidRange' || status === 416
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

/** Attempts of a conditional put that S3 answers with 409 ConditionalRequestConflict (a concurrent conditional write). */
const CONDITIONAL_ATTEMPTS = 3

/**
 * An {@link ObjectStore} on Amazon S3 or any S3-compatible server, through `@aws-sdk/client-s3` v3. Objects live at
 * `s3://bucket/prefix/key`. Reads of a byte range send `Range: bytes=a-b`; a range that starts past the end of an
 * object returns no bytes, like the local store.
 *
 * `putIfAbsent` sends one PUT with `If-None-Match: *`, which S3 (and MinIO, R2, GCS's S3 API) enforce atomically:
 * 412 PreconditionFailed → false. Servers that accept but ignore the header (s3rver, older MinIO) need
 * `emulateConditionalWrites` (or `TARN_S3_EMULATE_CONDITIONAL_WRITES=1`): a HEAD before the PUT makes the common
 * case right, but two concurrent writers of the same key can then both succeed.
 *
 * @example
 * ```ts
 * const store = S3ObjectStore.create({ bucket: 'lake', prefix: 'warehouse' })
 * await store.put('tables/t/metadata/v1.json', bytes)
 * store.uriOf('tables/t/metadata/v1.json') // 's3://lake/warehouse/tables/t/metadata/v1.json'
 * await store.close()
 * ```
 */
export class S3ObjectStore implements ObjectStore {
  /** `s3://bucket` or `s3://bucket/prefix`, without a trailing slash. */
  readonly root: string
  /** The bucket name. */
  readonly bucket: string
  /** The key prefix of the store inside the bucket ('' for none), without leading or trailing slashes. */
  readonly prefix: string
  private readonly listPageSize: number
  private readonly emulateConditionalWrites: boolean
  readonly #config: S3ClientConfig
  #client: S3Client | undefined

  private constructor(
    bucket: string,
    prefix: string,
    config: S3ClientConfig,
    listPageSize: number,
    emulateConditionalWrites: boolean,
  ) {
    this.bucket = bucket
    this.prefix = prefix
    this.#config = config
    this.listPageSize = listPageSize
    this.emulateConditionalWrites = emulateConditionalWrites
    this.root = prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${prefix}`
  }

  /**
   * Creates a store for `s3://bucket/prefix`. No request is sent until the first operation. Throws
   * `INVALID_ARGUMENT` for a malformed bucket, prefix, page size or `TARN_S3_FORCE_PATH_STYLE`.
   *
   * @param options where the store lives and how to connect (see {@link S3ObjectStoreOptions})
   * @param env the environment to read `AWS_ENDPOINT_URL_S3`, `AWS_REGION`, `AWS_DEFAULT_REGION` and
   *   `TARN_S3_FORCE_PATH_STYLE` from (default `process.env`; credentials always come from the SDK's provider chain
   *   unless given in `options`)
   *
   * @example
   * ```ts
   * // With AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000 in the environment, this talks path-style to that server.
   * const store = S3ObjectStore.create({ bucket: 'lake', prefix: 'dev/warehouse' })
   * ```
   */
  static create(options: S3ObjectStoreOptions, env: NodeJS.ProcessEnv = process.env): S3ObjectStore {
    const bucket = options.bucket
    if (typeof bucket !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/.test(bucket)) {
      throw new TarnError('INVALID_ARGUMENT', `Invalid S3 bucket name ${JSON.stringify(bucket)}`, { bucket })
    }
    const prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '')
    if (prefix !== '') {
      try {
        assertValidObjectKey(prefix)
      } catch (e) {
        throw new TarnError(
          'INVALID_ARGUMENT',
          `Invalid S3 prefix ${JSON.stringify(options.prefix)}`,
          { bucket, prefix: options.prefix },
          { cause: e },
        )
      }
    }
    const listPageSize = options.listPageSize ?? 1000
    if (!Number.isInteger(listPageSize) || listPageSize < 1 || listPageSize > 1000) {
      throw new TarnError(
        'INVALID_ARGUMENT',
        `listPageSize must be an integer in 1..1000, not ${listPageSize}`,
        {
          listPageSize,
        },
      )
    }
    const emulate =
      options.emulateConditionalWrites ??
      parseBoolean(env.TARN_S3_EMULATE_CONDITIONAL_WRITES, EMULATE_VAR) ??
      false
    return new S3ObjectStore(bucket, prefix, clientConfig(options, env), listPageSize, emulate)
  }

  /**
   * Resolves the region the SDK will sign with (options, `AWS_REGION`, `AWS_DEFAULT_REGION`, the AWS profile, or
   * `us-east-1` for a custom endpoint) and throws `INVALID_ARGUMENT` naming the variables to set when there is none,
   * so that a misconfigured S3 warehouse fails when the lake is created or opened rather than at its first write.
   *
   * @example
   * ```ts
   * await S3ObjectStore.create({ bucket: 'lake' }).checkRegion() // throws without AWS_REGION or a profile region
   * ```
   */
  async checkRegion(): Promise<string> {
    let region: string | undefined
    try {
      region = await this.client.config.region()
    } catch {
      region = undefined
    }
    if (region === undefined || region === '') {
      throw new TarnError(
        'INVALID_ARGUMENT',
        `S3 warehouse ${this.root} has no region: set AWS_REGION (or AWS_DEFAULT_REGION, or a region in your AWS profile)`,
        { uri: this.root },
      )
    }
    return region
  }

  /**
   * The underlying AWS SDK client (destroyed by {@link S3ObjectStore.close}), made on first use: the SDK loads only
   * when a store on S3 is used.
   */
  get client(): S3Client {
    this.#client ??= newClient(this.#config)
    return this.#client
  }

  private objectKey(key: string): string {
    assertValidObjectKey(key)
    return this.prefix === '' ? key : `${this.prefix}/${key}`
  }

  private storageError(op: string, key: string, e: unknown): TarnError {
    if (e instanceof TarnError) return e
    const { name, status } = awsError(e)
    const detail = (e instanceof Error && e.message === '' ? name : undefined) ?? messageOf(e)
    return new TarnError(
      'STORAGE_ERROR',
      `Cannot ${op} object ${key}: ${detail}`,
      {
        key,
        uri: this.uriOf(key),
        ...(name !== undefined ? { awsError: name } : {}),
        ...(status !== undefined ? { status } : {}),
      },
      { cause: e },
    )
  }

  private notFound(key: string, cause?: unknown): TarnError {
    return objectNotFound(key, this.uriOf(key), cause)
  }

  async get(key: string, options?: { range?: ByteRange }): Promise<Uint8Array> {
    const Key = this.objectKey(key)
    const range = options?.range
    if (range !== undefined) checkRange(range, key)
    if (range?.length === 0) {
      // `bytes=a-(a-1)` is not a valid header: answer locally, keeping the missing-key error.
      if ((await this.head(key)) === undefined) throw this.notFound(key)
      return new Uint8Array(0)
    }
    let Range: string | undefined
    if (range !== undefined && (range.offset > 0 || range.length !== undefined)) {
      Range =
        range.length === undefined
          ? `bytes=${range.offset}-`
          : `bytes=${range.offset}-${range.offset + range.length - 1}`
    }
    try {
      const res = await this.client.send(new (sdk().GetObjectCommand)({ Bucket: this.bucket, Key, Range }))
      if (res.Body === undefined) return new Uint8Array(0)
      return await res.Body.transformToByteArray()
    } catch (e) {
      if (isNotFound(e)) throw this.notFound(key, e)
      if (Range !== undefined && isInvalidRange(e)) return new Uint8Array(0)
      throw this.storageError('read', key, e)
    }
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    const Key = this.objectKey(key)
    try {
      await this.client.send(
        new (sdk().PutObjectCommand)({
          Bucket: this.bucket,
          Key,
          Body: data,
          ContentLength: data.byteLength,
        }),
      )
    } catch (e) {
      throw this.storageError('write', key, e)
    }
  }

  async putIfAbsent(key: string, data: Uint8Array): Promise<boolean> {
    const Key = this.objectKey(key)
    // Only for servers that ignore If-None-Match (opted into explicitly): check-then-put, not atomic.
    if (this.emulateConditionalWrites && (await this.head(key)) !== undefined) return false
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(
          new (sdk().PutObjectCommand)({
            Bucket: this.bucket,
            Key,
            Body: data,
            ContentLength: data.byteLength,
            IfNoneMatch: '*',
          }),
        )
        return true
      } catch (e) {
        if (isPreconditionFailed(e)) return false
        if (isConditionalConflict(e) && attempt < CONDITIONAL_ATTEMPTS) continue
        throw this.storageError('write', key, e)
      }
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const Key = this.objectKey(key)
    try {
      const res = await this.client.send(new (sdk().HeadObjectCommand)({ Bucket: this.bucket, Key }))
      return { key, size: res.ContentLength ?? 0, lastModified: res.LastModified?.getTime() ?? 0 }
    } catch (e) {
      if (isNotFound(e)) return undefined
      throw this.storageError('stat', key, e)
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertValidObjectPrefix(prefix)
    const base = this.prefix === '' ? '' : `${this.prefix}/`
    let ContinuationToken: string | undefined
    do {
      let res: ListObjectsV2CommandOutput
      try {
        res = await this.client.send(
          new (sdk().ListObjectsV2Command)({
            Bucket: this.bucket,
            Prefix: base + prefix,
            MaxKeys: this.listPageSize,
            ContinuationToken,
          }),
        )
      } catch (e) {
        throw new TarnError(
          'STORAGE_ERROR',
          `Cannot list ${this.root}/${prefix}: ${messageOf(e)}`,
          { prefix, uri: `${this.root}/${prefix}` },
          { cause: e },
        )
      }
      for (const obj of res.Contents ?? []) {
        const full = obj.Key
        if (full === undefined || !full.startsWith(base)) continue
        const key = full.slice(base.length)
        // Skip folder markers and anything else that is not a valid key (e.g. written by another tool).
        if (key === '' || key.endsWith('/')) continue
        yield { key, size: obj.Size ?? 0, lastModified: obj.LastModified?.getTime() ?? 0 }
      }
      ContinuationToken = res.IsTruncated ? res.NextContinuationToken : undefined
    } while (ContinuationToken !== undefined)
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key)
    try {
      await this.client.send(new (sdk().DeleteObjectCommand)({ Bucket: this.bucket, Key }))
    } catch (e) {
      if (isNotFound(e)) return
      throw this.storageError('delete', key, e)
    }
  }

  uriOf(key: string): string {
    return `s3://${this.bucket}/${this.objectKey(key)}`
  }

  /** The key of an `s3://`, `s3a://` or `s3n://` URI inside this store, or undefined when it lies outside it. */
  keyOf(uri: string): string | undefined {
    const m = /^s3[an]?:\/\/([^/]+)\/(.*)$/i.exec(uri)
    if (m === null || m[1] !== this.bucket) return undefined
    const objectKey = m[2] ?? ''
    const base = this.prefix === '' ? '' : `${this.prefix}/`
    if (!objectKey.startsWith(base)) return undefined
    const key = objectKey.slice(base.length)
    try {
      assertValidObjectKey(key)
    } catch {
      return undefined
    }
    return key
  }

  async close(): Promise<void> {
    this.#client?.destroy()
  }
}
