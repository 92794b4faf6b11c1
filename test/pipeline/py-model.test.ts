import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSqlParser, type SqlParser } from '../../src/pipeline/index.js'
import type { ParamEnv } from '../../src/pipeline/param-env.js'
import { loadPyModels } from '../../src/pipeline/py-model.js'

const env: ParamEnv = {
  parameters: [{ name: 'min_fare', type: 'number', default: 0, required: false, description: null, line: 3 }],
  values: { min_fare: 2 },
}

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-py-plan-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

const STATS = `import tarn
import a_package_that_is_not_installed

@tarn.model(materialize="REPLACE", partitioned_by=["zone"])
@tarn.python("3.11", pip={"polars": "1.*"})
def zone_stats(trips=tarn.Model("trips_clean", columns=["zone", "fare"], filter="fare > $min_fare"), ctx=None):
    import polars as pl
    return pl.from_arrow(trips).group_by("zone").agg(pl.col("fare").mean())


@tarn.expectation()
def fares_positive(stats=tarn.Model("zone_stats", columns=["fare"]), low=tarn.Param("min_fare", 0)):
    return tarn.expect.column_between(stats, "fare", low=low)
`

describe('Python models, read without running them', () => {
  let parser: SqlParser
  beforeAll(async () => {
    parser = await openSqlParser()
  })
  afterAll(() => parser.close())

  it('reads models and expectations with their inputs, pushed filters, options and environment', async () => {
    const dir = project({ 'stats.py': STATS })
    const { models, expectations } = await loadPyModels(parser, env, dir, ['stats.py'], 'tarn')
    const [model] = models
    const [check] = expectations
    expect(model).toMatchObject({
      kind: 'py',
      name: 'zone_stats',
      file: 'stats.py',
      line: 6,
      inputs: [
        {
          alias: 'trips',
          table: 'trips_clean',
          columns: ['zone', 'fare'],
          filter: 'fare > 2',
          filterColumns: ['fare'],
        },
      ],
      materialize: 'REPLACE',
      python: { version: '3.11', pip: { polars: '1.*' }, contextArg: 'ctx', paramArgs: {} },
      params: ['min_fare'],
    })
    expect(check).toMatchObject({ name: 'fares_positive', python: { paramArgs: { low: 'min_fare' } } })
  })

  it('refuses a decorator argument that is not a literal, naming file and line', async () => {
    const dir = project({
      'bad.py':
        'import tarn\nM = "REPLACE"\n\n@tarn.model(materialize=M)\ndef m(t=tarn.Model("x")):\n    return t\n',
    })
    await expect(loadPyModels(parser, env, dir, ['bad.py'], 'tarn')).rejects.toMatchObject({
      code: 'PROJECT_INVALID',
      message:
        'bad.py:4: option materialize of @tarn.model of m is not a literal: tarn reads it without running the file',
    })
  })

  it('refuses a filter DuckDB cannot parse and an unknown materialization', async () => {
    const dir = project({
      'f.py': 'import tarn\n\n@tarn.model()\ndef m(t=tarn.Model("x", filter="fare >")):\n    return t\n',
      'g.py': 'import tarn\n\n@tarn.model(materialize="MERGE")\ndef g(t=tarn.Model("x")):\n    return t\n',
    })
    await expect(loadPyModels(parser, env, dir, ['f.py'], 'tarn')).rejects.toMatchObject({
      code: 'INVALID_FILTER',
    })
    await expect(loadPyModels(parser, env, dir, ['g.py'], 'tarn')).rejects.toThrow(/g\.py:3:.*MERGE/)
  })
})
