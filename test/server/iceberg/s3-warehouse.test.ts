import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiKeyStore, Lake, type RunningServer, serve } from '../../../src/index.js'
import { haveS3Server, startS3Server, type TestS3Server } from '../../helpers/s3-server.js'

describe.runIf(haveS3Server())('the Iceberg REST catalog of a lake on S3', () => {
  let s3: TestS3Server
  let lake: Lake
  let server: RunningServer
  const saved = { ...process.env }

  beforeAll(async () => {
    s3 = await startS3Server({ bucket: 'iceberg-rest' })
    const env = {
      ...process.env,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      AWS_REGION: s3.region,
    }
    Object.assign(process.env, env)
    const home = mkdtempSync(join(tmpdir(), 'tarn-iceberg-s3-'))
    lake = await Lake.init({ home, warehouse: `s3://${s3.bucket}/wh`, env })
    server = await serve({
      lake,
      keys: new ApiKeyStore(lake.catalog.backend, lake),
      host: '127.0.0.1',
      port: 0,
    })
  }, 60_000)
  afterAll(async () => {
    await server?.close()
    await lake?.close()
    await s3?.close()
    process.env = saved
  })

  it('tells clients the S3 endpoint, region and path-style addressing, and writes table metadata to the bucket', async () => {
    const base = `${server.url}/iceberg/v1`
    const config = (await (await fetch(`${base}/config?warehouse=main`)).json()) as {
      defaults: Record<string, string>
    }
    expect(config.defaults).toMatchObject({
      's3.endpoint': s3.endpoint,
      's3.path-style-access': 'true',
      's3.region': s3.region,
      'client.region': s3.region,
    })
    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    expect((await post('/main/namespaces', { namespace: ['geo'] })).status).toBe(200)
    const created = (await (
      await post('/main/namespaces/geo/tables', {
        name: 'cities',
        schema: { type: 'struct', fields: [{ id: 1, name: 'id', required: true, type: 'long' }] },
      })
    ).json()) as { 'metadata-location': string }
    expect(created['metadata-location']).toMatch(
      new RegExp(`^s3://${s3.bucket}/wh/geo/cities-[0-9a-f]{8}/metadata/`),
    )
    const committed = await post('/main/namespaces/geo/tables/cities', {
      requirements: [{ type: 'assert-current-schema-id', 'current-schema-id': 0 }],
      updates: [{ action: 'set-properties', updates: { owner: 'geo' } }],
    })
    expect(committed.status).toBe(200)
    const loaded = (await (await fetch(`${base}/main/namespaces/geo/tables/cities`)).json()) as {
      config: Record<string, string>
      metadata: { properties: Record<string, string> }
    }
    expect(loaded.config['s3.endpoint']).toBe(s3.endpoint)
    expect(loaded.metadata.properties).toEqual({ owner: 'geo' })
  }, 60_000)
})
