import { cp, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerQueryCommands } from '../../src/cli/commands/query.js'
import { createContext } from '../../src/cli/context.js'
import { memoryIO } from '../../src/cli/io.js'
import { createTable, registerTable } from '../../src/iceberg/index.js'
import type { Lake } from '../../src/lake/lake.js'
import { isTarnError, type TarnError } from '../../src/util/errors.js'
import { FOREIGN_TABLES } from '../iceberg/helpers.js'
import { deps, putTable, tempLake } from './helpers.js'

let lake: Lake
let home: string
let cleanup: () => Promise<void>

beforeAll(async () => {
  ;({ lake, home, cleanup } = await tempLake())
  const created = await createTable(
    lake.store,
    {
      tableKey: 'tarn/sales',
      source: `SELECT range::BIGINT AS id, 'item, "' || range || '"' AS label, (range * 1.25)::DECIMAL(10, 2) AS price,
        DATE '2024-01-01' + range::INTEGER AS day, TIMESTAMP '2024-01-01 00:00:00.000001' AS ts FROM range(45)`,
      partitionBy: [{ column: 'day', transform: 'month' }],
    },
    deps,
  )
  await putTable(lake, 'tarn.sales', created)
  await cp(join(FOREIGN_TABLES, 'java'), join(fileURLToPath(lake.store.root), 'foreign', 'java'), {
    recursive: true,
  })
  const bunnies = await registerTable(
    lake.store,
    lake.store.uriOf('foreign/java/bunnies/metadata/v5.metadata.json'),
    { allowMovedPaths: true },
  )
  await putTable(lake, 'tarn.bunnies', bunnies)
})
afterAll(async () => cleanup())

async function tarn(...args: string[]): Promise<{ out: string; err: string; error?: TarnError }> {
  const io = memoryIO({ TARN_HOME: home }, home)
  const ctx = createContext(io)
  const program = new Command('tarn').exitOverride()
  registerQueryCommands(program, ctx)
  try {
    await program.parseAsync(args, { from: 'user' })
    return { out: io.stdout(), err: io.stderr() }
  } catch (e) {
    if (!isTarnError(e)) throw e
    return { out: io.stdout(), err: io.stderr(), error: e }
  } finally {
    await ctx.close()
  }
}

describe('tarn query', () => {
  it('prints a schema and rows table with 10 rows by default and the row count', async () => {
    const { out } = await tarn('query', 'SELECT id, price, day, ts FROM sales ORDER BY id')
    const lines = out.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^id\s+price\s+day\s+ts$/)
    expect(lines[1]).toMatch(/^BIGINT\s+DECIMAL\(10,2\)\s+DATE\s+TIMESTAMP$/)
    expect(lines[3]).toMatch(/^0\s+0\.00\s+2024-01-01\s+2024-01-01 00:00:00\.000001$/)
    expect(lines).toHaveLength(3 + 10 + 1)
    expect(lines.at(-1)).toBe('(more than 10 rows, 10 shown; use --max-rows N or --all-rows)')
  })

  it('prints every row with --all-rows and the chosen number with --max-rows', async () => {
    expect(
      (await tarn('query', 'SELECT id FROM sales', '--all-rows')).out.trimEnd().split('\n'),
    ).toHaveLength(3 + 45 + 1)
    const three = await tarn('query', 'SELECT id FROM sales ORDER BY id', '--max-rows', '3')
    expect(three.out.trimEnd().split('\n').slice(3)).toEqual([
      '0',
      '1',
      '2',
      '(more than 3 rows, 3 shown; use --max-rows N or --all-rows)',
    ])
  })

  it('prints CSV with quoting and JSON with exact numbers', async () => {
    const csv = await tarn('query', 'SELECT id, label, price FROM sales WHERE id = 3', '--format', 'csv')
    expect(csv.out).toBe('id,label,price\n3,"item, ""3""",3.75\n')
    const json = await tarn(
      'query',
      'SELECT id, price, day FROM sales WHERE id < 2 ORDER BY id',
      '--format',
      'json',
    )
    expect(JSON.parse(json.out)).toEqual([
      { id: 0, price: 0, day: '2024-01-01' },
      { id: 1, price: 1.25, day: '2024-01-02' },
    ])
  })

  it('prints one JSON document with --json', async () => {
    const { out } = await tarn('query', 'SELECT count(*) AS n FROM sales', '--json', '-r', 'main')
    const doc = JSON.parse(out)
    expect(doc.columns).toEqual([{ name: 'n', type: 'BIGINT' }])
    expect(doc.rows).toEqual([{ n: 45 }])
    expect(doc.rowCount).toBe(1)
    expect(doc.ref).toBe('main')
  })

  it('reads the SQL from a file with -f', async () => {
    await writeFile(join(home, 'q.sql'), 'SELECT max(id) AS m FROM tarn.sales\n')
    const { out } = await tarn('query', '-f', 'q.sql', '--format', 'csv')
    expect(out).toBe('m\n44\n')
  })

  it('prints the scan plan with --explain without running the query', async () => {
    const { out } = await tarn('query', "SELECT id FROM sales WHERE day >= '2024-02-01'", '--explain')
    expect(out).toMatch(/^query at main \(commit [0-9a-f]{12}\)\nscan tarn\.sales \(as sales\)\n/)
    expect(out).toMatch(/files {5}1 of 2 kept/)
    expect(out).toMatch(/columns {3}id, day/)
    expect(out).toMatch(/filter {4}"day" >= '2024-02-01'/)
    const json = JSON.parse((await tarn('query', 'SELECT * FROM sales', '--explain', '--json')).out)
    expect(json.plan.tables[0]).toMatchObject({ table: 'tarn.sales', filesKept: 2, filesTotal: 2 })
  })

  it('returns the rows of a registered foreign Java table with its deletes applied', async () => {
    const { out } = await tarn(
      'query',
      `SELECT count(*) AS n, count(*) FILTER (WHERE "Origin Country" = 'New Zealand') AS nz FROM bunnies`,
      '--format',
      'csv',
    )
    expect(out).toBe('n,nz\n15,1\n')
    const explain = await tarn('query', 'SELECT * FROM bunnies', '--explain')
    expect(explain.out).toMatch(/delete files/)
  })

  it('fails with TABLE_NOT_FOUND naming the table and ref, and refuses writes', async () => {
    const missing = await tarn('query', 'SELECT * FROM nope', '-r', 'main')
    expect(missing.error?.code).toBe('TABLE_NOT_FOUND')
    expect(missing.error?.message).toBe('table nope does not exist at main')
    const write = await tarn('query', "COPY sales TO '/tmp/x.csv'")
    expect(write.error?.code).toBe('QUERY_NOT_ALLOWED')
    const usage = await tarn('query', 'SELECT 1', '--format', 'xml')
    expect(usage.error?.code).toBe('USAGE')
  })
})
