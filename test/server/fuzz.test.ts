import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiKeyStore, Lake } from '../../src/index.js'
import { ensureBuilt } from '../helpers/build.js'
import { testSeed } from '../helpers/test-seed.js'
import { type ServedProcess, startServe } from './served-process.js'

/**
 * schemathesis' `st`: `TARN_TEST_SCHEMATHESIS`, else the virtual environment `.ci/schemathesis.sh` installs into.
 * `bash .ci/schemathesis.sh` installs it (CI does).
 */
const ST =
  process.env.TARN_TEST_SCHEMATHESIS ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tarn-fuzz-venv', 'bin', 'st')
const available = existsSync(ST)
if (!available && process.env.CI === 'true') {
  throw new Error(
    `schemathesis is required in CI but ${ST} does not exist: .ci/run installs it with .ci/schemathesis.sh`,
  )
}
if (!available) {
  console.warn(
    `[skip] API fuzzing skipped: schemathesis not found at ${ST}; run \`bash .ci/schemathesis.sh\` or set TARN_TEST_SCHEMATHESIS`,
  )
}

/**
 * Checks every response must pass. `positive_data_acceptance` is left out: the API validates names, refs and SQL
 * beyond what a JSON schema says (a schema-valid branch name like "0" is refused with INVALID_NAME).
 */
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
  'negative_data_rejection',
  'missing_required_header',
  'unsupported_method',
  'ignored_auth',
]

/** Runs schemathesis against the server for `seconds` with a key; resolves with its exit code and output. */
function fuzz(
  url: string,
  key: string,
  seconds: number,
  seed: number,
): Promise<{ code: number; out: string }> {
  // schemathesis keeps a cache in its working directory: give it a scratch one
  const cwd = mkdtempSync(join(tmpdir(), 'tarn-fuzz-run-'))
  return new Promise((resolve, reject) => {
    const child = spawn(
      ST,
      [
        'run',
        `${url}/api/openapi.json`,
        '--header',
        `Authorization: Bearer ${key}`,
        '--checks',
        CHECKS.join(','),
        '--max-time',
        String(seconds),
        '--seed',
        String(seed),
        '--workers',
        '1',
        '--request-timeout',
        '30',
      ],
      {
        cwd,
        env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString()
    })
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code: code ?? -1, out }))
  })
}

/** Everything a write could change: refs and their heads, reflogs, keys, and the warehouse's files. */
async function lakeState(home: string): Promise<unknown> {
  const lake = await Lake.open({ home, env: {} })
  try {
    const branches = await lake.listBranches()
    const reflogs = await Promise.all(branches.map((b) => lake.catalog.backend.reflog(b.name)))
    const keys = await new ApiKeyStore(lake.catalog.backend, lake).list()
    return {
      branches: branches.map((b) => [b.name, b.head]),
      tags: (await lake.listTags()).map((t) => [t.name, t.head]),
      reflogs,
      protectedBranches: await lake.protectedBranches(),
      keys: keys.map((k) => k.name),
      // reads are journaled as query jobs (as `tarn query` does locally): a record of a read, not a write
      files: (readdirSync(join(home, 'warehouse'), { recursive: true }) as string[])
        .filter((f) => !/^_tarn(\/jobs(\/query-[0-9a-f]+\.json)?)?$/.test(f))
        .sort(),
    }
  } finally {
    await lake.close()
  }
}

describe.skipIf(!available)('the HTTP API under schemathesis', () => {
  let home: string
  let server: ServedProcess
  let reader: string
  let writer: string
  const seed = testSeed(20261203)

  beforeAll(async () => {
    ensureBuilt()
    const dir = mkdtempSync(join(tmpdir(), 'tarn-fuzz-'))
    home = join(dir, 'lake')
    const lake = await Lake.init({ home, author: 'setup', env: {} })
    try {
      writeFileSync(join(dir, 'orders.csv'), 'id,name,amount\n1,a,10.5\n2,b,3\n')
      await lake.createTable('orders', { from: join(dir, 'orders.csv') })
      await lake.createBranch('dev', { from: 'main' })
      await lake.createTag('v1', { from: 'main' })
      const keys = new ApiKeyStore(lake.catalog.backend, lake)
      reader = (await keys.create('reader', { rules: ['read:*'] })).token
      writer = (await keys.create('writer', { rules: ['read:*', 'write:*', 'merge:*', 'admin:*'] })).token
    } finally {
      await lake.close()
    }
    server = await startServe({ TARN_HOME: home })
    console.log(`[fuzz] TARN_SEED=${seed}`)
  })
  afterAll(async () => {
    expect(await server?.stop()).toBe(0)
  })

  it('finds no server error and no schema mismatch with a read-only key, and the key writes nothing', async () => {
    const before = await lakeState(home)
    const { code, out } = await fuzz(server.url, reader, 25, seed)
    expect(code, out.slice(-6000)).toBe(0)
    expect(out).toMatch(/API Operations:\s+Selected: \d+\/\d+\s+Tested: [1-9]/)
    expect(await lakeState(home)).toEqual(before)
  }, 120_000)

  it('finds no server error and no schema mismatch with a key that may do everything, and the server stays up', async () => {
    const { code, out } = await fuzz(server.url, writer, 45, seed + 1)
    expect(code, out.slice(-6000)).toBe(0)
    expect(server.child.exitCode).toBeNull()
    const info = await fetch(`${server.url}/api/v1/info`, { headers: { authorization: `Bearer ${reader}` } })
    expect(info.status).toBe(200)
    const lake = await Lake.open({ home, env: {} })
    try {
      for (const b of await lake.listBranches()) {
        const reflog = await lake.catalog.backend.reflog(b.name)
        for (let i = 1; i < reflog.length; i++) expect(reflog[i]?.oldHead).toBe(reflog[i - 1]?.newHead)
        if (reflog.length > 0) expect(reflog.at(-1)?.newHead).toBe(b.head)
      }
    } finally {
      await lake.close()
    }
  }, 180_000)
})
