import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt, ROOT } from '../helpers/build.js'
import { tarnCli } from './lake-cli.js'

describe('tarn new', () => {
  let home: string
  let root: string
  beforeAll(async () => {
    ensureBuilt()
    root = mkdtempSync(join(tmpdir(), 'tarn-new-'))
    home = join(root, 'lake')
    expect((await tarnCli(home, 'init')).exit).toBe(0)
  })

  it('scaffolds a project that plans and runs as it is on a fresh lake', async () => {
    const dir = join(root, 'My Shop')
    const made = await tarnCli(home, 'new', dir, '--json')
    expect(made.exit).toBe(0)
    const doc = JSON.parse(made.stdout) as { name: string; files: string[] }
    expect(doc.name).toBe('my_shop')
    expect(readdirSync(dir).sort()).toEqual(
      ['checks.ts', 'customer_totals.ts', 'orders.sql', 'tarn_project.yml', 'tsconfig.json'].sort(),
    )
    const dry = await tarnCli(home, 'run', '-p', dir, '--dry-run')
    expect(dry.exit).toBe(0)
    expect(dry.stdout).toContain('namespace my_shop does not exist on main: the run will create it')
    const run = await tarnCli(home, 'run', '-p', dir, '--json')
    expect(run.stderr.split('\n').filter((l) => l.includes('"status":"failed"'))).toEqual([])
    expect(run.exit).toBe(0)
    const summary = JSON.parse(run.stdout) as { status: string; summary: { tables: Record<string, number> } }
    expect(summary.status).toBe('succeeded')
    expect(summary.summary.tables).toEqual({ 'my_shop.orders': 20, 'my_shop.customer_totals': 3 })
  })

  it('writes a tsconfig.json with which tsc resolves `tarn` to the installed types (a wrong config is a type error)', () => {
    const dir = join(root, 'typed')
    mkdirSync(dir)
    const tsc = (): { status: number | null; out: string } => {
      const r = spawnSync(
        process.execPath,
        [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir],
        {
          encoding: 'utf8',
        },
      )
      return { status: r.status, out: `${r.stdout}${r.stderr}` }
    }
    return tarnCli(home, 'new', dir).then(() => {
      const ok = tsc()
      expect(ok.out).toBe('')
      expect(ok.status).toBe(0)
      writeFileSync(
        join(dir, 'bad.ts'),
        "import { model } from 'tarn'\nexport const bad = model({ materialize: 'SOMETIMES' }, async () => [])\n",
      )
      const bad = tsc()
      expect(bad.status).not.toBe(0)
      expect(bad.out).toContain('bad.ts')
      expect(bad.out).toContain('SOMETIMES')
    })
  })

  it('refuses a directory that is not empty, and writes nothing there (exit 2)', async () => {
    const dir = join(root, 'taken')
    mkdirSync(dir)
    writeFileSync(join(dir, 'notes.txt'), 'mine\n')
    const r = await tarnCli(home, 'new', dir, '--json')
    expect(r.exit).toBe(2)
    expect(JSON.parse(r.stdout).error.code).toBe('PROJECT_DIR_NOT_EMPTY')
    expect(readdirSync(dir)).toEqual(['notes.txt'])
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine\n')
  })
})
