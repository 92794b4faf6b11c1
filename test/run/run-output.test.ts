import { beforeAll, describe, expect, it } from 'vitest'
import { Lake } from '../../src/lake/lake.js'
import { ensureBuilt } from '../helpers/build.js'
import { writeProject } from './helpers.js'
import { lakeFootprint, tarnCli, zonesLake } from './lake-cli.js'

describe('what tarn run prints', () => {
  let home: string
  beforeAll(async () => {
    ensureBuilt()
    home = await zonesLake()
  })

  it('--json --preview puts the preview inside the one JSON document, 64-bit integers exact', async () => {
    const dir = writeProject({
      'tarn_project.yml': 'name: t\n',
      'east.sql':
        "-- tarn: materialize=REPLACE\nSELECT zone_id, zone_name, 9007199254740993::BIGINT AS big FROM zones WHERE borough = 'East' ORDER BY zone_id\n",
    })
    const r = await tarnCli(home, 'run', '-p', dir, '--json', '--preview', 'head')
    expect(r.exit).toBe(0)
    const doc = JSON.parse(r.stdout) as {
      status: string
      preview: { table: string; totalRows: number; columns: { name: string }[]; rows: unknown[] }[]
    }
    expect(doc.status).toBe('succeeded')
    expect(doc.preview).toHaveLength(1)
    expect(doc.preview[0]).toMatchObject({ table: 'tarn.east', mode: 'head', totalRows: 2 })
    expect(doc.preview[0]?.columns.map((c) => c.name)).toEqual(['zone_id', 'zone_name', 'big'])
    expect(doc.preview[0]?.rows).toHaveLength(2)
    expect(r.stdout).toContain('"big": 9007199254740993')
    const text = await tarnCli(home, 'run', '-p', dir, '--preview', 'tail')
    expect(text.stdout).toContain('tarn.east (tail, 2 of 2 rows)')
  })

  it('--json sends progress to stderr as JSON lines, one per node state change; stdout holds only the final document', async () => {
    const dir = writeProject({
      'tarn_project.yml': 'name: t\n',
      'west.sql': "-- tarn: materialize=REPLACE\nSELECT * FROM zones WHERE borough = 'West'\n",
    })
    const r = await tarnCli(home, 'run', '-p', dir, '--json')
    expect(r.exit).toBe(0)
    expect(JSON.parse(r.stdout).status).toBe('succeeded')
    const events = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; id?: string; status?: string })
    expect(events[0]?.event).toBe('planned')
    const nodes = events.filter((e) => e.event === 'node')
    expect(nodes.map((e) => `${e.id} ${e.status}`)).toEqual([
      'scan:tarn.zones running',
      'scan:tarn.zones done',
      'model:west running',
      'model:west done',
      'materialize:west running',
      'materialize:west done',
    ])
    expect(events.at(-1)).toMatchObject({ event: 'finished', status: 'succeeded' })
  })

  it('text progress prints one line per state change, never the whole list of waiting nodes', async () => {
    const dir = writeProject({
      'tarn_project.yml': 'name: t\n',
      'north.sql': "-- tarn: materialize=REPLACE\nSELECT * FROM zones WHERE borough = 'North'\n",
    })
    const r = await tarnCli(home, 'run', '-p', dir)
    expect(r.exit).toBe(0)
    expect(r.stdout).not.toContain('waiting')
    expect(r.stdout.split('\n').filter((l) => l.includes('model:north'))).toHaveLength(2)
  })
})

describe('namespaces in a project', () => {
  let home: string
  beforeAll(async () => {
    ensureBuilt()
    home = await zonesLake()
  })

  it('a run creates the project namespace when it is missing, and --dry-run says it will', async () => {
    const dir = writeProject({
      'tarn_project.yml': 'name: r\nnamespace: report\n',
      'busy_zones.sql': "-- tarn: materialize=REPLACE\nSELECT * FROM tarn.zones WHERE borough = 'West'\n",
    })
    const dry = await tarnCli(home, 'run', '--dry-run', '-p', dir)
    expect(dry.exit).toBe(0)
    expect(dry.stdout).toContain('namespace report does not exist on main: the run will create it')
    const dryJson = JSON.parse((await tarnCli(home, 'run', '--dry-run', '-p', dir, '--json')).stdout)
    expect(dryJson.createsNamespaces).toEqual(['report'])
    const r = await tarnCli(home, 'run', '-p', dir, '--json')
    expect(r.exit).toBe(0)
    expect(JSON.parse(r.stdout).summary.tables).toEqual({ 'report.busy_zones': 2 })
    const q = await tarnCli(home, 'query', 'SELECT count(*) AS n FROM report.busy_zones', '--format', 'csv')
    expect(q.stdout).toContain('2')
    const again = JSON.parse((await tarnCli(home, 'run', '--dry-run', '-p', dir, '--json')).stdout)
    expect(again.createsNamespaces).toEqual([])
    const unqualified = await tarnCli(home, 'query', 'SELECT * FROM busy_zones', '--json')
    expect(unqualified.exit).toBe(3)
    const err = JSON.parse(unqualified.stdout).error as {
      message: string
      context: { suggestions: string[] }
    }
    expect(err.message).toContain('table busy_zones does not exist at main (did you mean report.busy_zones?)')
    expect(err.context.suggestions).toEqual(['report.busy_zones'])
  })

  it('an unqualified name that is a table of another namespace fails planning with the qualified names to use', async () => {
    const dir = writeProject({
      'tarn_project.yml': 'name: r\nnamespace: report\n',
      'm.sql': '-- tarn: materialize=REPLACE\nSELECT *\nFROM zones\n',
    })
    const before = await lakeFootprint(home)
    const r = await tarnCli(home, 'run', '-p', dir, '--json')
    expect(r.exit).toBe(3)
    const e = JSON.parse(r.stdout).error as {
      code: string
      message: string
      context: { suggestions: string[] }
    }
    expect(e.code).toBe('TABLE_NOT_FOUND')
    expect(e.message).toMatch(/^m\.sql:3: model m reads table report\.zones, which does not exist/)
    expect(e.message).toContain('did you mean tarn.zones?')
    expect(e.context.suggestions).toEqual(['tarn.zones'])
    expect(await lakeFootprint(home)).toEqual(before)
  })
})

describe('run errors name the user’s model or expectation, never tarn’s internal SQL', () => {
  let home: string
  beforeAll(async () => {
    ensureBuilt()
    home = await zonesLake()
  })

  it('an expectation input naming a column the model lacks names the expectation and its file:line', async () => {
    const dir = writeProject({
      'tarn_project.yml': 'name: t\n',
      'm.sql': 'SELECT zone_id FROM zones\n',
      'checks.ts': [
        "import { expectation, input } from 'tarn'",
        '',
        'export const hasNames = expectation(',
        "  { inputs: { m: input('m', { columns: ['zone_name'] }) } },",
        '  async ({ m }) => m.numRows > 0,',
        ')',
        '',
      ].join('\n'),
    })
    const r = await tarnCli(home, 'run', '-p', dir, '--json')
    expect(r.exit).toBe(5)
    const e = JSON.parse(r.stdout).error as {
      code: string
      message: string
      context: Record<string, unknown>
    }
    expect(e.message).toMatch(
      /expectation hasNames failed at checks\.ts:4: cannot read its input m: .*zone_name/,
    )
    expect(e.message).not.toMatch(/read_parquet|CREATE VIEW|cache\/runs/)
    expect(e.context).toMatchObject({ expectation: 'hasNames', file: 'checks.ts', line: 4, input: 'm' })
  })

  it('a SQL model failing at run time shows the model, its file:line and its own SQL, not the COPY tarn wraps it in', async () => {
    const dir = writeProject({
      'tarn_project.yml': 'name: t\n',
      'boom.sql': '-- tarn: materialize=REPLACE\nSELECT CAST(zone_name AS INTEGER) AS n FROM zones\n',
    })
    const lake = await Lake.open({ home })
    const before = (await lake.getBranch('main')).head
    await lake.close()
    const r = await tarnCli(home, 'run', '-p', dir, '--json')
    expect(r.exit).toBe(5)
    const e = JSON.parse(r.stdout).error as { message: string; context: Record<string, unknown> }
    expect(e.message).toMatch(/model boom failed at boom\.sql:1: Conversion Error/)
    expect(e.message).not.toMatch(/COPY|read_parquet|scratch/)
    expect(e.context.sql).toContain('SELECT CAST(zone_name AS INTEGER) AS n FROM zones')
    expect((await lakeFootprint(home)).head).toBe(before)
  })
})
