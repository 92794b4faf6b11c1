import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ENVIRONMENT, environmentHelp } from '../../src/cli/environment.js'
import { ROOT } from '../helpers/build.js'

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.git')) return []
    const path = join(dir, e.name)
    return e.isDirectory() ? files(path) : [path]
  })
}

const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8')

describe('the repository stands alone', () => {
  it('reads nothing beside the checkout: no source, test, bench, CI file or README points at ../shared', () => {
    const offenders = ['src', 'test', 'bench', '.ci', 'examples']
      .flatMap((d) => files(join(ROOT, d)))
      .concat(join(ROOT, 'README.md'), join(ROOT, 'package.json'))
      .filter(
        (f) =>
          !f.includes(join('test', 'fixtures')) && f !== import.meta.filename && statSync(f).size < 2_000_000,
      )
      .filter((f) => /\.\.\/shared\b|\/work\/shared\b|'\.\.', 'shared'/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f))
    expect(offenders).toEqual([])
  })

  it('ships the license file package.json names: the Apache License 2.0 in full', () => {
    const pkg = JSON.parse(read('package.json')) as { license: string }
    expect(pkg.license).toBe('Apache-2.0')
    const license = read('LICENSE')
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/)
    expect(license).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION')
    expect(license).toContain('END OF TERMS AND CONDITIONS')
    expect(license.length).toBeGreaterThan(11_000)
  })

  it('runs in CI what the README tells a developer to run', () => {
    expect(read('README.md')).toContain('npm ci && npm test')
    const ci = read('.ci/run')
    expect(ci).toMatch(/^npm ci\b/m)
    expect(ci).toMatch(/^npm test$/m)
  })

  it('documents every TARN_ variable that src/ reads, in tarn --help and in the README', () => {
    const used = new Set<string>()
    for (const f of files(join(ROOT, 'src'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/env(?:\.|\[')(TARN_[A-Z0-9_]+)/g))
        used.add(m[1] as string)
    }
    expect(used.size).toBeGreaterThan(5)
    const documented = Object.keys(ENVIRONMENT)
    expect([...used].filter((v) => !documented.includes(v))).toEqual([])
    const help = environmentHelp()
    const readme = read('README.md')
    for (const v of documented) {
      expect(help).toContain(`  ${v} `)
      expect(readme).toMatch(new RegExp(`\\| \`${v}\` +\\|`))
    }
  })
})
