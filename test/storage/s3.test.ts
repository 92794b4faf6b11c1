import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { S3ObjectStore, type S3ObjectStoreOptions } from '../../src/storage/s3.js'
import { haveS3Server, startS3Server, type TestS3Server } from '../helpers/s3-server.js'
import { collect, tarnErrorOf } from './object-store.contract.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

describe.skipIf(!haveS3Server())('S3ObjectStore', () => {
  let s3: TestS3Server
  const stores: S3ObjectStore[] = []

  /** A store on the test server; closed after all tests. */
  function open(options: Partial<S3ObjectStoreOptions> = {}, env: NodeJS.ProcessEnv = {}): S3ObjectStore {
    const store = S3ObjectStore.create(
      {
        bucket: s3.bucket,
        endpoint: s3.endpoint,
        region: s3.region,
        credentials: s3.credentials,
        ...options,
      },
      env,
    )
    stores.push(store)
    return store
  }

  beforeAll(async () => {
    s3 = await startS3Server()
  })

  afterAll(async () => {
    for (const store of stores) await store.close()
    await s3?.close()
  })

  it('has an s3:// root and URIs made of bucket, prefix and key', () => {
    const store = open({ prefix: '/lake/warehouse/' })
    expect(store.root).toBe(`s3://${s3.bucket}/lake/warehouse`)
    expect(store.prefix).toBe('lake/warehouse')
    expect(store.uriOf('t/x.parquet')).toBe(`s3://${s3.bucket}/lake/warehouse/t/x.parquet`)
    expect(open({ prefix: '' }).root).toBe(`s3://${s3.bucket}`)
  })

  it('accepts s3a:// and s3n:// URIs in keyOf, and rejects other buckets and prefixes', () => {
    const store = open({ prefix: 'wh' })
    expect(store.keyOf(`s3a://${s3.bucket}/wh/a/b`)).toBe('a/b')
    expect(store.keyOf(`s3n://${s3.bucket}/wh/a/b`)).toBe('a/b')
    expect(store.keyOf(`s3://other-bucket/wh/a/b`)).toBeUndefined()
    expect(store.keyOf(`s3://${s3.bucket}/whx/a/b`)).toBeUndefined()
    expect(store.keyOf(`s3://${s3.bucket}/wh/`)).toBeUndefined()
  })

  it('keeps stores with different prefixes in one bucket apart', async () => {
    const a = open({ prefix: 'iso/a' })
    const b = open({ prefix: 'iso/ab' })
    await a.put('k', enc('from a'))
    await b.put('k', enc('from b'))
    expect(dec(await a.get('k'))).toBe('from a')
    expect((await collect(a.list(''))).map((i) => i.key)).toEqual(['k'])
    expect((await collect(b.list(''))).map((i) => i.key)).toEqual(['k'])
    const root = open({ prefix: '' })
    expect((await collect(root.list('iso/'))).map((i) => i.key)).toEqual(['iso/a/k', 'iso/ab/k'])
  })

  it('pages through a listing with a page size of 1', async () => {
    const store = open({ prefix: 'paging', listPageSize: 1 })
    const keys = ['a', 'a-b', 'a/b', 'b/c/d', 'c']
    for (const key of [...keys].reverse()) await store.put(key, enc(key))
    expect((await collect(store.list(''))).map((i) => i.key)).toEqual(keys)
  })

  it('returns false from putIfAbsent for an existing object with one conditional PUT, no HEAD', async () => {
    const store = open({ prefix: 'cond' })
    const sent: string[] = []
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(String(context.commandName))
        return next(args)
      },
      { step: 'initialize', name: 'recordCommands' },
    )
    expect(await store.putIfAbsent('x', enc('first'))).toBe(true)
    expect(await store.putIfAbsent('x', enc('second'))).toBe(false)
    expect(sent).toEqual(['PutObjectCommand', 'PutObjectCommand'])
    expect(dec(await store.get('x'))).toBe('first')
  })

  it('lets exactly one of many racing putIfAbsent calls on one key win, across separate clients', async () => {
    const writers = Array.from({ length: 8 }, () => open({ prefix: 'race' }))
    const results = await Promise.all(writers.map((w, i) => w.putIfAbsent('lock', enc(`writer ${i}`))))
    expect(results.filter((r) => r)).toHaveLength(1)
    const winner = results.indexOf(true)
    expect(dec(await writers[0]!.get('lock'))).toBe(`writer ${winner}`)
  })

  it('checks with a HEAD before the PUT only when told the server ignores If-None-Match', async () => {
    const store = open({ prefix: 'emulated' }, { TARN_S3_EMULATE_CONDITIONAL_WRITES: '1' })
    const sent: string[] = []
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(String(context.commandName))
        return next(args)
      },
      { step: 'initialize', name: 'recordCommands' },
    )
    expect(await store.putIfAbsent('y', enc('first'))).toBe(true)
    expect(await store.putIfAbsent('y', enc('second'))).toBe(false)
    expect(sent).toEqual(['HeadObjectCommand', 'PutObjectCommand', 'HeadObjectCommand'])
    expect(() => open({}, { TARN_S3_EMULATE_CONDITIONAL_WRITES: 'maybe' })).toThrow(
      /TARN_S3_EMULATE_CONDITIONAL_WRITES must be true or false/,
    )
  })

  it('reads the endpoint from AWS_ENDPOINT_URL_S3 and then uses path-style addressing', async () => {
    const store = S3ObjectStore.create(
      { bucket: s3.bucket, prefix: 'env', credentials: s3.credentials },
      { AWS_ENDPOINT_URL_S3: s3.endpoint },
    )
    stores.push(store)
    expect(store.client.config.forcePathStyle).toBe(true)
    await store.put('k', enc('via env'))
    expect(dec(await store.get('k'))).toBe('via env')
  })

  it('lets TARN_S3_FORCE_PATH_STYLE and the option override the addressing style', () => {
    expect(open({}, { TARN_S3_FORCE_PATH_STYLE: 'false' }).client.config.forcePathStyle).toBe(false)
    expect(
      open({ forcePathStyle: true }, { TARN_S3_FORCE_PATH_STYLE: 'false' }).client.config.forcePathStyle,
    ).toBe(true)
    const aws = S3ObjectStore.create({ bucket: 'some-bucket', region: 'eu-west-1' }, {})
    stores.push(aws)
    expect(aws.client.config.forcePathStyle).toBe(false)
    expect(
      S3ObjectStore.create(
        { bucket: 'some-bucket', region: 'eu-west-1' },
        { TARN_S3_FORCE_PATH_STYLE: 'true' },
      ).client.config.forcePathStyle,
    ).toBe(true)
  })

  it('rejects a bad TARN_S3_FORCE_PATH_STYLE, bucket, prefix or page size with INVALID_ARGUMENT', async () => {
    const cases: (() => unknown)[] = [
      () => S3ObjectStore.create({ bucket: 'b-1' }, { TARN_S3_FORCE_PATH_STYLE: 'maybe' }),
      () => S3ObjectStore.create({ bucket: '' }, {}),
      () => S3ObjectStore.create({ bucket: 'has/slash' }, {}),
      () => S3ObjectStore.create({ bucket: 'b-1', prefix: 'a/../b' }, {}),
      () => S3ObjectStore.create({ bucket: 'b-1', listPageSize: 0 }, {}),
      () => S3ObjectStore.create({ bucket: 'b-1', listPageSize: 1001 }, {}),
    ]
    for (const fn of cases) expect((await tarnErrorOf(fn)).code).toBe('INVALID_ARGUMENT')
  })

  it('maps a missing bucket to STORAGE_ERROR with the key, URI and cause', async () => {
    const store = open({ bucket: 'no-such-bucket' })
    const err = await tarnErrorOf(() => store.put('k', enc('x')))
    expect(err.code).toBe('STORAGE_ERROR')
    expect(err.context.key).toBe('k')
    expect(err.context.uri).toBe('s3://no-such-bucket/k')
    expect(err.cause).toBeDefined()
    expect((await tarnErrorOf(() => store.get('k'))).code).toBe('STORAGE_ERROR')
    expect((await tarnErrorOf(() => collect(store.list('')))).code).toBe('STORAGE_ERROR')
  })

  it('maps an unreachable endpoint to STORAGE_ERROR', async () => {
    const store = open({ endpoint: 'http://127.0.0.1:1', prefix: 'x' })
    const err = await tarnErrorOf(() => store.get('k'))
    expect(err.code).toBe('STORAGE_ERROR')
    expect(err.context.uri).toBe(`s3://${s3.bucket}/x/k`)
  })
})
