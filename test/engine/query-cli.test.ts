import { spawnSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lake } from '../../src/lake/lake.js'
import { ensureBuilt, ROOT } from '../helpers/build.js'

let home: string

/** Runs the real `tarn` binary (dist/) against the test lake. */
function tarn(
  args: readonly string[],
  input?: string,
  env: Readonly<Record<string, string>> = {},
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'tarn.js'), ...args], {
    env: { ...process.env, TARN_HOME: home, TARN_USER: 'tester', ...env },
    cwd: home,
    encoding: 'utf8',
    ...(input !== undefined ? { input } : {}),
  })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

beforeAll(async () => {
  ensureBuilt()
  home = await mkdtemp(join(tmpdir(), 'tarn-query-cli-'))
  const db = await DuckDBInstance.create(':memory:')
  const conn = await db.connect()
  const file = join(home, 'nested.parquet')
  await conn.run(`COPY (
    SELECT range AS id, [range, range + 1] AS l, {'a': range::INTEGER, 'b': 'x,' || range} AS s,
      [{'a': 1, 'b': 'q'}] AS ls, MAP {'k': range} AS m
    FROM range(3)) TO '${file}' (FORMAT parquet)`)
  conn.closeSync()
  db.closeSync()
  const lake = await Lake.init({ home, env: {}, author: 'tester' })
  await lake.createTable('nested', { from: file })
  const times = join(home, 'times.parquet')
  const db2 = await DuckDBInstance.create(':memory:')
  const c2 = await db2.connect()
  await c2.run(`COPY (SELECT * FROM (VALUES (TIMESTAMPTZ '2024-02-29 23:00:00+00'), (TIMESTAMPTZ '2024-03-01 03:00:00+00')) v(ts))
    TO '${times}' (FORMAT parquet)`)
  c2.closeSync()
  db2.closeSync()
  await lake.createTable('times', { from: times })
  await lake.close()
}, 120_000)
afterAll(async () => {
  await rm(home, { recursive: true, force: true })
})

const NESTED_SQL = `SELECT [1, 2] AS l, {'a': 1, 'b': [{'c': 'x,y'}]} AS s, [1, 2]::INTEGER[2] AS a,
  MAP {'k': [1]} AS m, 170141183460469231731687303715884105727::HUGEINT AS h, 0.1::FLOAT AS f,
  'b'::UNION(n INTEGER, s VARCHAR) AS u, (SELECT list(range) FROM range(3)) AS agg`

describe('tarn query output of nested and wide types', () => {
  it('prints lists, fixed arrays, structs, maps and unions in the table as DuckDB does', () => {
    const r = tarn(['query', NESTED_SQL])
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines[1]?.split(/\s{2,}/)).toEqual([
      'INTEGER[]',
      'STRUCT(a INTEGER, b STRUCT(c VARCHAR)[])',
      'INTEGER[2]',
      'MAP(VARCHAR, INTEGER[])',
      'HUGEINT',
      'FLOAT',
      'UNION(n INTEGER, s VARCHAR)',
      'BIGINT[]',
    ])
    expect(lines[3]?.split(/\s{2,}/)).toEqual([
      '[1, 2]',
      "{'a': 1, 'b': [{'c': 'x,y'}]}",
      '[1, 2]',
      '{k=[1]}',
      '170141183460469231731687303715884105727',
      '0.1',
      'b',
      '[0, 1, 2]',
    ])
    expect(lines.at(-1)).toBe('(1 row)')
  })

  it('prints them as JSON arrays and objects in one complete document with --json and --format json', () => {
    const doc = tarn(['query', NESTED_SQL, '--json'])
    expect(doc.code).toBe(0)
    const parsed = JSON.parse(doc.stdout)
    expect(parsed.rows).toEqual([
      {
        l: [1, 2],
        s: { a: 1, b: [{ c: 'x,y' }] },
        a: [1, 2],
        m: { k: [1] },
        h: 1.7014118346046923e38,
        f: 0.1,
        u: { s: 'b' },
        agg: [0, 1, 2],
      },
    ])
    expect(doc.stdout).toContain('"h":170141183460469231731687303715884105727')
    const arr = tarn(['query', NESTED_SQL, '--format', 'json'])
    expect(JSON.parse(arr.stdout)[0].s).toEqual({ a: 1, b: [{ c: 'x,y' }] })
  })

  it("prints them in CSV in DuckDB's text form", () => {
    const r = tarn(['query', "SELECT [1, 2] AS l, {'a': 'x,y'} AS s, MAP {'k': 1} AS m", '--format', 'csv'])
    expect(r.stdout).toBe(`l,s,m\n"[1, 2]","{'a': 'x,y'}",{k=1}\n`)
  })

  it('prints a lake table with LIST, STRUCT and MAP columns in every format', () => {
    const table = tarn(['query', 'SELECT * FROM nested ORDER BY id'])
    expect(table.code).toBe(0)
    expect(table.stdout).toContain("[{'a': 1, 'b': q}]")
    expect(table.stdout).toContain("{'a': 0, 'b': 'x,0'}")
    const json = JSON.parse(tarn(['query', 'SELECT * FROM nested ORDER BY id', '--json']).stdout)
    expect(json.rows[2]).toEqual({
      id: 2,
      l: [2, 3],
      s: { a: 2, b: 'x,2' },
      ls: [{ a: 1, b: 'q' }],
      m: { k: 2 },
    })
    const csv = tarn(['query', 'SELECT * FROM nested ORDER BY id', '--format', 'csv'])
    expect(csv.stdout.split('\n')[1]).toBe(`0,"[0, 1]","{'a': 0, 'b': 'x,0'}","[{'a': 1, 'b': q}]",{k=0}`)
  })

  it('leaves no half-written JSON on stdout when the query fails after rows were produced', () => {
    const sql = "SELECT CASE WHEN range < 5000 THEN range ELSE error('boom') END AS x FROM range(10000)"
    const doc = tarn(['query', sql, '--json'])
    expect(doc.code).not.toBe(0)
    expect(JSON.parse(doc.stdout)).toEqual({
      error: { code: 'SQL_ERROR', message: 'Invalid Input Error: boom', context: expect.any(Object) },
    })
    const arr = tarn(['query', sql, '--format', 'json'])
    expect(arr.code).not.toBe(0)
    expect(arr.stdout).toBe('')
  })
})

describe('tarn query time zone', () => {
  it('reads time literals and prints timestamps in UTC whatever the machine time zone, as pruning assumes', () => {
    const sql = `SELECT current_setting('TimeZone') AS tz, (SELECT count(*) FROM times WHERE ts < '2024-03-01') AS before,
      (SELECT min(ts) FROM times)::VARCHAR AS first`
    const r = tarn(['query', sql, '--json'], undefined, { TZ: 'America/New_York' })
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout).rows).toEqual([{ tz: 'UTC', before: 1, first: '2024-02-29 23:00:00+00' }])
  })
})

describe('tarn query previews and input', () => {
  it('stops after the rows it shows and says more rows exist', () => {
    const r = tarn(['query', 'SELECT range AS n FROM range(100000000)'])
    expect(r.code).toBe(0)
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(
      '(more than 10 rows, 10 shown; use --max-rows N or --all-rows)',
    )
    const json = JSON.parse(
      tarn(['query', 'SELECT range AS n FROM range(100000000)', '--json', '--max-rows', '3']).stdout,
    )
    expect(json).toMatchObject({ rowCount: 3, truncated: true })
  })

  it('reads the SQL from stdin with -f - and when no SQL is given and stdin is piped', () => {
    expect(tarn(['query', '-f', '-', '--format', 'csv'], 'SELECT count(*) AS n FROM nested').stdout).toBe(
      'n\n3\n',
    )
    expect(tarn(['query', '--format', 'csv'], 'SELECT 7 AS x\n').stdout).toBe('x\n7\n')
    const none = tarn(['query'], '')
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/no SQL given/)
  })

  it('names the SQL file when it is missing', async () => {
    const r = tarn(['query', '-f', 'missing.sql', '--json'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'USAGE',
      message: 'SQL file missing.sql does not exist',
      context: { file: join(home, 'missing.sql') },
    })
    await writeFile(join(home, 'q.sql'), 'SELECT 1 AS one')
    expect(tarn(['query', '-f', 'q.sql', '--format', 'csv']).stdout).toBe('one\n1\n')
  })
})

describe('tarn query errors', () => {
  it('condenses a multi-line DuckDB error to one line with the position, keeping the full text in context', () => {
    const r = tarn(['query', 'SELECT x FROM nested', '--json'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      'error: Binder Error: Referenced column "x" not found in FROM clause! Candidate bindings: "id" (line 1, column 8)\n',
    )
    const doc = JSON.parse(r.stdout)
    expect(doc.error.context.detail).toMatch(/^Binder Error: .*\nCandidate bindings/)
    const parse = tarn(['query', 'SELEC 1'])
    expect(parse.stderr).toBe('error: Parser Error: syntax error at or near "SELEC" (line 1, column 1)\n')
  })

  it('never shows the internal view SQL or cache paths, naming the table instead', () => {
    for (const sql of [
      'SELECT CAST(s.b AS INTEGER) FROM nested',
      'SELECT * FROM nested WHERE l = 3',
      'SELECT * FROM tarn.nestd',
      'SELECT nested.nope FROM nested',
    ]) {
      const r = tarn(['query', sql, '--json'])
      expect(r.code, sql).not.toBe(0)
      expect(r.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1)
      expect(r.stdout, sql).not.toMatch(/read_parquet|tarn_v\d|CREATE|\.parquet/)
      expect(r.stderr, sql).not.toMatch(/read_parquet|tarn_v\d|CREATE|\.parquet/)
    }
  })
})
