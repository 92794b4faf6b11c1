import { execFile, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt, ROOT } from '../../helpers/build.js'
import { tarnCli } from '../../run/lake-cli.js'
import { type ServedProcess, startServe } from '../served-process.js'

const run = promisify(execFile)
const PROJECT = join(ROOT, 'test', 'fixtures', 'iceberg-rest', 'java-client')

/** Maven and a JDK build the client; without them the test is skipped (an error in CI). */
function haveMaven(): boolean {
  const ok = spawnSync('mvn', ['-v'], { stdio: 'ignore' }).status === 0
  if (!ok && process.env.CI === 'true')
    throw new Error('mvn is required in CI for the Iceberg Java client test')
  if (!ok)
    console.warn('[skip] Iceberg Java RESTCatalog test skipped: mvn is not on PATH (apt-get install maven)')
  return ok
}

type Described = {
  snapshotId: string | null
  schema: { id: number; name: string; type: string; required: boolean }[]
}

describe.runIf(haveMaven())("Iceberg's Java RESTCatalog against tarn serve", () => {
  let home: string
  let server: ServedProcess | undefined
  let url = ''
  let credential = ''
  let classpath = ''

  const java = async (...args: string[]): Promise<Described> => {
    const { stdout } = await run('java', ['-cp', classpath, 'tarn.test.RestClient', ...args], {
      timeout: 300_000,
    })
    return JSON.parse(stdout.trim().split('\n').pop() as string) as Described
  }
  const tableGet = async (ref: string): Promise<Described> => {
    const r = await tarnCli(home, 'table', 'get', 'sales.trips', '-r', ref, '--json')
    expect(r.exit, r.stderr).toBe(0)
    const t = JSON.parse(r.stdout) as { currentSnapshotId: string | null; schema: Described['schema'] }
    return { snapshotId: t.currentSnapshotId, schema: t.schema }
  }

  beforeAll(async () => {
    ensureBuilt()
    // build a copy of the project, so the repository stays clean (Maven's ~/.m2 keeps the downloads)
    const build = mkdtempSync(join(tmpdir(), 'tarn-java-client-'))
    cpSync(PROJECT, build, { recursive: true })
    await run('mvn', ['-q', '-B', 'package', '-DskipTests'], { cwd: build, timeout: 900_000 })
    classpath = `${join(build, 'target', 'iceberg-rest-client-1.jar')}:${readFileSync(join(build, 'target', 'classpath.txt'), 'utf8').trim()}`

    home = mkdtempSync(join(tmpdir(), 'tarn-java-rest-'))
    const csv = join(home, 'trips.csv')
    writeFileSync(csv, 'id,city,fare\n1,Lyon,12.5\n2,Paris,30.0\n')
    for (const args of [
      ['init'],
      ['branch', 'create', 'dev'],
      ['namespace', 'create', 'sales', '-b', 'dev'],
      ['table', 'create', 'sales.trips', '--from', csv, '-b', 'dev'],
      ['tag', 'create', 'v1', '--from-ref', 'dev'],
      ['table', 'import', 'sales.trips', '--from', csv, '-b', 'dev', '--force'],
    ]) {
      const r = await tarnCli(home, ...args)
      expect(r.exit, `${args.join(' ')}: ${r.stderr}${r.stdout}`).toBe(0)
    }
    const key = JSON.parse(
      (await tarnCli(home, 'key', 'create', 'spark', '--allow', 'write:*', '--json')).stdout,
    ) as {
      token: string
    }
    credential = key.token.replace('.', ':')
    server = await startServe({ TARN_HOME: home })
    url = server.url
  }, 900_000)

  afterAll(async () => {
    await server?.stop()
  })

  it('loads a table tarn wrote at a tag and at a commit with the snapshot id and schema tarn table get shows, and appends rows tarn then queries', async () => {
    const atTag = await tableGet('v1')
    const atDev = await tableGet('dev')
    expect(atTag.snapshotId).not.toBe(atDev.snapshotId)
    const hash = (
      JSON.parse((await tarnCli(home, 'log', 'v1', '--json', '-n', '1')).stdout) as {
        commits: { hash: string }[]
      }
    ).commits[0]?.hash as string
    for (const ref of ['v1', `@${hash.slice(0, 12)}`]) {
      const loaded = await java('load', `${url}/iceberg`, ref, credential, 'sales.trips')
      expect(loaded.snapshotId).toBe(atTag.snapshotId)
      expect(loaded.schema).toEqual(atTag.schema)
    }

    const appended = await java('append', `${url}/iceberg`, 'dev', credential, 'sales.trips', '100', '3')
    const after = await tableGet('dev')
    expect(appended.snapshotId).toBe(after.snapshotId)
    const q = await tarnCli(
      home,
      'query',
      '-r',
      'dev',
      '--json',
      'SELECT id, city FROM sales.trips WHERE id >= 100 ORDER BY id',
    )
    expect((JSON.parse(q.stdout) as { rows: { id: number; city: string }[] }).rows).toEqual([
      { id: 100, city: 'java-100' },
      { id: 101, city: 'java-101' },
      { id: 102, city: 'java-102' },
    ])
    const count = await tarnCli(home, 'query', '-r', 'dev', '--json', 'SELECT count(*) AS n FROM sales.trips')
    expect(Number((JSON.parse(count.stdout) as { rows: { n: number }[] }).rows[0]?.n)).toBe(7)
    const log = JSON.parse((await tarnCli(home, 'log', 'dev', '--json', '-n', '1')).stdout) as {
      commits: { author: string; properties: Record<string, string> }[]
    }
    expect(log.commits[0]?.author).toBe('spark')
    expect(log.commits[0]?.properties['tarn.operation']).toBe('iceberg-commit')
    expect((await tableGet('v1')).snapshotId).toBe(atTag.snapshotId)
  }, 600_000)
})
