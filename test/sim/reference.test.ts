import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { REFERENCE_CASES, REFERENCE_DIR, runSim } from './helpers.js'

type Json = number | string | null | Json[] | { [k: string]: Json }

function compare(expected: Json, actual: Json, path: string, problems: string[]): void {
  if (typeof expected === 'number' && !Number.isInteger(expected)) {
    if (typeof actual !== 'number' || Math.abs(actual - expected) > Math.abs(expected) * 0.01) {
      problems.push(`${path}: expected ${expected} (within 1%), got ${JSON.stringify(actual)}`)
    }
    return
  }
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
      problems.push(`${path}: expected an object`)
      return
    }
    for (const [k, v] of Object.entries(expected)) {
      if (!(k in actual)) problems.push(`${path}.${k}: missing`)
      else compare(v, actual[k] as Json, `${path}.${k}`, problems)
    }
    if (path.endsWith('failure_error_counts')) {
      for (const k of Object.keys(actual)) if (!(k in expected)) problems.push(`${path}.${k}: unexpected`)
    }
    return
  }
  if (expected !== actual)
    problems.push(`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`)
}

describe('Eudoxia regression traces', () => {
  for (const name of REFERENCE_CASES) {
    it(`reproduces expected.json for ${name}: counts exactly, latencies and throughput within 1%`, async () => {
      const dir = `${REFERENCE_DIR}/${name}`
      const expected = JSON.parse(readFileSync(`${dir}/expected.json`, 'utf8')) as Json
      const { stdout } = await runSim([
        'run',
        '--params',
        `${dir}/params.toml`,
        '--trace',
        `${dir}/trace.csv`,
        '--json',
      ])
      const problems: string[] = []
      compare(expected, JSON.parse(stdout) as Json, '', problems)
      expect(problems).toEqual([])
    })

    it(`gives the same statistics for ${name} with the every-tick engine`, async () => {
      const dir = `${REFERENCE_DIR}/${name}`
      const args = ['run', '--params', `${dir}/params.toml`, '--trace', `${dir}/trace.csv`, '--json']
      const event = await runSim(args)
      const tick = await runSim([...args, '--engine', 'tick'])
      expect(tick.stdout).toBe(event.stdout)
    })
  }
})
