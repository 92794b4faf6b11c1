import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadProject, planProject } from '../../src/pipeline/index.js'
import { expectation, input, model } from '../../src/pipeline/sdk.js'
import { PROJECT_YML, rejection, writeProject } from './project-dir.js'

describe('TS models, read statically with the TypeScript compiler', () => {
  it('never runs user code while loading and planning, even with top-level side effects', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'side.ts': [
        "import { writeFileSync } from 'node:fs'",
        "import { input, model } from 'tarn'",
        "writeFileSync(new URL('./MARKER', import.meta.url), 'module ran')",
        'export const side = model(',
        "  { inputs: { t: input('trips', { columns: ['fare'] }) } },",
        '  async ({ t }) => {',
        "    writeFileSync(new URL('./FN_MARKER', import.meta.url), 'model ran')",
        '    return t',
        '  },',
        ')',
      ].join('\n'),
    })
    const { physical } = await planProject(dir, {
      lake: { tables: { 'tarn.trips': { columns: ['fare'], partitionColumns: [] } } },
    })
    expect(physical.steps.map((s) => s.id)).toEqual(['scan:tarn.trips', 'model:side'])
    expect(existsSync(join(dir, 'MARKER'))).toBe(false)
    expect(existsSync(join(dir, 'FN_MARKER'))).toBe(false)
  })

  it('reads TypeScript syntax, aliased and namespace imports, top-level consts and export lists', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'models.ts': [
        "import * as tarn from 'tarn'",
        "import { input as from, model as defineModel, type ModelContext } from 'tarn'",
        '',
        'interface Row { zone: number; fare: number }',
        "const FARE_COLUMNS = ['zone', 'fare'] as const",
        "const trips = from('trips', { columns: FARE_COLUMNS, filter: 'fare > $min_fare' })",
        '',
        'export const zone_fares = defineModel(',
        '  {',
        '    inputs: { trips },',
        "    materialize: 'REPLACE' satisfies string,",
        "    partitionedBy: ['zone', 'day(ts)'],",
        "    packages: { arquero: '^8.0.0' },",
        "    memory: '1GB',",
        "    timeout: '5m',",
        "    tags: ['daily'],",
        "    namespace: 'marts',",
        '  },',
        '  async ({ trips }, ctx: ModelContext): Promise<Row[]> => {',
        '    const { min_fare } = ctx.params',
        '    return trips.toArray().filter((r: Row) => r.fare > Number(min_fare))',
        '  },',
        ')',
        '',
        'const big = tarn.expectation(',
        "  { inputs: { f: tarn.input('zone_fares', { columns: ['fare'] }) }, description: 'rows exist' },",
        '  ({ f }) => f.numRows > 0,',
        ')',
        'export { big as has_rows }',
      ].join('\n'),
    })
    const project = await loadProject(dir, { params: { min_fare: '1.5' } })
    const [m] = project.models
    expect(m).toMatchObject({
      kind: 'ts',
      name: 'zone_fares',
      file: 'models.ts',
      line: 8,
      namespace: 'marts',
      materialize: 'REPLACE',
      memory: '1GB',
      timeout: '5m',
      tags: ['daily'],
      packages: { arquero: '^8.0.0' },
      params: ['min_fare'],
    })
    expect(m?.partitionedBy.map((p) => p.text)).toEqual(['zone', 'day(ts)'])
    expect(m?.inputs).toEqual([
      {
        alias: 'trips',
        table: 'trips',
        columns: ['zone', 'fare'],
        filter: 'fare > 1.5',
        filterColumns: ['fare'],
        line: 6,
      },
    ])
    expect(project.expectations).toEqual([
      {
        name: 'has_rows',
        file: 'models.ts',
        line: 25,
        inputs: [
          { alias: 'f', table: 'zone_fares', columns: ['fare'], filter: null, filterColumns: [], line: 26 },
        ],
        tags: [],
        description: 'rows exist',
        params: [],
      },
    ])
  })

  it('gives a file read again unchanged the same definitions, and reads it again when its text or a parameter changes', async () => {
    const source = (column: string) =>
      [
        "import { input, model } from 'tarn'",
        `export const cheap = model({ inputs: { t: input('trips', { columns: ['${column}'], filter: 'fare > $min_fare' }) } }, async ({ t }) => t)`,
      ].join('\n')
    const dir = writeProject({ 'tarn_project.yml': PROJECT_YML, 'cheap.ts': source('fare') })
    const first = await loadProject(dir, { params: { min_fare: '1.5' } })
    const again = await loadProject(dir, { params: { min_fare: '1.5' } })
    expect(again.models[0]).toBe(first.models[0])
    const other = await loadProject(dir, { params: { min_fare: '2.5' } })
    expect(other.models[0]?.inputs[0]?.filter).toBe('fare > 2.5')
    writeFileSync(join(dir, 'cheap.ts'), source('zone'))
    const changed = await loadProject(dir, { params: { min_fare: '1.5' } })
    expect(changed.models[0]?.inputs[0]?.columns).toEqual(['zone'])
  })

  it('refuses configs it cannot resolve statically, naming the file and line', async () => {
    const cases: [string[], RegExp][] = [
      [
        [
          "import { input, model } from 'tarn'",
          'export const m = model({',
          "  materialize: process.env.MODE ?? 'NONE',",
          '}, () => [])',
        ],
        /^m\.ts:3: not statically resolvable: process\.env\.MODE/,
      ],
      [
        [
          "import { input, model } from 'tarn'",
          "const cols = ['a']",
          'export const m = model({',
          "  inputs: { t: input('trips', { columns: [...cols, 'b'] }) },",
          '}, () => [])',
        ],
        /^m\.ts:4: not statically resolvable: spread/,
      ],
      [
        [
          "import { input, model } from 'tarn'",
          "for (const t of ['a', 'b']) {",
          '  model({ inputs: { x: input(t) } }, () => [])',
          '}',
        ],
        /^m\.ts:3: model\(\.\.\.\) must be the value of a top-level `export const/,
      ],
      [
        ["import { model } from 'tarn'", '', 'const hidden = model({}, () => [])'],
        /^m\.ts:3: model hidden is not exported/,
      ],
      [
        ["import { model } from 'tarn'", "export const m = model({ colour: 'red' }, () => [])"],
        /^m\.ts:2: model m: unknown config key colour/,
      ],
      [
        ["import { model } from 'tarn'", "export const m = model({ materialize: 'MERGE' }, () => [])"],
        /^m\.ts:2: model m: unknown materialization "MERGE"/,
      ],
      [
        [
          "import { model } from 'tarn'",
          'export const m = model({',
          '  inputs: {',
          "    t: { table: 'trips' },",
          '  },',
          '}, () => [])',
        ],
        /^m\.ts:4: m: inputs\.t must be input/,
      ],
      [["import { model } from 'tarn'", 'export const m = model({}, () => [)'], /^m\.ts:2: /],
    ]
    for (const [lines, message] of cases) {
      const e = await rejection(
        loadProject(writeProject({ 'tarn_project.yml': PROJECT_YML, 'm.ts': lines.join('\n') })),
      )
      expect(e.code).toBe('PROJECT_INVALID')
      expect(e.message).toMatch(message)
      expect(e.context.file).toBe('m.ts')
    }
  })

  it('reports a bad input filter as INVALID_FILTER at the input’s line', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'm.ts':
        "import { input, model } from 'tarn'\nexport const m = model(\n  { inputs: { t: input('trips', { filter: 'zone IN (SELECT 1)' }) } },\n  ({ t }) => t,\n)\n",
    })
    const e = await rejection(loadProject(dir))
    expect(e.code).toBe('INVALID_FILTER')
    expect(e.context).toMatchObject({ file: 'm.ts', line: 3, model: 'm', table: 'trips' })
  })

  it('reads models written in plain JavaScript, and skips scripts that do not import tarn', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'fares.mjs': [
        "import { input, model } from 'tarn'",
        '',
        'export const fares = model(',
        "  { inputs: { t: input('trips', { columns: ['fare'], filter: 'fare > $min_fare' }) }, materialize: 'APPEND' },",
        '  async ({ t }, ctx) => t,',
        ')',
      ].join('\n'),
      'scripts/generate.mjs': "import { writeFileSync } from 'node:fs'\nwriteFileSync('x', 'y')\n",
    })
    const [m] = (await loadProject(dir)).models
    expect(m).toMatchObject({ kind: 'ts', name: 'fares', file: 'fares.mjs', line: 3, materialize: 'APPEND' })
    expect(m?.inputs[0]?.filter).toBe('fare > 0')
  })

  it('points config errors at the line of the property', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'm.ts': [
        "import { input, model } from 'tarn'",
        'export const m = model(',
        '  {',
        "    inputs: { t: input('trips') },",
        "    materialize: 'REPLACE',",
        "    partitionedBy: ['week(ts)'],",
        '  },',
        '  ({ t }) => t,',
        ')',
      ].join('\n'),
    })
    const e = await rejection(loadProject(dir))
    expect(e.message).toMatch(/^m\.ts:6: model m: unknown partition transform/)
  })

  it('ignores .ts helper files that declare no models', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'lib/util.ts': 'export const double = (x: number): number => x * 2\n',
      'types.d.ts': 'declare const x: number\n',
      'm.sql': 'SELECT 1 AS one',
    })
    expect((await loadProject(dir)).models.map((m) => m.name)).toEqual(['m'])
  })

  it('gives the SDK functions plain, frozen descriptors and keeps the function uncalled', () => {
    let called = false
    const spec = input('trips', { columns: ['fare'], filter: 'fare > 0' })
    expect(spec).toEqual({ kind: 'tarn.input', table: 'trips', columns: ['fare'], filter: 'fare > 0' })
    const m = model({ inputs: { trips: spec }, materialize: 'REPLACE' }, ({ trips }) => {
      called = true
      return trips
    })
    expect(m.kind).toBe('tarn.model')
    expect(m.config.materialize).toBe('REPLACE')
    expect(Object.isFrozen(m)).toBe(true)
    const e = expectation({ inputs: { trips: spec } }, ({ trips }) => trips.numRows > 0)
    expect(e.kind).toBe('tarn.expectation')
    expect(called).toBe(false)
  })
})
