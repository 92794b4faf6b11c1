import { readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'

/** One measured figure of a benchmark, compared with a baseline measured in the same run when there is one. */
export interface BenchResult {
  /** What was measured, e.g. `branch create, 10,000 tables (sqlite)`. */
  readonly name: string
  readonly value: number
  readonly unit: string
  /** What the ratio compares against. */
  readonly baseline?: string
  /** value / baseline value. */
  readonly ratio?: number
  readonly note?: string
}

/** A named group of results with the conditions they were measured under. */
export interface BenchSection {
  readonly title: string
  readonly description: string
  readonly results: readonly BenchResult[]
}

/**
 * Median of a list of numbers.
 *
 * @example
 * ```ts
 * median([3, 1, 2]) // 2
 * ```
 */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

/**
 * Times `fn` `n` times (after `warmup` untimed calls) and returns the per-call durations in milliseconds.
 *
 * @example
 * ```ts
 * const ms = await timeEach(100, async (i) => { await work(i) })
 * ```
 */
export async function timeEach(
  n: number,
  fn: (i: number) => Promise<unknown>,
  warmup = 5,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn(-1 - i)
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await fn(i)
    out.push(performance.now() - t)
  }
  return out
}

/** Formats a number for a report. */
export function fmt(x: number): string {
  if (x === 0) return '0'
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US')
  if (Math.abs(x) >= 10) return x.toFixed(1)
  if (Math.abs(x) >= 1) return x.toFixed(2)
  return x.toPrecision(3)
}

/**
 * CPU time (user + system, milliseconds) of this process and of its children that have exited (Linux `/proc`; worker
 * processes count once they end), or `NaN` elsewhere. Steadier than wall time on a machine that others load.
 */
export function processTreeCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    // fields after the parenthesised command name: utime is the 14th field, cstime the 17th
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = [11, 12, 13, 14].reduce((a, i) => a + Number(fields[i]), 0)
    return (ticks * 1000) / CLOCK_TICKS
  } catch {
    return Number.NaN
  }
}

/** Clock ticks per second of `/proc` times (`getconf CLK_TCK`, 100 on Linux). */
const CLOCK_TICKS = 100

/** The load on this machine while a figure was measured, for its note: e.g. `load average 12.3 on 2 cores`. */
export function loadNote(): string {
  return `load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores`
}
