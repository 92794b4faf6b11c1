import { describe, expect, it } from 'vitest'
import { simulateOperation } from './simulation.js'
import { crashSeed, crashSuite } from './suite.js'

crashSuite('crash simulation of commits, merges and imports', 'test/crash/crash-simulation.test.ts', [
  'commit',
  'merge',
  'import',
])

describe('crash simulation replay', () => {
  it('a seed replays the exact same fault schedule, I/O hit by I/O hit', async () => {
    const seed = crashSeed()
    const a = await simulateOperation('commit', seed, 30)
    const b = await simulateOperation('commit', seed, 30)
    const trace = (r: typeof a): string[] =>
      r.points.map((p) => `${p.k}:${p.kind}:${p.burst ?? 1}:${p.hit}:${p.failed}:${p.violations.length}`)
    expect(trace(b)).toEqual(trace(a))
    expect(a.points.length).toBe(30)
  }, 120_000)
})
