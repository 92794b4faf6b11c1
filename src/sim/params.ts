import { readFileSync } from 'node:fs'
import { parse as parseToml } from 'smol-toml'
import { TarnError } from '../util/errors.js'

/**
 * Simulation parameters: Eudoxia's `params.toml` keys (snake_case in the file) plus tarn's extensions.
 */
export interface SimParams {
  /** Simulated seconds. */
  readonly duration: number
  readonly ticksPerSecond: number
  /** Mean seconds between two generated batches of pipelines. */
  readonly waitingSecondsMean: number
  /** Pipelines per generated batch. */
  readonly numPipelines: number
  /** Mean operators per non-query pipeline. */
  readonly numOperators: number
  readonly numSegs: number
  readonly interactiveProb: number
  readonly queryProb: number
  readonly batchProb: number
  readonly dagLinearProb: number
  readonly dagBranchInProb: number
  readonly dagBranchOutProb: number
  /** tarn extension: probability of a diamond DAG (fan out then fan in). */
  readonly dagDiamondProb: number
  /** 0..1, low is IO heavy. */
  readonly cpuIoRatio: number
  /** tarn extension: probability that a generated operator has a fixed memory need instead of growing with reads. */
  readonly fixedMemoryProb: number
  readonly schedulerAlgo: string
  readonly numPools: number
  readonly cpusPerPool: number
  readonly ramGbPerPool: number
  readonly multiOperatorContainers: boolean
  readonly randomSeed: number
  /** Per-pipeline timeout in seconds (0: none). */
  readonly maxJobSeconds: number
}

/**
 * Eudoxia's default parameters (600 s at 1000 ticks/s, 8 pools of 64 CPUs and 256 GB, the `priority` scheduler).
 */
export const DEFAULT_PARAMS: SimParams = {
  duration: 600,
  ticksPerSecond: 1000,
  waitingSecondsMean: 10,
  numPipelines: 4,
  numOperators: 5,
  numSegs: 1,
  interactiveProb: 0.3,
  queryProb: 0.1,
  batchProb: 0.6,
  dagLinearProb: 1,
  dagBranchInProb: 0,
  dagBranchOutProb: 0,
  dagDiamondProb: 0,
  cpuIoRatio: 0.5,
  fixedMemoryProb: 0,
  schedulerAlgo: 'priority',
  numPools: 8,
  cpusPerPool: 64,
  ramGbPerPool: 256,
  multiOperatorContainers: true,
  randomSeed: 42,
  maxJobSeconds: 0,
}

type Kind = 'number' | 'int' | 'bool' | 'string'
const KEYS: Record<string, [keyof SimParams, Kind]> = {
  duration: ['duration', 'number'],
  ticks_per_second: ['ticksPerSecond', 'int'],
  waiting_seconds_mean: ['waitingSecondsMean', 'number'],
  num_pipelines: ['numPipelines', 'int'],
  num_operators: ['numOperators', 'number'],
  num_segs: ['numSegs', 'int'],
  interactive_prob: ['interactiveProb', 'number'],
  query_prob: ['queryProb', 'number'],
  batch_prob: ['batchProb', 'number'],
  dag_linear_prob: ['dagLinearProb', 'number'],
  dag_branch_in_prob: ['dagBranchInProb', 'number'],
  dag_branch_out_prob: ['dagBranchOutProb', 'number'],
  dag_diamond_prob: ['dagDiamondProb', 'number'],
  cpu_io_ratio: ['cpuIoRatio', 'number'],
  fixed_memory_prob: ['fixedMemoryProb', 'number'],
  scheduler_algo: ['schedulerAlgo', 'string'],
  num_pools: ['numPools', 'int'],
  cpus_per_pool: ['cpusPerPool', 'int'],
  ram_gb_per_pool: ['ramGbPerPool', 'number'],
  multi_operator_containers: ['multiOperatorContainers', 'bool'],
  random_seed: ['randomSeed', 'int'],
  max_job_seconds: ['maxJobSeconds', 'number'],
}

function lineOf(text: string, key: string): number | undefined {
  const re = new RegExp(`^\\s*${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=`)
  const lines = text.split(/\r?\n/)
  const i = lines.findIndex((l) => re.test(l))
  return i === -1 ? undefined : i + 1
}

function fail(
  file: string,
  line: number | undefined,
  message: string,
  extra: Record<string, unknown> = {},
): never {
  const where = line === undefined ? file : `${file}:${line}`
  throw new TarnError('INVALID_ARGUMENT', `${where}: ${message}`, { file, line, ...extra })
}

/**
 * Fills in defaults and validates a plain object of Eudoxia parameters (snake_case keys). Unknown keys are ignored,
 * like Eudoxia does; Eudoxia's older `cpu_pool`/`ram_pool` (totals split over the pools) are accepted.
 */
export function paramsFromObject(
  raw: Readonly<Record<string, unknown>>,
  file = '<params>',
  text = '',
): SimParams {
  const out: Record<string, unknown> = { ...DEFAULT_PARAMS }
  for (const [key, value] of Object.entries(raw)) {
    const spec = KEYS[key]
    if (spec === undefined) continue
    const [field, kind] = spec
    const line = lineOf(text, key)
    if (kind === 'bool') {
      if (typeof value !== 'boolean') fail(file, line, `${key} must be true or false`, { key })
    } else if (kind === 'string') {
      if (typeof value !== 'string') fail(file, line, `${key} must be a string`, { key })
    } else {
      const n = typeof value === 'bigint' ? Number(value) : value
      if (typeof n !== 'number' || !Number.isFinite(n)) fail(file, line, `${key} must be a number`, { key })
      if (kind === 'int' && !Number.isInteger(n)) fail(file, line, `${key} must be an integer`, { key })
      out[field] = n
      continue
    }
    out[field] = value
  }
  const numPools = out.numPools as number
  const legacyCpu = raw.cpu_pool
  const legacyRam = raw.ram_pool
  if (raw.cpus_per_pool === undefined && typeof legacyCpu === 'number') {
    out.cpusPerPool = Math.floor(legacyCpu / Math.max(1, numPools))
  }
  if (raw.ram_gb_per_pool === undefined && typeof legacyRam === 'number') {
    out.ramGbPerPool = Math.floor(legacyRam / Math.max(1, numPools))
  }
  const p = out as unknown as SimParams
  const positive: [keyof SimParams, string][] = [
    ['duration', 'duration'],
    ['ticksPerSecond', 'ticks_per_second'],
    ['numPools', 'num_pools'],
    ['cpusPerPool', 'cpus_per_pool'],
    ['ramGbPerPool', 'ram_gb_per_pool'],
  ]
  for (const [field, key] of positive) {
    if (!((p[field] as number) > 0)) fail(file, lineOf(text, key), `${key} must be positive`, { key })
  }
  const sum = p.interactiveProb + p.queryProb + p.batchProb
  if (Math.abs(sum - 1) > 1e-9) {
    fail(file, lineOf(text, 'batch_prob'), `interactive_prob + query_prob + batch_prob must be 1, got ${sum}`)
  }
  if (p.cpuIoRatio < 0 || p.cpuIoRatio > 1) {
    fail(file, lineOf(text, 'cpu_io_ratio'), 'cpu_io_ratio must be between 0 and 1')
  }
  if (p.maxJobSeconds < 0) fail(file, lineOf(text, 'max_job_seconds'), 'max_job_seconds must be 0 or more')
  return p
}

/**
 * Parses the text of a `params.toml`, naming the file and line of any error.
 */
export function parseParams(text: string, file = '<params>'): SimParams {
  let raw: Record<string, unknown>
  try {
    raw = parseToml(text) as Record<string, unknown>
  } catch (e) {
    const line = (e as { line?: number }).line
    const msg = e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e)
    fail(file, line, `invalid TOML: ${msg}`)
  }
  return paramsFromObject(raw, file, text)
}

/**
 * Reads and parses a `params.toml` file.
 */
export function loadParams(path: string): SimParams {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    throw new TarnError('INVALID_ARGUMENT', `cannot read params file ${path}`, { file: path }, { cause: e })
  }
  return parseParams(text, path)
}
