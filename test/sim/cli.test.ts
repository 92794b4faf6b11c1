import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isTarnError } from '../../src/util/errors.js'
import { runSim } from './helpers.js'

const EXPECTED_KEYS = [
  'pipelines_created',
  'containers_completed',
  'throughput',
  'p99_latency',
  'assignments',
  'suspensions',
  'failures',
  'failure_error_counts',
  'pipelines_all',
  'pipelines_query',
  'pipelines_interactive',
  'pipelines_batch',
]
const PIPELINE_KEYS = [
  'arrival_count',
  'completion_count',
  'timeout_count',
  'mean_latency_seconds',
  'p99_latency_seconds',
]

describe('tarn sim run', () => {
  it('prints exactly one JSON document with every key of expected.json', async () => {
    const { stdout, stderr } = await runSim(['run', '--duration', '120', '--json'])
    const doc = JSON.parse(stdout) as Record<string, Record<string, unknown>>
    for (const k of EXPECTED_KEYS) expect(doc).toHaveProperty(k)
    for (const p of ['pipelines_all', 'pipelines_query', 'pipelines_interactive', 'pipelines_batch']) {
      for (const k of PIPELINE_KEYS) expect(doc[p]).toHaveProperty(k)
    }
    expect(doc).toHaveProperty('adjusted_latency')
    expect(stdout.trim().split('\n').at(-1)).toBe('}')
    expect(stderr).toBe('')
  })

  it('prints a table without --json and writes the plot and the trace when asked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-sim-cli-'))
    const { stdout, stderr } = await runSim(
      ['run', '--duration', '60', '--scheduler', 'right-size', '--plot', 'p.svg', '--save-trace', 't.csv'],
      dir,
    )
    expect(stdout).toContain('scheduler right-size')
    expect(stdout).toContain('interactive')
    expect(stderr).toContain('wrote plot to')
    expect(readFileSync(join(dir, 'p.svg'), 'utf8')).toContain('</svg>')
    const trace = readFileSync(join(dir, 't.csv'), 'utf8')
    expect(trace.split('\n')[0]).toBe(
      'pipeline_id,arrival_seconds,priority,operator_id,parents,baseline_cpu_seconds,cpu_scaling,memory_gb,storage_read_gb',
    )
    const replay = await runSim(
      ['run', '--duration', '60', '--scheduler', 'right-size', '--trace', 't.csv', '--json'],
      dir,
    )
    const direct = await runSim(['run', '--duration', '60', '--scheduler', 'right-size', '--json'], dir)
    expect(replay.stdout).toBe(direct.stdout)
  })

  it('rejects an unknown scheduler', async () => {
    await expect(runSim(['run', '--scheduler', 'nope'])).rejects.toSatisfy(
      (e: unknown) => isTarnError(e, 'INVALID_ARGUMENT') && e.message.includes('nope'),
    )
  })
})

describe('tarn sim compare', () => {
  it('prints schedulers side by side, and JSON as one array', async () => {
    const table = await runSim(['compare', '--schedulers', 'priority,right-size', '--duration', '120'])
    expect(table.stdout).toMatch(/scheduler\s+priority\s+right-size/)
    const json = await runSim(['compare', '--schedulers', 'naive,priority', '--duration', '120', '--json'])
    const doc = JSON.parse(json.stdout) as { scheduler: string }[]
    expect(doc.map((d) => d.scheduler)).toEqual(['naive', 'priority'])
  })
})

describe('invalid inputs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tarn-sim-bad-'))

  it('names the params file and line of a bad value', async () => {
    writeFileSync(join(dir, 'bad.toml'), 'duration = 60\nnum_pools = "eight"\n')
    await expect(runSim(['run', '--params', 'bad.toml'], dir)).rejects.toThrow(
      /bad\.toml:2: num_pools must be a number/,
    )
  })

  it('names the params file and line of a TOML syntax error', async () => {
    writeFileSync(join(dir, 'syntax.toml'), 'duration = 60\nticks_per_second = = 3\n')
    await expect(runSim(['run', '--params', 'syntax.toml'], dir)).rejects.toThrow(
      /syntax\.toml:2: invalid TOML/,
    )
  })

  it('rejects probabilities that do not sum to 1', async () => {
    writeFileSync(join(dir, 'probs.toml'), 'query_prob = 0.5\ninteractive_prob = 0.5\nbatch_prob = 0.5\n')
    await expect(runSim(['run', '--params', 'probs.toml'], dir)).rejects.toThrow(/probs\.toml:3: .*must be 1/)
  })

  it('names the trace file and line of a bad row', async () => {
    const header =
      'pipeline_id,arrival_seconds,priority,operator_id,parents,baseline_cpu_seconds,cpu_scaling,memory_gb,storage_read_gb'
    writeFileSync(
      join(dir, 'bad.csv'),
      `${header}\np1,0.0,QUERY,op1,,15,linear3,,35\np2,1.0,QUERY,op1,,abc,linear3,,35\n`,
    )
    await expect(runSim(['run', '--trace', 'bad.csv'], dir)).rejects.toThrow(
      /bad\.csv:3: baseline_cpu_seconds must be a number/,
    )
    writeFileSync(join(dir, 'scaling.csv'), `${header}\np1,0.0,QUERY,op1,,15,cubic,,35\n`)
    await expect(runSim(['run', '--trace', 'scaling.csv'], dir)).rejects.toThrow(
      /scaling\.csv:2: unknown cpu_scaling/,
    )
    writeFileSync(join(dir, 'parent.csv'), `${header}\np1,0.0,BATCH_PIPELINE,op1,op9,1,const,,55\n`)
    await expect(runSim(['run', '--trace', 'parent.csv'], dir)).rejects.toThrow(/parent\.csv:2: parent op9/)
    writeFileSync(join(dir, 'cols.csv'), 'pipeline_id,priority\np1,QUERY\n')
    await expect(runSim(['run', '--trace', 'cols.csv'], dir)).rejects.toThrow(/cols\.csv:1: missing column/)
  })

  it('reports a missing file by name', async () => {
    await expect(runSim(['run', '--trace', 'missing.csv'], dir)).rejects.toThrow(/missing\.csv/)
  })
})
