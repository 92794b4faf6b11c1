import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { createContext } from '../../src/cli/context.js'
import { memoryIO } from '../../src/cli/io.js'
import { buildProgram } from '../../src/cli/main.js'
import { ensureBuilt, ROOT } from '../helpers/build.js'

const BIN = join(ROOT, 'bin', 'tarn.js')
const PROBE = join(ROOT, 'test', 'fixtures', 'module-probe.mjs')
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version

/** Heavy dependencies, by the path fragment every file of theirs contains. */
const HEAVY = {
  duckdb: '/node_modules/@duckdb/',
  arrow: '/node_modules/apache-arrow/',
  sqlite: '/node_modules/better-sqlite3/',
  pg: '/node_modules/pg/',
  awsS3: '/node_modules/@aws-sdk/client-s3/',
  typescript: '/node_modules/typescript/',
  fastify: '/node_modules/fastify/',
  yaml: '/node_modules/yaml/',
  commandModules: '/dist/cli/commands/',
} as const
type Heavy = keyof typeof HEAVY

interface Probed {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  /** Which of {@link HEAVY} the process loaded. */
  readonly loaded: ReadonlySet<Heavy>
}

/** Runs node with the module probe preloaded and reports which heavy modules the process loaded. */
function probe(args: readonly string[], env: Record<string, string> = {}): Probed {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-probe-'))
  const out = join(dir, 'modules.txt')
  writeFileSync(out, '')
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(PROBE).href, ...args], {
    env: { ...process.env, TARN_USER: 'tester', ...env, TARN_PROBE_OUT: out },
    encoding: 'utf8',
    cwd: dir,
  })
  const modules = readFileSync(out, 'utf8')
    .split('\n')
    .map((m) => m.replaceAll('\\', '/'))
  const loaded = new Set(
    (Object.keys(HEAVY) as Heavy[]).filter((h) => modules.some((m) => m.includes(HEAVY[h]))),
  )
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, loaded }
}

describe('start-up of the tarn command and the SDK', () => {
  beforeAll(() => ensureBuilt())

  it('prints the package version for --version, and as JSON with --json', () => {
    const plain = probe([BIN, '--version'])
    expect(plain.code).toBe(0)
    expect(plain.stdout).toBe(`${VERSION}\n`)
    expect(plain.loaded).toEqual(new Set())
    const json = probe([BIN, '--version', '--json'])
    expect(JSON.parse(json.stdout)).toEqual({ version: VERSION })
  })

  it('lists every command for --help without loading any command module, native driver, SDK or compiler', () => {
    const help = probe([BIN, '--help'])
    expect(help.code).toBe(0)
    for (const c of ['init', 'branch', 'log', 'tag', 'table', 'run', 'job', 'rerun', 'query', 'gc', 'sim'])
      expect(help.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'))
    expect(help.stdout).toMatch(/-V, --version/)
    expect(help.loaded).toEqual(new Set())
  })

  it('lists the branches of an embedded lake loading SQLite but not DuckDB, Arrow, pg, the AWS SDK or TypeScript', () => {
    const home = mkdtempSync(join(tmpdir(), 'tarn-startup-'))
    expect(probe([BIN, 'init'], { TARN_HOME: home }).code).toBe(0)
    const ls = probe([BIN, 'branch', 'ls', '--json'], { TARN_HOME: home })
    expect(ls.code).toBe(0)
    expect(JSON.parse(ls.stdout).branches.map((b: { name: string }) => b.name)).toEqual(['main'])
    expect([...ls.loaded].sort()).toEqual(['commandModules', 'sqlite'])
  })

  it('shows the help of a command from its own module', () => {
    const r = probe([BIN, 'branch', '--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^Usage: tarn branch/m)
    expect(r.stdout).toMatch(/^ {2}merge \[options\] <source>/m)
  })

  it('loads neither pg, the AWS SDK, TypeScript nor the HTTP server when the SDK opens an SQLite lake, imports a table and queries it', () => {
    const home = mkdtempSync(join(tmpdir(), 'tarn-sdk-startup-'))
    writeFileSync(join(home, 'orders.csv'), 'id,amount\n1,10\n2,32\n')
    const script = `
      import { Lake } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'index.js')).href)}
      const lake = await Lake.init({ home: ${JSON.stringify(home)} })
      await lake.createNamespace('sales')
      await lake.createTable('sales.orders', { from: ${JSON.stringify(join(home, 'orders.csv'))} })
      const r = await lake.query('SELECT sum(amount) AS total FROM sales.orders')
      console.log(JSON.stringify({ total: Number(r.table.getChild('total')?.get(0)) }))
      await lake.close()
    `
    const r = probe(['--input-type=module', '-e', script])
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({ total: 42 })
    expect(r.loaded.has('duckdb')).toBe(true)
    expect(r.loaded.has('pg')).toBe(false)
    expect(r.loaded.has('awsS3')).toBe(false)
    expect(r.loaded.has('typescript')).toBe(false)
    expect(r.loaded.has('fastify')).toBe(false)
  })

  it('lists each command in the lazy --help exactly as the fully loaded program describes it', async () => {
    const ctx = createContext(memoryIO({}))
    const lazy = await buildProgram(ctx, ['--help'])
    const full = await buildProgram(ctx)
    expect(lazy.commands.length).toBe(full.commands.length)
    expect(lazy.helpInformation()).toBe(full.helpInformation())
    await ctx.close()
  })
})

describe('a reader that closes the pipe early', () => {
  beforeAll(() => ensureBuilt())

  it('ends tarn quietly with exit 0 when the reader closed stdout before it wrote (tarn --help | true)', () => {
    const r = spawnSync(
      'bash',
      ['-c', `node ${JSON.stringify(BIN)} --help | true; echo "exit=\${PIPESTATUS[0]}" >&2`],
      {
        encoding: 'utf8',
      },
    )
    expect(r.stderr).not.toContain('EPIPE')
    expect(r.stderr).toContain('exit=0')
  })
})
