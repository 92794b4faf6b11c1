import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { LocalObjectStore } from '../../src/storage/local.js'
import { S3ObjectStore } from '../../src/storage/s3.js'
import { haveS3Server, startS3Server, type TestS3Server } from '../helpers/s3-server.js'
import { describeObjectStoreContract } from './object-store.contract.js'

let tempRoot: string
let s3: TestS3Server
let storeCount = 0

beforeAll(async () => {
  tempRoot = await mkdtemp(join(tmpdir(), 'tarn-storage-contract-'))
  if (haveS3Server()) s3 = await startS3Server()
})

afterAll(async () => {
  await s3?.close()
  if (tempRoot !== undefined) await rm(tempRoot, { recursive: true, force: true })
})

describeObjectStoreContract('LocalObjectStore', async () => {
  storeCount++
  return LocalObjectStore.create(join(tempRoot, `store-${storeCount}`, 'warehouse'))
})

describeObjectStoreContract(
  'S3ObjectStore',
  async () => {
    storeCount++
    // A fresh prefix per test keeps tests independent; a tiny page size makes every listing cross page boundaries.
    return S3ObjectStore.create({
      bucket: s3.bucket,
      prefix: `contract/store-${storeCount}`,
      endpoint: s3.endpoint,
      region: s3.region,
      credentials: s3.credentials,
      listPageSize: 2,
    })
  },
  { skip: !haveS3Server() },
)
