import { beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt } from '../helpers/build.js'
import { writeProject } from './helpers.js'
import { lakeFootprint, tarnCli, zonesLake } from './lake-cli.js'

const YML = 'name: t\nparameters:\n  min_id:\n    type: integer\n    default: 0\n'
const GOOD = '-- tarn: materialize=REPLACE\nSELECT * FROM zones WHERE zone_id > $min_id\n'

interface ErrorDoc {
  error: { code: string; message: string; context: Record<string, unknown> }
}

describe('planning errors are reported before a run creates anything', () => {
  let home: string
  beforeAll(async () => {
    ensureBuilt()
    home = await zonesLake()
  })

  /** Runs `tarn run --json` on a project and checks it left no branch, job or commit behind. */
  async function refused(dir: string, ...extra: string[]): Promise<ErrorDoc['error'] & { exit: number }> {
    const before = await lakeFootprint(home)
    const r = await tarnCli(home, 'run', '-p', dir, '--json', ...extra)
    expect(await lakeFootprint(home)).toEqual(before)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    return { ...(JSON.parse(r.stdout) as ErrorDoc).error, exit: r.exit }
  }

  it('a bad --param exits 2 and leaves no sealed run branch, job or commit', async () => {
    const dir = writeProject({ 'tarn_project.yml': YML, 'm.sql': GOOD })
    const e = await refused(dir, '--param', 'min_id=abc')
    expect(e.exit).toBe(2)
    expect(e.code).toBe('INVALID_PARAMETER')
  })

  it('an unknown --select exits 2 and creates nothing', async () => {
    const dir = writeProject({ 'tarn_project.yml': YML, 'm.sql': GOOD })
    const e = await refused(dir, '--select', 'nope+')
    expect(e.exit).toBe(2)
    expect(e.code).toBe('INVALID_SELECTION')
  })

  it('a missing project directory is PROJECT_NOT_FOUND (exit 2), not a raw ENOENT', async () => {
    const e = await refused('/nonexistent/tarn-project')
    expect(e.exit).toBe(2)
    expect(e.code).toBe('PROJECT_NOT_FOUND')
    expect(e.message).not.toContain('ENOENT')
    expect(e.message).toContain('/nonexistent/tarn-project does not exist')
  })

  it('a SQL syntax error names the file and line, exits 2 and creates nothing', async () => {
    const dir = writeProject({ 'tarn_project.yml': YML, 'bad.sql': 'SELECT *\nFROM zones\nWHERE AND\n' })
    const e = await refused(dir)
    expect(e.exit).toBe(2)
    expect(e.code).toBe('PROJECT_INVALID')
    expect(e.message).toMatch(/^bad\.sql:3: model bad: /)
  })

  it('a TS parse error names the file and line, exits 2 and creates nothing', async () => {
    const dir = writeProject({
      'tarn_project.yml': YML,
      'm.sql': GOOD,
      'broken.ts': "import { model } from 'tarn'\n\nexport const x = model({}, async () => [{ a: 1 }]\n",
    })
    const e = await refused(dir)
    expect(e.exit).toBe(2)
    expect(e.code).toBe('PROJECT_INVALID')
    expect(e.message).toMatch(/^broken\.ts:\d+: /)
  })

  it('a cycle exits 2 and creates nothing', async () => {
    const dir = writeProject({
      'tarn_project.yml': YML,
      'a.sql': 'SELECT * FROM b WHERE 1 > $min_id',
      'b.sql': 'SELECT * FROM a',
    })
    const e = await refused(dir)
    expect(e.exit).toBe(2)
    expect(e.code).toBe('MODEL_CYCLE')
  })

  it('--strict turns a planning warning into an exit-2 error before any branch exists', async () => {
    const dir = writeProject({
      'tarn_project.yml': YML,
      'm.sql': '-- tarn: materialize=REPLACE\nSELECT 1 AS x\n',
    })
    const e = await refused(dir, '--strict')
    expect(e.exit).toBe(2)
    expect(e.code).toBe('UNUSED_PARAMETER')
  })

  it('a model with two statements says a model holds exactly one SELECT, with the line of the second', async () => {
    const dir = writeProject({ 'tarn_project.yml': YML, 'two.sql': 'SELECT 1 AS a;\nSELECT 2 AS b;\n' })
    const e = await refused(dir)
    expect(e.exit).toBe(2)
    expect(e.message).toBe(
      'two.sql:2: model two: a SQL model holds exactly one SELECT statement (found 2 statements)',
    )
    const mixed = writeProject({
      'tarn_project.yml': YML,
      'mixed.sql': 'SELECT 1 AS a;\n\nDROP TABLE zones;\n',
    })
    const m = await refused(mixed)
    expect(m.code).toBe('MODEL_NOT_ALLOWED')
    expect(m.message).toMatch(
      /^mixed\.sql:3: model mixed: a SQL model holds exactly one SELECT statement, found DROP statement/,
    )
    expect(m.message).not.toContain('serialized to json')
  })
})

describe('SQL models run under the same lock-down as tarn query', () => {
  let home: string
  beforeAll(async () => {
    ensureBuilt()
    home = await zonesLake()
  })

  const cases: [string, string, number, string][] = [
    ['read_csv', "SELECT *\nFROM read_csv('/etc/passwd')", 2, 'table function read_csv()'],
    [
      'read_parquet',
      "SELECT * FROM zones\nUNION ALL\nSELECT * FROM read_parquet('/tmp/x.parquet')",
      3,
      'table function read_parquet()',
    ],
    ['glob', "SELECT * FROM glob('/etc/*')", 1, 'table function glob()'],
    ['a file path as a table', "SELECT * FROM '/etc/passwd'", 1, 'is not a table name'],
    [
      'a subquery reading a file',
      "SELECT (SELECT count(*) FROM read_text('/etc/hostname')) AS n",
      1,
      'table function read_text()',
    ],
    ['ATTACH', "ATTACH '/tmp/evil.db' AS evil", 1, 'found ATTACH statement'],
    ['COPY', "COPY (SELECT 1) TO '/tmp/evil.csv'", 1, 'found COPY statement'],
    ['SET', '-- a comment\nSET enable_external_access = true', 2, 'found SET statement'],
    ['INSTALL', 'SELECT 1 AS a;\nINSTALL httpfs', 2, 'found INSTALL statement'],
  ]

  for (const [what, sql, line, says] of cases) {
    it(`a model using ${what} is refused at --dry-run and at run with its file:line, and nothing is written`, async () => {
      const dir = writeProject({
        'tarn_project.yml': 'name: t\n',
        'evil.sql': `-- tarn: materialize=REPLACE\n${sql}\n`,
      })
      const before = await lakeFootprint(home)
      const dry = await tarnCli(home, 'run', '--dry-run', '-p', dir, '--json')
      const doc = JSON.parse(dry.stdout) as ErrorDoc
      expect(dry.exit).toBe(2)
      expect(doc.error.code).toBe('MODEL_NOT_ALLOWED')
      expect(doc.error.message).toContain(`evil.sql:${line + 1}: model evil: `)
      expect(doc.error.message).toContain(says)
      expect(doc.error.context).toMatchObject({ file: 'evil.sql', line: line + 1, model: 'evil' })
      const run = await tarnCli(home, 'run', '-p', dir)
      expect(run.exit).toBe(2)
      expect(run.stderr).toContain(says)
      expect(await lakeFootprint(home)).toEqual(before)
    })
  }

  it('range and generate_series stay allowed: they compute rows and read nothing', async () => {
    const dir = writeProject({
      'tarn_project.yml': 'name: t\n',
      'numbers.sql':
        '-- tarn: materialize=REPLACE\nSELECT r.range AS n FROM range(3) AS r, generate_series(1, 2) AS g\n',
    })
    const r = await tarnCli(home, 'run', '-p', dir, '--json')
    expect(r.exit).toBe(0)
    expect(JSON.parse(r.stdout).summary.tables['tarn.numbers']).toBe(6)
  })
})

describe('unreadable files are named in errors', () => {
  it('a table whose metadata file is not JSON fails planning with the file’s location, not a bare offset', async () => {
    const { writeFileSync } = await import('node:fs')
    const { fileURLToPath } = await import('node:url')
    const { Lake } = await import('../../src/lake/lake.js')
    const home = await zonesLake()
    const lake = await Lake.open({ home })
    const state = await lake.catalog.getTable('main', 'tarn.zones')
    await lake.close()
    const location = String(state?.metadataLocation)
    writeFileSync(fileURLToPath(location), '')
    const dir = writeProject({ 'tarn_project.yml': 'name: t\n', 'm.sql': 'SELECT * FROM zones\n' })
    const r = await tarnCli(home, 'run', '--dry-run', '-p', dir, '--json')
    const e = (JSON.parse(r.stdout) as ErrorDoc).error
    expect(e.message).toContain(`table metadata ${location} is corrupt: Invalid JSON at offset 0`)
    expect(e.context.file).toBe(location)
  })
})
