import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../../src/cli/io.js'
import { runCli } from '../../src/index.js'
import { LocalObjectStore } from '../../src/storage/local.js'
import { S3ObjectStore } from '../../src/storage/s3.js'
import { ensureBuilt, ROOT } from '../helpers/build.js'
import { errorOf } from '../helpers/errors.js'

let home: string
beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'tarn-messages-'))
  expect(await runCli(['init'], memoryIO({ TARN_HOME: home }))).toBe(0)
})
afterAll(() => rmSync(home, { recursive: true, force: true }))

async function tarn(
  ...args: string[]
): Promise<{ code: number; stderr: string; error: Record<string, unknown> }> {
  const io = memoryIO({ TARN_HOME: home })
  const code = await runCli([...args, '--json'], io)
  const doc = JSON.parse(io.stdout()) as { error: Record<string, unknown> }
  return { code, stderr: io.stderr(), error: doc.error }
}

describe('error messages', () => {
  it('name a missing local file by its absolute path, leading slash included', async () => {
    const missing = join(home, 'elsewhere', 'nope.metadata.json')
    const r = await tarn('table', 'create-external', 'tarn.t', '--metadata', missing)
    expect(r.error.code).toBe('OBJECT_NOT_FOUND')
    expect(r.error.message).toBe(`Object not found: ${missing}`)
    const store = await LocalObjectStore.create(join(home, 'store'))
    const e = await errorOf(store.get('a/b.json'))
    expect(e.message).toBe(`Object not found: ${join(home, 'store', 'a', 'b.json')}`)
  })

  it('name a missing S3 object by its s3:// URI', async () => {
    const store = S3ObjectStore.create(
      { bucket: 'bucket-b', prefix: 'wh', endpoint: 'http://127.0.0.1:9' },
      {},
    )
    expect(
      (await import('../../src/storage/object-not-found.js')).objectNotFound('k', store.uriOf('k')).message,
    ).toBe('Object not found: s3://bucket-b/wh/k')
    await store.close()
  })

  it('keep a multi-line DuckDB error about a bad import file on one line, naming the file', async () => {
    const jsonl = join(home, 'bad.jsonl')
    writeFileSync(jsonl, '{"a":1}\n{"a":\n')
    const r = await tarn('table', 'create', 'tarn.bad', '--from', jsonl)
    expect(r.error.code).toBe('INVALID_FILE')
    expect(String(r.error.message)).toMatch(/Malformed JSON in file/)
    expect(String(r.error.message)).toContain(jsonl)
    expect(String(r.error.message)).not.toContain('\n')
    const last = r.stderr.trimEnd().split('\n').at(-1) ?? ''
    expect(last).toMatch(/^error: cannot read .*Malformed JSON in file .* LINE 1: DESCRIBE/)
  })
})

describe('an S3 warehouse without a region', () => {
  beforeAll(() => ensureBuilt())

  it('fails tarn init with exit 2 naming AWS_REGION, and creates no lake', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-region-'))
    try {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'tarn.js'), 'init', '--json'], {
        env: {
          PATH: process.env.PATH,
          HOME: dir,
          AWS_CONFIG_FILE: join(dir, 'none'),
          AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
          TARN_HOME: join(dir, 'lake'),
          TARN_WAREHOUSE: 's3://no-region-bucket/wh',
        },
        encoding: 'utf8',
      })
      expect(r.status).toBe(2)
      const error = (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error
      expect(error.code).toBe('INVALID_ARGUMENT')
      expect(error.message).toMatch(/s3:\/\/no-region-bucket\/wh has no region: set AWS_REGION/)
      expect(existsSync(join(dir, 'lake'))).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('resolves the region from AWS_REGION, or us-east-1 for a custom endpoint, without a request', async () => {
    const custom = S3ObjectStore.create({ bucket: 'bucket-b', endpoint: 'http://127.0.0.1:9' }, {})
    expect(await custom.checkRegion()).toBe('us-east-1')
    const fromEnv = S3ObjectStore.create({ bucket: 'bucket-b' }, { AWS_REGION: 'eu-west-3' })
    expect(await fromEnv.checkRegion()).toBe('eu-west-3')
    await custom.close()
    await fromEnv.close()
  })
})
