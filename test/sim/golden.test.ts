import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runSim } from './helpers.js'

const GOLDEN = join(import.meta.dirname, 'golden')
const UPDATE = process.env.UPDATE_GOLDEN === '1'

const cases: [string, string[]][] = [
  ['defaults-priority', ['run', '--json']],
  ['defaults-right-size', ['run', '--scheduler', 'right-size', '--json']],
  ['defaults-naive-seed-3', ['run', '--scheduler', 'naive', '--seed', '3', '--duration', '300', '--json']],
  [
    'compare-all-seed-5',
    ['compare', '--schedulers', 'naive,priority,right-size', '--seed', '5', '--duration', '300', '--json'],
  ],
]

describe('golden regression', () => {
  for (const [name, args] of cases) {
    it(`matches the committed golden JSON for ${name}`, async () => {
      const { stdout } = await runSim(args)
      const file = join(GOLDEN, `${name}.json`)
      if (UPDATE || !existsSync(file)) writeFileSync(file, stdout)
      expect(stdout).toBe(readFileSync(file, 'utf8'))
    })
  }
})
