import { spawnSync } from 'node:child_process'
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoPaths } from '../../src/runtime/repo-paths.js'
import { ensureBuilt, ROOT } from '../helpers/build.js'

describe('where the runtime finds apache-arrow', () => {
  let app: string
  beforeAll(() => ensureBuilt())
  afterAll(() => {
    if (app !== undefined) rmSync(app, { recursive: true, force: true })
  })

  it('resolves it the way Node resolves it from tarn itself', () => {
    const paths = repoPaths()
    const fromTarn = createRequire(join(ROOT, 'src', 'runtime', 'repo-paths.ts'))
    expect(dirname(paths.arrow)).toBe(dirname(fromTarn.resolve('apache-arrow')))
    expect(paths.arrow).toMatch(/Arrow\.node\.mjs$/)
    expect(join(paths.nodeModules, 'apache-arrow')).toBe(dirname(paths.arrow))
  })

  it('finds it hoisted into an application that installed tarn as a dependency, and a worker can import it', () => {
    app = mkdtempSync(join(tmpdir(), 'tarn-hoisted-'))
    const modules = join(app, 'node_modules')
    mkdirSync(modules)
    // The application's node_modules holds tarn's dependencies side by side with tarn, which has none of its own.
    for (const name of readdirSync(join(ROOT, 'node_modules'))) {
      if (name.startsWith('.')) continue
      symlinkSync(join(ROOT, 'node_modules', name), join(modules, name))
    }
    const tarn = join(modules, 'tarn')
    mkdirSync(tarn)
    cpSync(join(ROOT, 'dist'), join(tarn, 'dist'), { recursive: true })
    cpSync(join(ROOT, 'package.json'), join(tarn, 'package.json'))
    const script = join(app, 'probe.mjs')
    writeFileSync(
      script,
      `const { repoPaths } = await import(${JSON.stringify(join(tarn, 'dist', 'runtime', 'repo-paths.js'))})
const paths = repoPaths()
const arrow = await import(paths.arrow)
console.log(JSON.stringify({ ...paths, tableFromArrays: typeof arrow.tableFromArrays }))`,
    )
    const r = spawnSync(process.execPath, ['--preserve-symlinks', script], { cwd: app, encoding: 'utf8' })
    expect(r.stderr).not.toMatch(/Error/)
    const seen = JSON.parse(r.stdout) as {
      root: string
      arrow: string
      nodeModules: string
      tableFromArrays: string
    }
    expect(seen.root).toBe(tarn)
    expect(seen.nodeModules).toBe(modules)
    expect(seen.arrow).toBe(join(modules, 'apache-arrow', 'Arrow.node.mjs'))
    expect(seen.tableFromArrays).toBe('function')
  })

  it('starts the bundled worker, whose Arrow project modules import, unless the compiled worker is newer', () => {
    const copy = mkdtempSync(join(tmpdir(), 'tarn-bundle-'))
    try {
      cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true })
      cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'))
      symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'))
      const probe = join(copy, 'probe.mjs')
      writeFileSync(
        probe,
        `const { repoPaths } = await import(${JSON.stringify(join(copy, 'dist', 'runtime', 'repo-paths.js'))})
const paths = repoPaths()
const arrow = await import(paths.workerArrow)
console.log(JSON.stringify({ worker: paths.worker, workerArrow: paths.workerArrow, tableFromArrays: typeof arrow.tableFromArrays }))`,
      )
      const look = (): { worker: string; workerArrow: string; tableFromArrays: string } => {
        const r = spawnSync(process.execPath, [probe], { cwd: copy, encoding: 'utf8' })
        expect(r.stderr).not.toMatch(/Error/)
        return JSON.parse(r.stdout)
      }
      const old = new Date(Date.now() - 60_000)
      utimesSync(join(copy, 'dist', 'runtime', 'worker-main.js'), old, old)
      expect(look()).toEqual({
        worker: join(copy, 'dist', 'worker', 'worker.js'),
        workerArrow: join(copy, 'dist', 'worker', 'arrow.js'),
        tableFromArrays: 'function',
      })
      // rebuilt with tsc alone: the bundle is stale, so the compiled worker and the package's Arrow are used
      const later = new Date(Date.now() + 60_000)
      utimesSync(join(copy, 'dist', 'runtime', 'worker-main.js'), later, later)
      const seen = look()
      expect(seen.worker).toBe(join(copy, 'dist', 'runtime', 'worker-main.js'))
      expect(seen.workerArrow).toBe(repoPaths().arrow)
    } finally {
      rmSync(copy, { recursive: true, force: true })
    }
  })
})
