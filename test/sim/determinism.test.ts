import { describe, expect, it } from 'vitest'
import { runSim } from './helpers.js'

describe('determinism', () => {
  it('produces byte-identical JSON for two runs with the same seed', async () => {
    const a = await runSim(['run', '--seed', '7', '--json'])
    const b = await runSim(['run', '--seed', '7', '--json'])
    expect(a.stdout).toBe(b.stdout)
    expect(a.stdout.length).toBeGreaterThan(100)
  })

  it('produces a different workload for a different seed', async () => {
    const a = await runSim(['run', '--seed', '7', '--json'])
    const b = await runSim(['run', '--seed', '8', '--json'])
    expect(a.stdout).not.toBe(b.stdout)
  })

  it('writes the same plot bytes for the same inputs', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const dir = mkdtempSync(join(tmpdir(), 'tarn-sim-plot-'))
    await runSim(['run', '--duration', '120', '--plot', join(dir, 'a.svg')])
    await runSim(['run', '--duration', '120', '--plot', join(dir, 'b.svg')])
    const a = readFileSync(join(dir, 'a.svg'), 'utf8')
    expect(a).toBe(readFileSync(join(dir, 'b.svg'), 'utf8'))
    expect(a.startsWith('<svg')).toBe(true)
    expect(a).toContain('Pipeline latency by priority')
    expect(a).toContain('Cluster utilisation over time')
  })
})
