import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as storage from '../../src/storage/index.js'
import { LocalObjectStore, openObjectStore, parseStorageUri, S3ObjectStore } from '../../src/storage/index.js'
import { haveS3Server, startS3Server, type TestS3Server } from '../helpers/s3-server.js'
import { tarnErrorOf } from './object-store.contract.js'

describe('parseStorageUri', () => {
  it('parses s3:// and s3a:// URIs into bucket and prefix', () => {
    expect(parseStorageUri('s3://lake/warehouse')).toEqual({
      scheme: 's3',
      bucket: 'lake',
      prefix: 'warehouse',
    })
    expect(parseStorageUri('s3://lake/a/b/')).toEqual({ scheme: 's3', bucket: 'lake', prefix: 'a/b' })
    expect(parseStorageUri('s3a://lake/x')).toEqual({ scheme: 's3', bucket: 'lake', prefix: 'x' })
    expect(parseStorageUri('s3://lake')).toEqual({ scheme: 's3', bucket: 'lake', prefix: '' })
    expect(parseStorageUri('s3://lake/')).toEqual({ scheme: 's3', bucket: 'lake', prefix: '' })
  })

  it('parses file:// URIs and plain paths into absolute paths', () => {
    expect(parseStorageUri('file:///tmp/lake')).toEqual({ scheme: 'file', path: '/tmp/lake' })
    expect(parseStorageUri('file:///tmp/with%20space')).toEqual({ scheme: 'file', path: '/tmp/with space' })
    expect(parseStorageUri('/tmp/lake')).toEqual({ scheme: 'file', path: '/tmp/lake' })
    expect(parseStorageUri('warehouse')).toEqual({ scheme: 'file', path: resolve('warehouse') })
    expect(parseStorageUri('./a/../b')).toEqual({ scheme: 'file', path: resolve('b') })
  })

  it('rejects unsupported schemes and malformed URIs with INVALID_ARGUMENT and the uri in context', async () => {
    for (const uri of [
      '',
      '   ',
      'http://example.com/x',
      'gs://bucket/x',
      's3://',
      's3:/bucket/x',
      's3://bucket/a/../b',
      'file://remote-host/x',
    ]) {
      const err = await tarnErrorOf(() => parseStorageUri(uri))
      expect(err.code, uri).toBe('INVALID_ARGUMENT')
      expect(err.context.uri).toBe(uri)
    }
  })
})

describe('openObjectStore', () => {
  let base: string
  let s3: TestS3Server

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'tarn-open-'))
    if (haveS3Server()) s3 = await startS3Server({ bucket: 'open-test' })
  })

  afterAll(async () => {
    await s3?.close()
    if (base !== undefined) await rm(base, { recursive: true, force: true })
  })

  it('opens a local store from a file:// URI and creates the directory', async () => {
    const dir = join(base, 'from-uri')
    const store = await openObjectStore(pathToFileURL(dir).href)
    expect(store).toBeInstanceOf(LocalObjectStore)
    expect(store.root).toBe(pathToFileURL(dir).href)
    expect((await stat(dir)).isDirectory()).toBe(true)
    await store.close()
  })

  it('opens a local store from an absolute or relative path', async () => {
    const abs = await openObjectStore(join(base, 'abs'))
    expect(abs.root).toBe(pathToFileURL(join(base, 'abs')).href)
    const rel = await openObjectStore(relative(process.cwd(), join(base, 'rel')))
    expect(rel.root).toBe(pathToFileURL(join(base, 'rel')).href)
    await abs.put('k', new Uint8Array([1, 2, 3]))
    expect(Array.from(await abs.get('k'))).toEqual([1, 2, 3])
  })

  it.skipIf(!haveS3Server())('opens an S3 store from an s3:// URI with connection options', async () => {
    const store = await openObjectStore(`s3://${s3.bucket}/lake/wh/`, {
      s3: { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials },
    })
    expect(store).toBeInstanceOf(S3ObjectStore)
    expect(store.root).toBe(`s3://${s3.bucket}/lake/wh`)
    await store.put('k', new Uint8Array([9]))
    expect(Array.from(await store.get('k'))).toEqual([9])
    await store.close()
  })

  it.skipIf(!haveS3Server())('opens an S3 store from an s3a:// URI', async () => {
    const store = await openObjectStore(`s3a://${s3.bucket}/x`, {
      s3: { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials },
    })
    expect(store.root).toBe(`s3://${s3.bucket}/x`)
    await store.close()
  })

  it('rejects an unsupported URI with INVALID_ARGUMENT naming the uri', async () => {
    const err = await tarnErrorOf(() => openObjectStore('ftp://host/dir'))
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.context.uri).toBe('ftp://host/dir')
  })

  it('exports the public storage API from the barrel', () => {
    expect(Object.keys(storage).sort()).toEqual([
      'LocalObjectStore',
      'S3ObjectStore',
      'assertValidObjectKey',
      'assertValidObjectPrefix',
      'openObjectStore',
      'parseStorageUri',
    ])
  })
})
