import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixedClock, Lake, seededRandom } from '../../src/index.js'
import { haveS3Server, startS3Server, type TestS3Server } from '../helpers/s3-server.js'
import { writeProject } from './helpers.js'

let s3: TestS3Server
let dir: string
const saved = { ...process.env }

beforeAll(async () => {
  if (!haveS3Server()) return
  s3 = await startS3Server()
  dir = mkdtempSync(join(tmpdir(), 'tarn-run-s3-'))
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    AWS_REGION: s3.region,
  })
})

afterAll(async () => {
  process.env = saved
  await s3?.close()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(!haveS3Server())('pipeline runs on an S3 warehouse', () => {
  it('reads lake tables stored on S3 (through the file cache), writes its models there and lands', async () => {
    const lake = await Lake.init({
      home: join(dir, 'lake'),
      warehouse: `s3://${s3.bucket}/wh`,
      author: 'test',
      clock: fixedClock(Date.parse('2026-05-01T00:00:00Z'), 1000),
      random: seededRandom(9),
    })
    try {
      const input = join(dir, 'orders.jsonl')
      writeFileSync(
        input,
        ['a', 'b', 'a', 'c', 'a'].map((k, i) => JSON.stringify({ id: i, k, v: i * 10 })).join('\n'),
      )
      await lake.createTable('tarn.orders', { from: input })
      const project = writeProject({
        'tarn_project.yml': 'name: s3run\nnamespace: tarn\n',
        'by_k.sql':
          '-- tarn: materialize=REPLACE\nSELECT k, count(*) AS n, sum(v) AS total FROM orders GROUP BY k\n',
        'big.sql': '-- tarn: materialize=APPEND\nSELECT id, v FROM orders WHERE v >= 20\n',
      })
      const { job } = await lake.run({ dir: project, branch: 'main' })
      expect(job.status).toBe('succeeded')
      const byK = (await lake.query('SELECT k, n, total FROM tarn.by_k ORDER BY k')).rows()
      expect(byK.map((r) => [r.k, Number(r.n), Number(r.total)])).toEqual([
        ['a', 3, 60],
        ['b', 1, 10],
        ['c', 1, 30],
      ])
      // a second run reads the model tables it wrote on S3 and appends again
      await lake.run({ dir: project, branch: 'main' })
      expect(Number((await lake.query('SELECT count(*) AS n FROM tarn.big')).rows()[0]?.n)).toBe(6)
      const state = await lake.catalog.state('main')
      for (const key of ['tarn.orders', 'tarn.by_k', 'tarn.big'])
        expect(state.tables[key]?.metadataLocation.startsWith(`s3://${s3.bucket}/wh/`)).toBe(true)
    } finally {
      await lake.close()
    }
  })
})
