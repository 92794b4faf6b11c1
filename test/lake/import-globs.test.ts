import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveSources } from '../../src/lake/import-sources.js'
import { LocalObjectStore } from '../../src/storage/local.js'
import { RoutingObjectStore } from '../../src/storage/routing.js'
import { S3ObjectStore } from '../../src/storage/s3.js'
import { errorOf } from '../helpers/errors.js'
import { haveS3Server, startS3Server, type TestS3Server } from '../helpers/s3-server.js'

const FILES = [
  'data/1.csv',
  'data/2.csv',
  'data/x.csv',
  'data/10.csv',
  'data/sub/3.csv',
  'data/sub/deep/4.csv',
  'data/a.json',
]

/** Each pattern (relative to the data root) with the files it must select, in order. */
const CASES: readonly (readonly [string, readonly string[]])[] = [
  ['data/*.csv', ['data/1.csv', 'data/10.csv', 'data/2.csv', 'data/x.csv']],
  [
    'data/**/*.csv',
    ['data/1.csv', 'data/10.csv', 'data/2.csv', 'data/sub/3.csv', 'data/sub/deep/4.csv', 'data/x.csv'],
  ],
  ['data/?.csv', ['data/1.csv', 'data/2.csv', 'data/x.csv']],
  ['data/[0-9]*.csv', ['data/1.csv', 'data/10.csv', 'data/2.csv']],
  ['data/[!0-9].csv', ['data/x.csv']],
  ['data/[^0-9].csv', ['data/x.csv']],
  ['data/{1,x}.csv', ['data/1.csv', 'data/x.csv']],
  ['data/*.{csv,json}', ['data/1.csv', 'data/10.csv', 'data/2.csv', 'data/a.json', 'data/x.csv']],
  ['data/sub/*/[4].csv', ['data/sub/deep/4.csv']],
  ['data/2.csv', ['data/2.csv']],
]

let dir: string
let instance: DuckDBInstance
let s3: TestS3Server | undefined
const saved = { ...process.env }

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tarn-globs-'))
  for (const f of FILES) {
    mkdirSync(join(dir, f, '..'), { recursive: true })
    writeFileSync(join(dir, f), 'id\n1\n')
  }
  instance = await DuckDBInstance.create(':memory:')
  if (haveS3Server()) {
    s3 = await startS3Server({ bucket: 'glob-test' })
    const store = S3ObjectStore.create({
      bucket: s3.bucket,
      endpoint: s3.endpoint,
      region: s3.region,
      credentials: s3.credentials,
    })
    for (const f of [...FILES, 'other/1.csv']) await store.put(f, new TextEncoder().encode('id\n1\n'))
    await store.close()
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      AWS_REGION: s3.region,
    })
  }
})

afterAll(async () => {
  process.env = saved
  instance?.closeSync()
  await s3?.close()
  rmSync(dir, { recursive: true, force: true })
})

async function resolve(pattern: string): Promise<string[]> {
  const conn = await instance.connect()
  const store = new RoutingObjectStore(await LocalObjectStore.create(join(dir, 'warehouse')))
  try {
    return (await resolveSources([pattern], { cwd: dir, store, conn })).map((f) => f.source)
  } finally {
    conn.closeSync()
    await store.close()
  }
}

describe('import globs', () => {
  for (const [pattern, expected] of CASES) {
    it(`selects the local files ${pattern} names`, async () => {
      expect(await resolve(pattern)).toEqual(expected.map((f) => join(dir, f)))
    })

    it.skipIf(!haveS3Server())(`selects the S3 objects s3://…/${pattern} names`, async () => {
      expect(await resolve(`s3://glob-test/${pattern}`)).toEqual(expected.map((f) => `s3://glob-test/${f}`))
    })
  }

  it('refuses a glob that matches nothing, naming it', async () => {
    const e = await errorOf(resolve('data/[q-z]9*.csv'))
    expect(e.code).toBe('INVALID_ARGUMENT')
    expect(e.message).toBe('no file matches data/[q-z]9*.csv')
  })
})
