import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  analyzeFilter,
  analyzeSql,
  conjuncts,
  findParams,
  loadProject,
  mergeFilters,
  openSqlParser,
  parseSqlHeader,
  planProject,
  type SqlParser,
  substituteParams,
} from '../../src/pipeline/index.js'
import { PROJECT_YML, writeProject } from './project-dir.js'

describe('SQL models, read with DuckDB’s parser', () => {
  let parser: SqlParser
  beforeAll(async () => {
    parser = await openSqlParser()
  })
  afterAll(() => parser.close())

  it('does not take CTE names for tables, in any scope', async () => {
    const sql = [
      'WITH recent AS (SELECT * FROM trips WHERE ts > now() - INTERVAL 1 DAY),',
      '     by_zone AS (SELECT zone, count(*) AS n FROM recent GROUP BY zone)',
      'SELECT b.*, z.name',
      'FROM by_zone b',
      'JOIN tarn.zones z USING (zone)',
      'WHERE zone IN (WITH inner_cte AS (SELECT zone FROM sales.hot_zones) SELECT zone FROM inner_cte)',
    ].join('\n')
    const a = await analyzeSql(parser, sql, 'm.sql', 'm')
    expect(a.tables).toEqual([
      { namespace: null, name: 'trips', line: 1 },
      { namespace: 'tarn', name: 'zones', line: 5 },
      { namespace: 'sales', name: 'hot_zones', line: 6 },
    ])
    expect(a.columnUse.star).toBe(true)
  })

  it('reads a table named like a CTE outside the CTE’s scope', async () => {
    const a = await analyzeSql(
      parser,
      'SELECT * FROM (WITH x AS (SELECT 1 AS v) SELECT * FROM x) JOIN x USING (v)',
      'm.sql',
      'm',
    )
    expect(a.tables.map((t) => t.name)).toEqual(['x'])
  })

  it('keeps a model query without its trailing semicolons and comments, and semicolons inside strings and names', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'a.sql': 'SELECT \'x;y\' AS "s;t", id FROM trips ;; -- done\n/* really */\n',
      'b.sql': '-- tarn: materialize=REPLACE\nSELECT id FROM trips',
    })
    const models = (await loadProject(dir)).models
    expect(models.find((m) => m.name === 'a')?.sql).toBe('SELECT \'x;y\' AS "s;t", id FROM trips')
    expect(models.find((m) => m.name === 'b')?.sql).toBe('-- tarn: materialize=REPLACE\nSELECT id FROM trips')
  })

  it('parses queries without running them: failing functions plan fine', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'm.sql': "SELECT error('ran!') AS boom, * FROM range(3) AS r(id) JOIN trips USING (id)",
    })
    const [m] = (await loadProject(dir)).models
    expect(m?.inputs.map((i) => i.table)).toEqual(['trips'])
  })

  it('keeps a BIGINT literal above 2^53 exact through parsing and the pushed-down filter', async () => {
    const a = await analyzeSql(parser, 'SELECT * FROM trips WHERE id = 9007199254740993', 'm.sql', 'm')
    expect(a.wheres.trips?.filter).toBe('id = 9007199254740993')
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'm.sql': 'SELECT * FROM trips WHERE id = 9007199254740993 AND fare > $min_fare',
    })
    const { physical } = await planProject(dir, {
      lake: { tables: { 'tarn.trips': { columns: ['id', 'fare'], partitionColumns: [] } } },
    })
    const scan = physical.scans.find((s) => s.table === 'tarn.trips')
    expect(scan?.filter).toContain('9007199254740993')
    expect(scan?.filter).not.toContain('9007199254740992')
  })

  it('lists the columns a query names, for scan pruning', async () => {
    const a = await analyzeSql(
      parser,
      'SELECT t.zone, sum(fare) AS f FROM trips t WHERE ts > 0 GROUP BY 1',
      'm.sql',
      'm',
    )
    expect(a.columnUse).toEqual({ star: false, names: ['fare', 'ts', 'zone'] })
  })

  it('pushes a WHERE applied right on a table into its scan, only when the query reads the table once', async () => {
    const once = await analyzeSql(
      parser,
      "WITH v AS (SELECT * FROM trips t WHERE t.fare > 2 AND zone = 'A AND B') SELECT * FROM v JOIN zones USING (zone) WHERE name <> ''",
      'm.sql',
      'm',
    )
    expect(once.wheres).toEqual({
      trips: { filter: '(fare > 2) AND ("zone" = \'A AND B\')', columns: ['fare', 'zone'] },
    })
    const twice = await analyzeSql(
      parser,
      'SELECT * FROM trips WHERE fare > 2 UNION ALL SELECT * FROM trips',
      'm.sql',
      'm',
    )
    expect(twice.wheres).toEqual({})
    const sub = await analyzeSql(
      parser,
      'SELECT * FROM trips WHERE zone IN (SELECT zone FROM zones)',
      'm.sql',
      'm',
    )
    expect(sub.wheres).toEqual({})
  })

  it('merges scan filters: one unfiltered reader reads all, an implied filter gives way to the weaker one', () => {
    expect(conjuncts("(fare >= 2.5) AND (zone = 'A AND B') and x")).toEqual([
      'fare >= 2.5',
      "zone = 'A AND B'",
      'x',
    ])
    expect(mergeFilters(['fare > 1', null])).toBeNull()
    expect(mergeFilters(['(fare > 1) AND (zone = 2)', 'fare  >  1'])).toBe('fare  >  1')
    expect(mergeFilters(['zone = 1', 'zone = 2', 'zone = 1'])).toBe('(zone = 1) OR (zone = 2)')
  })

  it('finds $parameters outside strings, quoted names and comments', () => {
    const sql = 'SELECT \'$a\', "$b", $c -- $d\n/* $e */ FROM t WHERE x = $$ $f $$ AND y = $g'
    expect(findParams(sql).map((p) => [p.name, p.line])).toEqual([
      ['c', 1],
      ['g', 2],
    ])
    expect(
      substituteParams(
        'x > $min AND s = $name AND d = $day AND b = $flag',
        { min: 2.5, name: "O'Hare", day: '2026-01-01', flag: true },
        { day: 'date' },
      ),
    ).toBe("x > 2.5 AND s = 'O''Hare' AND d = DATE '2026-01-01' AND b = TRUE")
  })

  it('parses header lines for materialisation, partitioning, name and tags', () => {
    const h = parseSqlHeader(
      [
        '-- a description',
        '-- tarn: materialization=append',
        '-- tarn: partitioned_by=bucket(16, zone), month(ts)',
        '-- tarn: name=renamed',
        '-- tarn: tags=daily, finance',
        'SELECT 1',
      ].join('\n'),
      'm.sql',
    )
    expect(h.name).toEqual({ value: 'renamed', line: 4 })
    expect(h.options.materialize).toEqual({ value: 'append', line: 2 })
    expect(h.options.partitionedBy).toEqual({ value: ['bucket(16, zone)', 'month(ts)'], line: 3 })
    expect(h.options.tags).toEqual({ value: ['daily', 'finance'], line: 5 })
  })

  it('loads a model named by its header, with Iceberg transforms and substituted parameters', async () => {
    const dir = writeProject({
      'tarn_project.yml': PROJECT_YML,
      'sub/fares.sql': [
        '-- tarn: name=fares_by_zone',
        '-- tarn: materialize=APPEND',
        '-- tarn: partitionedBy=zone, hour(ts), bucket[8](id)',
        'SELECT id, ts, zone, fare FROM trips WHERE fare > $min_fare',
      ].join('\n'),
    })
    const [m] = (await loadProject(dir, { params: { min_fare: '3' } })).models
    expect(m?.name).toBe('fares_by_zone')
    expect(m?.file).toBe('sub/fares.sql')
    expect(m?.materialize).toBe('APPEND')
    expect(m?.partitionedBy.map((p) => [p.column, p.transform])).toEqual([
      ['zone', 'identity'],
      ['ts', 'hour'],
      ['id', 'bucket[8]'],
    ])
    expect(m?.sql?.endsWith('WHERE fare > 3')).toBe(true)
    expect(m?.params).toEqual(['min_fare'])
  })

  it('analyses filters: the columns they read, and no subqueries', async () => {
    expect(await analyzeFilter(parser, "fare > 2 AND t.zone = 'A'")).toEqual({
      ok: true,
      columns: ['fare', 'zone'],
    })
    expect((await analyzeFilter(parser, 'zone IN (SELECT zone FROM x)')).ok).toBe(false)
    expect((await analyzeFilter(parser, 'fare > 1 ORDER BY fare')).ok).toBe(false)
    expect((await analyzeFilter(parser, 'fare >')).ok).toBe(false)
  })
})
