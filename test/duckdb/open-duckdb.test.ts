import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { duckdbSettings, openDuckDB } from '../../src/duckdb/open-duckdb.js'
import { withConnection } from '../../src/duckdb/with-connection.js'
import { ensureBuilt, ROOT } from '../helpers/build.js'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tarn-duckdb-'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** The first row of `sql` on a fresh connection to `instance`, as JS values. */
async function row(instance: Awaited<ReturnType<typeof openDuckDB>>, sql: string): Promise<unknown[]> {
  const conn = await instance.connect()
  try {
    return (await conn.runAndReadAll(sql)).getRowsJS()[0] ?? []
  } finally {
    conn.closeSync()
  }
}

describe('openDuckDB, the one place tarn starts DuckDB', () => {
  it('runs every instance in UTC even when the machine is in another time zone', () => {
    ensureBuilt()
    const script = [
      "import { openDuckDB } from './dist/duckdb/open-duckdb.js'",
      "import { withConnection } from './dist/duckdb/with-connection.js'",
      "const sql = \"SELECT current_setting('TimeZone') AS tz, (TIMESTAMPTZ '2024-01-01 00:00:00+00')::VARCHAR AS ts\"",
      'const plain = await openDuckDB()',
      'const c = await plain.connect()',
      'const a = (await c.runAndReadAll(sql)).getRows()[0]',
      'c.closeSync(); plain.closeSync()',
      'const b = await withConnection(undefined, async (w) => (await w.runAndReadAll(sql)).getRows()[0])',
      'console.log(JSON.stringify([a, b]))',
    ].join('\n')
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, TZ: 'America/New_York' },
      encoding: 'utf8',
    })
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual([
      ['UTC', '2024-01-01 00:00:00+00'],
      ['UTC', '2024-01-01 00:00:00+00'],
    ])
  })

  it('applies the thread and memory limits it is given and creates the spill directory', async () => {
    const scratchDir = join(dir, 'spill', 'deep')
    const db = await openDuckDB({ threads: 2, memoryLimit: '512MB', scratchDir })
    try {
      const [threads, memory, temp] = await row(
        db,
        "SELECT current_setting('threads'), current_setting('memory_limit'), current_setting('temp_directory')",
      )
      expect(Number(threads)).toBe(2)
      expect(String(memory)).toMatch(/^(488\.2 MiB|512\.0 MB)$/)
      expect(temp).toBe(scratchDir)
    } finally {
      db.closeSync()
    }
  })

  it('locks a sandbox down: files only under its directories, no settings changed back, no extensions', async () => {
    const allowed = join(dir, 'allowed')
    const outside = join(dir, 'outside')
    const writer = await openDuckDB()
    try {
      await row(writer, `COPY (SELECT 1 AS x) TO '${join(dir, 'outside.parquet')}' (FORMAT parquet)`)
      const sandbox = await openDuckDB({ readableDirectories: [allowed], scratchDir: join(dir, 'scratch') })
      const conn = await sandbox.connect()
      try {
        await conn.run(`COPY (SELECT 2 AS x) TO '${join(dir, 'scratch', 'in.parquet')}' (FORMAT parquet)`)
        const inside = await conn.runAndReadAll(`SELECT x FROM '${join(dir, 'scratch', 'in.parquet')}'`)
        expect(inside.getRowsJS()).toEqual([[2]])
        await expect(conn.run(`SELECT * FROM '${join(dir, 'outside.parquet')}'`)).rejects.toThrow(
          /Permission Error|not allowed|disabled/i,
        )
        await expect(
          conn.run(`CREATE TABLE t AS SELECT * FROM read_csv('${outside}/x.csv')`),
        ).rejects.toThrow()
        await expect(conn.run("SET TimeZone = 'Europe/Paris'")).rejects.toThrow(/lock|configuration/i)
        await expect(conn.run('INSTALL httpfs')).rejects.toThrow()
      } finally {
        conn.closeSync()
        sandbox.closeSync()
      }
    } finally {
      writer.closeSync()
    }
  })

  it('leaves an instance that is not a sandbox free to read any file (imports read sources anywhere)', async () => {
    const file = join(dir, 'anywhere.parquet')
    const rows = await withConnection(undefined, async (c) => {
      await c.run(`COPY (SELECT 7 AS x) TO '${file}' (FORMAT parquet)`)
      return (await c.runAndReadAll(`SELECT x FROM '${file}'`)).getRowsJS()
    })
    expect(rows).toEqual([[7]])
  })

  it('sets the time zone first and locks the configuration last', () => {
    const plain = duckdbSettings({})
    expect(plain).toEqual(["SET GLOBAL TimeZone = 'UTC'"])
    const sandbox = duckdbSettings({
      readableDirectories: ['/c', '/c/'],
      scratchDir: '/s',
      writablePaths: ["/out/it's.csv"],
    })
    expect(sandbox[0]).toBe("SET GLOBAL TimeZone = 'UTC'")
    expect(sandbox.at(-1)).toBe('SET lock_configuration = true')
    expect(sandbox).toContain("SET allowed_directories = ['/c/', '/s/']")
    expect(sandbox).toContain("SET allowed_paths = ['/out/it''s.csv']")
  })
})
