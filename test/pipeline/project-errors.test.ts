import { describe, expect, it } from 'vitest'
import {
  buildLogicalPlan,
  loadProject,
  parseProjectFile,
  planProject,
  validatePlan,
} from '../../src/pipeline/index.js'
import { PROJECT_YML, rejection, thrown, writeProject } from './project-dir.js'

const LAKE = {
  tables: {
    'tarn.trips': { columns: ['ts', 'zone', 'fare'], partitionColumns: [] },
    'tarn.zones': { columns: ['zone', 'name'], partitionColumns: [] },
  },
}

describe('project validation errors name the file and the line', () => {
  it('names every model on a cycle, with the line of each reference', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'a.sql': 'SELECT *\nFROM c',
      'b.sql': '-- reads a\nSELECT * FROM a',
      'c.sql': 'SELECT *\n\nFROM b JOIN trips USING (zone)',
      'd.sql': 'SELECT * FROM a',
    })
    const e = await rejection(loadProject(dir))
    expect(e.code).toBe('MODEL_CYCLE')
    expect(e.context.cycle).toEqual(['a', 'b', 'c'])
    expect(e.message).toContain('a -> b -> c -> a')
    expect(e.message).toMatch(/^b\.sql:2: /)
    expect(e.message).toContain('b reads a at b.sql:2')
    expect(e.message).toContain('c reads b at c.sql:3')
    expect(e.message).toContain('a reads c at a.sql:2')
    expect(e.context).toMatchObject({ file: 'b.sql', line: 2, model: 'b' })
  })

  it('finds a cycle through a TS model', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'a.sql': 'SELECT * FROM b',
      'b.ts':
        "import { input, model } from 'tarn'\n\nexport const b = model(\n  { inputs: { a: input('a') } },\n  async ({ a }) => a,\n)\n",
    })
    const e = await rejection(loadProject(dir))
    expect(e.code).toBe('MODEL_CYCLE')
    expect(e.context.cycle).toEqual(['a', 'b'])
    expect(e.message).toContain('b reads a at b.ts:4')
  })

  it('reports an unknown $parameter in a SQL model at its line', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'm.sql':
        "-- tarn: materialize=REPLACE\nSELECT *\nFROM trips\nWHERE fare > $min_fare AND zone = $zone_id AND note = '$not_a_param'",
    })
    const e = await rejection(loadProject(dir))
    expect(e.code).toBe('UNKNOWN_PARAMETER')
    expect(e.message).toMatch(/^m\.sql:4: unknown parameter \$zone_id/)
    expect(e.context).toMatchObject({ file: 'm.sql', line: 4, model: 'm', parameter: 'zone_id' })
  })

  it('reports an unknown parameter read through ctx.params in a TS model', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'm.ts': [
        "import { model } from 'tarn'",
        'export const m = model({}, async (_inputs, ctx) => {',
        '  const a = ctx.params.min_fare',
        "  return [{ a, b: ctx.params['max_fare'] }]",
        '})',
      ].join('\n'),
    })
    const e = await rejection(loadProject(dir))
    expect(e.code).toBe('UNKNOWN_PARAMETER')
    expect(e.context).toMatchObject({ file: 'm.ts', line: 4, parameter: 'max_fare' })
  })

  it('reports an unknown --param against tarn_project.yml', async () => {
    const dir = writeProject({ 'tarn_project.yml': PROJECT_YML, 'm.sql': 'SELECT 1 AS x' })
    const e = await rejection(loadProject(dir, { params: { colour: 'red' } }))
    expect(e.code).toBe('UNKNOWN_PARAMETER')
    expect(e.context).toMatchObject({ file: 'tarn_project.yml', parameter: 'colour' })
  })

  it('reports a missing required parameter at its declaration', async () => {
    const dir = writeProject({
      'tarn_project.yml':
        'name: t\nparameters:\n  min_fare:\n    type: number\n    default: 1\n  run_date:\n    type: date\n    required: true\n',
      'm.sql': 'SELECT * FROM trips WHERE ts >= $run_date',
    })
    const e = await rejection(loadProject(dir))
    expect(e.code).toBe('MISSING_PARAMETER')
    expect(e.message).toMatch(/^tarn_project\.yml:6: parameter run_date is required/)
    expect(e.context).toMatchObject({ file: 'tarn_project.yml', line: 6, parameter: 'run_date' })
    const ok = await loadProject(dir, { params: { run_date: '2026-01-02' } })
    expect(ok.models[0]?.sql).toBe("SELECT * FROM trips WHERE ts >= DATE '2026-01-02'")
    const bad = await rejection(loadProject(dir, { params: { run_date: 'yesterday' } }))
    expect(bad.code).toBe('INVALID_PARAMETER')
  })

  it('reports a model defined in a .sql file and a .ts file, naming both places', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'models/zone_fares.sql': 'SELECT zone, fare FROM trips',
      'zone_fares.ts':
        "import { input, model } from 'tarn'\n\n\nexport const zone_fares = model({ inputs: { t: input('trips') } }, ({ t }) => t)\n",
    })
    const e = await rejection(loadProject(dir))
    expect(e.code).toBe('DUPLICATE_MODEL')
    expect(e.message).toMatch(
      /^zone_fares\.ts:4: model zone_fares is already defined at models\/zone_fares\.sql:1/,
    )
    expect(e.context).toMatchObject({
      file: 'zone_fares.ts',
      line: 4,
      model: 'zone_fares',
      otherFile: 'models/zone_fares.sql',
      otherLine: 1,
    })
  })

  it('reports a model that shadows a lake table it also reads', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'trips.sql': '-- tarn: materialize=REPLACE\nSELECT *\nFROM trips\nWHERE fare > 0',
    })
    const plan = buildLogicalPlan(await loadProject(dir))
    const e = thrown(() => validatePlan(plan, LAKE))
    expect(e.code).toBe('MODEL_SHADOWS_TABLE')
    expect(e.message).toMatch(/^trips\.sql:3: model trips reads lake table tarn\.trips, which it also writes/)
    expect(e.context).toMatchObject({ file: 'trips.sql', line: 3, model: 'trips', table: 'tarn.trips' })
  })

  it('lets a model in another namespace read the lake table of its own name', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'trips.sql': '-- tarn: materialize=REPLACE\n-- tarn: namespace=staging\nSELECT * FROM trips',
    })
    const { logical } = await planProject(dir, { lake: LAKE })
    expect(logical.nodes[0]?.table).toBe('staging.trips')
    expect(logical.nodes[0]?.inputs[0]?.source).toEqual({
      kind: 'table',
      table: 'tarn.trips',
      self: false,
      fromModel: null,
    })
  })

  it('reports an input table missing at the ref, for SQL and TS models', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'a.sql': 'SELECT *\nFROM trips\nJOIN sales.customers USING (zone)',
      'b.ts':
        "import { input, model } from 'tarn'\nexport const b = model(\n  {\n    inputs: { w: input('weather', { columns: ['day'] }) },\n  },\n  ({ w }) => w,\n)\n",
    })
    const e = await rejection(planProject(dir, { ref: 'dev', lake: LAKE }))
    expect(e.code).toBe('TABLE_NOT_FOUND')
    expect(e.message).toBe('a.sql:3: model a reads table sales.customers, which does not exist at dev')
    expect(e.context).toMatchObject({
      file: 'a.sql',
      line: 3,
      model: 'a',
      table: 'sales.customers',
      ref: 'dev',
    })
    const withCustomers = {
      tables: { ...LAKE.tables, 'sales.customers': { columns: ['zone'], partitionColumns: [] } },
    }
    const e2 = await rejection(planProject(dir, { lake: withCustomers }))
    expect(e2.context).toMatchObject({ file: 'b.ts', line: 4, model: 'b', table: 'tarn.weather' })
  })

  it('reports an overwrite filter over non-partition columns at the header line', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'daily.sql': [
        '-- tarn: materialize=OVERWRITE_PARTITIONS',
        '-- tarn: partitionedBy=day(ts), zone',
        "-- tarn: overwriteFilter=ts >= DATE '2026-01-01' AND fare > $min_fare",
        'SELECT ts, zone, fare FROM trips',
      ].join('\n'),
    })
    const e = await rejection(planProject(dir, { lake: LAKE }))
    expect(e.code).toBe('INVALID_OVERWRITE_FILTER')
    expect(e.message).toContain('daily.sql:3: model daily: overwriteFilter')
    expect(e.message).toContain('non-partition column(s) fare')
    expect(e.context).toMatchObject({ file: 'daily.sql', line: 3, model: 'daily', columns: ['fare'] })
  })

  it('takes the partition columns of the existing table when the model declares none', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'daily.ts': [
        "import { input, model } from 'tarn'",
        'export const daily = model(',
        "  { inputs: { t: input('trips') }, materialize: 'OVERWRITE_PARTITIONS', overwriteFilter: 'zone = 3' },",
        '  ({ t }) => t,',
        ')',
      ].join('\n'),
    })
    const partitioned = (cols: string[]) => ({
      tables: { ...LAKE.tables, 'tarn.daily': { columns: ['ts', 'zone'], partitionColumns: cols } },
    })
    await expect(planProject(dir, { lake: partitioned(['zone']) })).resolves.toBeDefined()
    const e = await rejection(planProject(dir, { lake: partitioned(['ts']) }))
    expect(e.code).toBe('INVALID_OVERWRITE_FILTER')
    expect(e.context).toMatchObject({ file: 'daily.ts', line: 3, model: 'daily' })
    const none = await rejection(planProject(dir, { lake: LAKE }))
    expect(none.message).toContain('needs a partitioned table')
  })

  it('reports an OVERWRITE_PARTITIONS model without a filter and an unknown transform at their lines', async () => {
    const noFilter = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'd.sql': '-- a comment\n-- tarn: materialize=OVERWRITE_PARTITIONS\nSELECT 1 AS x',
    })
    const e = await rejection(loadProject(noFilter))
    expect(e.code).toBe('PROJECT_INVALID')
    expect(e.context).toMatchObject({ file: 'd.sql', line: 2, model: 'd' })
    const badTransform = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'd.sql': '-- tarn: materialize=REPLACE\n-- tarn: partitionedBy=week(ts)\nSELECT now() AS ts',
    })
    const e2 = await rejection(loadProject(badTransform))
    expect(e2.message).toMatch(/^d\.sql:2: .*unknown partition transform/)
  })

  it('reads parameters declared in full or as name: default, and defaults.namespace', () => {
    const f = parseProjectFile(
      [
        'name: t',
        'defaults:',
        '  namespace: marts',
        'parameters:',
        '  limit: 10',
        '  day: 2026-01-31',
        '  label: hello',
        '  strict:',
        '    type: boolean',
        '    default: false',
        '    description: fail on warnings',
      ].join('\n'),
    )
    expect(f.namespace).toBe('marts')
    expect(f.parameters.map((p) => [p.name, p.type, p.default, p.line])).toEqual([
      ['limit', 'number', 10, 5],
      ['day', 'date', '2026-01-31', 6],
      ['label', 'string', 'hello', 7],
      ['strict', 'boolean', false, 8],
    ])
    expect(f.parameters[3]?.description).toBe('fail on warnings')
  })

  it('reports invalid project files at their line', async () => {
    const cases: [string, RegExp][] = [
      ['name: t\ncolour: blue\n', /^tarn_project\.yml:2: unknown key colour/],
      [
        'name: t\nparameters:\n  x:\n    type: float\n',
        /^tarn_project\.yml:4: parameter x: unknown type "float"/,
      ],
      [
        'name: t\nparameters:\n  x:\n    type: integer\n    default: 1.5\n',
        /^tarn_project\.yml:5: parameter x: default 1.5/,
      ],
      ['name: t\nparameters: [1,\n', /^tarn_project\.yml:\d+: not valid YAML/],
      ['parameters: {}\n', /^tarn_project\.yml:1: missing name/],
    ]
    for (const [yml, message] of cases) {
      const e = await rejection(loadProject(writeProject({ 'tarn_project.yml': yml })))
      expect(e.code).toBe('PROJECT_INVALID')
      expect(e.message).toMatch(message)
    }
    const none = await rejection(loadProject(writeProject({ 'm.sql': 'SELECT 1' })))
    expect(none.code).toBe('PROJECT_NOT_FOUND')
  })

  it('reports SQL syntax errors and unknown header keys at their line', async () => {
    const syntax = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'm.sql': '-- tarn: materialize=REPLACE\nSELECT *\nFROM trips WHERE\n',
    })
    const e = await rejection(loadProject(syntax))
    expect(e.code).toBe('PROJECT_INVALID')
    expect(e.context).toMatchObject({ file: 'm.sql', model: 'm' })
    expect(e.message).toMatch(/^m\.sql:\d+: model m: .*syntax error/)
    const header = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'm.sql': '-- tarn: materialize=REPLACE\n-- tarn: colour=red\nSELECT 1',
    })
    expect((await rejection(loadProject(header))).message).toMatch(/^m\.sql:2: unknown header key colour/)
  })
})
