import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { buildDist, distIsFresh, ROOT } from '../helpers/build.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A tiny project laid out like tarn (src/, tsconfig.json, tsconfig.build.json) whose src/index.ts is `source`. */
function project(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-build-'))
  dirs.push(dir)
  mkdirSync(join(dir, 'src'))
  writeFileSync(join(dir, 'src', 'index.ts'), source)
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n')
  writeFileSync(join(dir, 'tsconfig.json'), readFileSync(join(ROOT, 'tsconfig.json')))
  writeFileSync(join(dir, 'tsconfig.build.json'), readFileSync(join(ROOT, 'tsconfig.build.json')))
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  return dir
}

describe('the test run builds dist/ once', () => {
  it('stops with the compiler output when src/ does not type-check', () => {
    const dir = project('export const n: number = "not a number"\n')
    expect(() => buildDist(dir)).toThrow(/TS2322/)
    expect(distIsFresh(dir)).toBe(false)
  })

  it('builds a clean project, skips the build while nothing changed, and rebuilds after src/ changes', () => {
    const dir = project('export const n: number = 1\n')
    expect(buildDist(dir)).toEqual({ built: true })
    expect(readFileSync(join(dir, 'dist', 'index.js'), 'utf8')).toContain('export const n = 1')
    expect(buildDist(dir)).toEqual({ built: false })
    const later = new Date(Date.now() + 5_000)
    utimesSync(join(dir, 'src', 'index.ts'), later, later)
    expect(distIsFresh(dir)).toBe(false)
    expect(buildDist(dir)).toEqual({ built: true })
  })

  it('is wired as Vitest global set-up, and npm test does not build a second time', () => {
    const config = readFileSync(join(ROOT, 'vitest.config.ts'), 'utf8')
    expect(config).toContain("globalSetup: ['./test/helpers/global-setup.ts']")
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>
    }
    // Vitest first (its global set-up builds), then the Python package's checks; never a build of its own
    expect(pkg.scripts.test?.startsWith('vitest run')).toBe(true)
    expect(pkg.scripts.test).not.toMatch(/npm run build|\btsc\b/)
  })
})
