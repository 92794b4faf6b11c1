import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tableFromIPC } from 'apache-arrow'
import { beforeAll, describe, expect, it } from 'vitest'
import { arrowFileToTable, queryToArrowFile, queryToParquet } from '../../src/duckdb/arrow-exchange.js'
import { withSession } from '../../src/runtime/duckdb-session.js'
import { type FunctionLogLine, runFunction } from '../../src/runtime/function-worker.js'
import { rewriteSpecifiers, transpileProject } from '../../src/runtime/module-cache.js'
import { ensurePackageEnv, packageEnvHash } from '../../src/runtime/package-env.js'
import { memoryMb, memoryText, timeoutMs } from '../../src/runtime/resources.js'
import { userFrame } from '../../src/runtime/user-frame.js'
import { ensureBuilt } from '../helpers/build.js'

describe('function runtime', () => {
  beforeAll(() => ensureBuilt())

  it('parses memory sizes and durations, with defaults', () => {
    expect(memoryMb('512MB')).toBe(512)
    expect(memoryMb('1GB')).toBe(1024)
    expect(memoryMb(null)).toBe(1024)
    expect(memoryText(2048)).toBe('2GB')
    expect(timeoutMs('2m')).toBe(120_000)
    expect(timeoutMs('30s')).toBe(30_000)
    expect(timeoutMs('250ms')).toBe(250)
    expect(() => memoryMb('lots')).toThrow(/memory must be a size/)
    expect(() => timeoutMs('soon')).toThrow(/timeout must be a duration/)
  })

  it('finds the first stack frame in the project, skipping node_modules and other files', () => {
    const stack = [
      'Error: x',
      '    at inner (/repo/dist/runtime/worker-main.js:10:3)',
      '    at f (/p/node_modules/lib/index.js:1:1)',
      '    at zones (file:///p/models/zones.ts:12:5)',
      '    at /p/other.ts:3:1',
    ].join('\n')
    expect(userFrame(stack, '/p')).toEqual({ file: 'models/zones.ts', line: 12 })
    expect(userFrame('Error: x', '/p')).toBeNull()
  })

  it('rewrites the tarn and apache-arrow specifiers, leaving the others', () => {
    const code =
      "import { model } from 'tarn'\nimport x from \"lodash\"\nconst a = await import('apache-arrow')"
    const out = rewriteSpecifiers(code, { tarn: 'file:///sdk.js', 'apache-arrow': 'file:///arrow.mjs' })
    expect(out).toBe(
      "import { model } from 'file:///sdk.js'\nimport x from \"lodash\"\nconst a = await import('file:///arrow.mjs')",
    )
  })

  it('passes rows through Arrow IPC and Parquet with their types: integers, floats, strings, booleans, dates, timestamps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-rt-'))
    const sql = `SELECT * FROM (VALUES
      (1::BIGINT, 2::INTEGER, 1.5::DOUBLE, 'a', true, DATE '2026-01-31', TIMESTAMP '2026-01-31 10:20:30.123456'),
      (NULL, NULL, NULL, NULL, NULL, NULL, NULL)) AS t(b, i, d, s, f, day, ts)`
    const rows = await withSession([], async (conn) => {
      expect(await queryToArrowFile(conn, sql, join(dir, 'in.arrow'))).toBe(2)
      const t = tableFromIPC(readFileSync(join(dir, 'in.arrow')))
      expect(t.schema.fields.map((f) => f.name)).toEqual(['b', 'i', 'd', 's', 'f', 'day', 'ts'])
      const loaded = await arrowFileToTable(conn, join(dir, 'in.arrow'), 'back')
      expect(loaded).toEqual({ columns: ['b', 'i', 'd', 's', 'f', 'day', 'ts'], rows: 2 })
      const types = (await conn.runAndReadAll('DESCRIBE back')).getRowObjectsJS().map((r) => r.column_type)
      expect(types).toEqual(['BIGINT', 'INTEGER', 'DOUBLE', 'VARCHAR', 'BOOLEAN', 'DATE', 'TIMESTAMP'])
      expect(await queryToParquet(conn, 'SELECT * FROM back', join(dir, 'out.parquet'))).toBe(2)
      const r = await conn.runAndReadAll(
        `SELECT b, i, d, s, f, day::VARCHAR AS day, ts::VARCHAR AS ts FROM read_parquet('${join(dir, 'out.parquet')}') ORDER BY b NULLS LAST`,
      )
      return r.getRowObjectsJS()
    })
    expect(rows[0]).toEqual({
      b: 1n,
      i: 2,
      d: 1.5,
      s: 'a',
      f: true,
      day: '2026-01-31',
      ts: '2026-01-31 10:20:30.123456',
    })
    expect(Object.values(rows[1] ?? {}).every((v) => v === null)).toBe(true)
  })

  it('runs a TS model in a worker: Arrow in, plain objects out, console and ctx.log tagged with file and line', async () => {
    const project = mkdtempSync(join(tmpdir(), 'tarn-rt-project-'))
    const source = [
      "import { input, model } from 'tarn'",
      "import { tableFromArrays } from 'apache-arrow'",
      'export const doubled = model(',
      "  { inputs: { xs: input('xs') } },",
      '  async ({ xs }, ctx) => {',
      "    console.log('rows', xs.numRows)",
      "    ctx.log('factor ' + ctx.params.factor)",
      "    const v = Array.from(xs.getChild('x')?.toArray() ?? [], Number)",
      '    void tableFromArrays',
      '    return v.map((x) => ({ x, y: x * Number(ctx.params.factor), stamp: new Date(Date.UTC(2026, 0, x)) }))',
      '  },',
      ')',
      '',
    ].join('\n')
    writeFileSync(join(project, 'doubled.ts'), source)
    const scratch = mkdtempSync(join(tmpdir(), 'tarn-rt-scratch-'))
    const cache = mkdtempSync(join(tmpdir(), 'tarn-rt-cache-'))
    await withSession([], (c) =>
      queryToArrowFile(c, 'SELECT range::INTEGER AS x FROM range(1, 4)', join(scratch, 'xs.arrow')),
    )
    const modules = await transpileProject(project, { 'doubled.ts': source }, cache, null)
    expect(await transpileProject(project, { 'doubled.ts': source }, cache, null)).toBe(modules)
    const lines: FunctionLogLine[] = []
    const out = await runFunction({
      task: {
        kind: 'model',
        module: join(modules, 'doubled.js'),
        exportName: 'doubled',
        name: 'doubled',
        file: 'doubled.ts',
        projectDir: project,
        inputs: { xs: join(scratch, 'xs.arrow') },
        output: join(scratch, 'out'),
        params: { factor: 10 },
      },
      taskFile: join(scratch, 'task.json'),
      memoryMb: 256,
      timeoutMs: 30_000,
      line: 3,
      onLog: (l) => lines.push(l),
    })
    // flat columns: the worker writes Parquet, which DuckDB reads as is
    expect(out).toEqual({ rows: 3, passed: null, output: join(scratch, 'out.parquet') })
    expect(lines).toContainEqual({
      node: 'doubled',
      stream: 'stdout',
      text: 'rows 3',
      file: 'doubled.ts',
      line: 6,
    })
    expect(lines).toContainEqual({
      node: 'doubled',
      stream: 'log',
      text: 'factor 10',
      file: 'doubled.ts',
      line: 7,
    })
    const rows = await withSession([], async (c) => {
      const r = `read_parquet('${join(scratch, 'out.parquet')}')`
      return (
        await c.runAndReadAll(`SELECT x, y, stamp::VARCHAR AS stamp FROM ${r} ORDER BY x`)
      ).getRowObjectsJS()
    })
    expect(rows).toEqual([
      { x: 1, y: 10, stamp: '2026-01-01 00:00:00' },
      { x: 2, y: 20, stamp: '2026-01-02 00:00:00' },
      { x: 3, y: 30, stamp: '2026-01-03 00:00:00' },
    ])
  })

  it('gives a worker its task while the inputs are written: the module loads first, the inputs are read once written, and a failed input ends the worker', async () => {
    const project = mkdtempSync(join(tmpdir(), 'tarn-rt-early-'))
    const source = [
      "import { input, model } from 'tarn'",
      "console.log('module loaded')",
      "export const counted = model({ inputs: { xs: input('xs') } }, async ({ xs }) => [{ n: xs.numRows }])",
      '',
    ].join('\n')
    writeFileSync(join(project, 'counted.ts'), source)
    const scratch = mkdtempSync(join(tmpdir(), 'tarn-rt-early-scratch-'))
    const modules = await transpileProject(project, { 'counted.ts': source }, scratch, null)
    const task = (name: string) => ({
      task: {
        kind: 'model' as const,
        module: join(modules, 'counted.js'),
        exportName: 'counted',
        name: 'counted',
        file: 'counted.ts',
        projectDir: project,
        inputs: { xs: join(scratch, `${name}.arrow`) },
        output: join(scratch, `${name}.out`),
        params: {},
      },
      taskFile: join(scratch, `${name}.task.json`),
      memoryMb: 256,
      timeoutMs: 30_000,
      line: 3,
    })
    const lines: string[] = []
    let loadedBeforeInputs = false
    // the input file does not exist until the module has said it loaded: a worker that read it at once would fail
    const written = (async () => {
      while (!lines.includes('module loaded')) await new Promise((r) => setTimeout(r, 10))
      loadedBeforeInputs = true
      await withSession([], (c) =>
        queryToArrowFile(c, 'SELECT range AS x FROM range(5)', join(scratch, 'a.arrow')),
      )
    })()
    const out = await runFunction({ ...task('a'), inputs: written, onLog: (l) => lines.push(l.text) })
    expect(loadedBeforeInputs).toBe(true)
    expect(out).toEqual({ rows: 1, passed: null, output: join(scratch, 'a.out.parquet') })
    const n = await withSession([], async (c) =>
      (await c.runAndReadAll(`SELECT n FROM read_parquet('${join(scratch, 'a.out.parquet')}')`)).getRows(),
    )
    expect(n).toEqual([[5]])
    const failed = Promise.reject(new Error('the input query failed'))
    failed.catch(() => undefined)
    await expect(
      runFunction({
        ...task('b'),
        inputs: failed,
        onLog: () => undefined,
      }),
    ).rejects.toThrow('the input query failed')
    expect(existsSync(join(scratch, 'b.out.parquet'))).toBe(false)
  })

  it('hands back every raw stdout and stderr write of a function, ending lines included, whether it returns or throws', async () => {
    const project = mkdtempSync(join(tmpdir(), 'tarn-rt-project-'))
    const source = (fail: boolean) =>
      [
        "import { model } from 'tarn'",
        // types vanish from the emitted JS: the line of the throw is the source map's
        'interface Unused {',
        '  a: number',
        '}',
        'export const noisy = model({ inputs: {} }, async (): Promise<Unused[] | { n: number }[]> => {',
        "  for (let i = 0; i < 2000; i++) process.stdout.write('line ' + i + ' ' + 'x'.repeat(100) + '\\n')",
        "  process.stdout.write('no newline at the end')",
        "  process.stderr.write('err one\\nerr two')",
        fail ? "  throw new Error('gave up')" : '  return [{ n: 1 }]',
        '})',
        '',
      ].join('\n')
    const cache = mkdtempSync(join(tmpdir(), 'tarn-rt-cache-'))
    for (const fail of [false, true]) {
      const scratch = mkdtempSync(join(tmpdir(), 'tarn-rt-scratch-'))
      const modules = await transpileProject(project, { 'noisy.ts': source(fail) }, cache, null)
      const lines: FunctionLogLine[] = []
      const run = runFunction({
        task: {
          kind: 'model',
          module: join(modules, 'noisy.js'),
          exportName: 'noisy',
          name: 'noisy',
          file: 'noisy.ts',
          projectDir: project,
          inputs: {},
          output: join(scratch, 'out'),
          params: {},
        },
        taskFile: join(scratch, 'task.json'),
        memoryMb: 256,
        timeoutMs: 30_000,
        line: 2,
        onLog: (l) => lines.push(l),
      })
      if (fail) await expect(run).rejects.toThrow(/model noisy failed at noisy\.ts:9: gave up/)
      else expect((await run).rows).toBe(1)
      const out = lines.filter((l) => l.stream === 'stdout').map((l) => l.text)
      expect(out).toHaveLength(2001)
      expect(out[1999]).toBe(`line 1999 ${'x'.repeat(100)}`)
      expect(out[2000]).toBe('no newline at the end')
      expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.text)).toEqual(['err one', 'err two'])
    }
  })

  it('installs declared packages once into a content-addressed environment (a local package: no network)', async () => {
    const pkg = mkdtempSync(join(tmpdir(), 'tarn-rt-pkg-'))
    mkdirSync(pkg, { recursive: true })
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({ name: 'tarn-local-helper', version: '1.0.0', type: 'module', main: 'index.js' }),
    )
    writeFileSync(join(pkg, 'index.js'), 'export const triple = (x) => 3 * x\n')
    const cache = mkdtempSync(join(tmpdir(), 'tarn-rt-cache-'))
    const packages = { 'tarn-local-helper': `file:${pkg}` }
    const env = await ensurePackageEnv(packages, cache)
    expect(env).toBe(join(cache, 'env', packageEnvHash(packages).slice(0, 32), 'node_modules'))
    const mod = (await import(join(env as string, 'tarn-local-helper', 'index.js'))) as {
      triple(x: number): number
    }
    expect(mod.triple(2)).toBe(6)
    expect(await ensurePackageEnv(packages, cache)).toBe(env)
    expect(await ensurePackageEnv({}, cache)).toBeNull()
  }, 120_000)
})
