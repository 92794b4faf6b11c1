import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testSeed } from '../helpers/test-seed.js'
import {
  type OperationKind,
  type OperationReport,
  type SimEnvironmentFactory,
  simulateOperation,
} from './simulation.js'

/** Fault points per operation kind in `npm test` (a seeded sample when an operation has more). */
export const DEFAULT_BUDGET: Readonly<Record<OperationKind, number>> = {
  commit: 520,
  merge: 220,
  import: 200,
  run: 150,
  gc: 200,
}

const SENTENCES: Readonly<Record<OperationKind, string>> = {
  commit: 'a fault at any I/O of a sequence of namespace, table, tag and revert commits',
  merge: 'a fault at any I/O of fast-forward, three-way and append-only merges',
  import: 'a fault at any I/O of table creations and imports',
  run: 'a fault at any I/O of a three-model SQL pipeline run',
  gc: 'a fault at any I/O of a garbage collection concurrent with a run',
}

/**
 * The seed of this process: `TARN_SEED` when set (replays that exact fault schedule; `random` for a fresh one),
 * else a fixed one so that `npm test` is a repeatable gate.
 *
 * @example
 * ```ts
 * const seed = crashSeed() // TARN_SEED=1234 → 1234
 * ```
 */
export function crashSeed(): number {
  return testSeed(1137150711) >>> 0
}

/**
 * Options of {@link crashSuite} for another environment than the embedded one (SQLite catalog, local warehouse).
 *
 * @example
 * ```ts
 * const options: CrashSuiteOptions = { label: 'postgres+s3', budget: { commit: 40 }, environment: async () => env }
 * ```
 */
export interface CrashSuiteOptions {
  /** Printed after `[crash-sim]` on every line, e.g. `postgres+s3`. */
  readonly label?: string
  /** Fault points per operation kind (default {@link DEFAULT_BUDGET}; `TARN_CRASH_BUDGET` overrides both). */
  readonly budget?: Partial<Record<OperationKind, number>>
  /** Starts the environment before the tests (servers, proxies) and says how to stop it after them. */
  readonly environment?: () => Promise<{ factory: SimEnvironmentFactory; close(): Promise<void> }>
  /** When set, the suite is skipped (the reason is printed by whoever decided). */
  readonly skip?: boolean
}

/**
 * Declares the crash-simulation tests of some operation kinds: each runs every scheduled fault point, reopens the
 * lake and asserts no invariant broke. Prints the seed first and the figures last.
 */
export function crashSuite(
  title: string,
  file: string,
  kinds: readonly OperationKind[],
  options: CrashSuiteOptions = {},
): void {
  const seed = crashSeed()
  const budgetOverride = process.env.TARN_CRASH_BUDGET ? Number(process.env.TARN_CRASH_BUDGET) : undefined
  const reports: OperationReport[] = []
  const tag = options.label ? `[crash-sim] ${options.label}` : '[crash-sim]'
  let started: { factory: SimEnvironmentFactory; close(): Promise<void> } | undefined
  describe.skipIf(options.skip === true)(title, () => {
    beforeAll(async () => {
      console.log(`${tag} TARN_SEED=${seed} (replay: TARN_SEED=${seed} npx vitest run ${file})`)
      started = await options.environment?.()
    }, 60_000)
    afterAll(async () => {
      const points = reports.reduce((n, r) => n + r.points.length, 0)
      const violations = reports.reduce(
        (n, r) => n + r.points.filter((p) => p.violations.length > 0).length,
        0,
      )
      console.log(
        `${tag} TARN_SEED=${seed} ${reports.map((r) => `${r.kind}=${r.points.length}/${r.candidates} (N=${r.ios})`).join(' ')} fault points=${points} violations=${violations}`,
      )
      await started?.close()
    })
    for (const kind of kinds) {
      it(`${SENTENCES[kind]} leaves every head old or new, every referenced file whole, no acknowledged commit lost and no failed run visible`, async () => {
        const t0 = Date.now()
        const budget = budgetOverride ?? options.budget?.[kind] ?? DEFAULT_BUDGET[kind]
        const report = await simulateOperation(kind, seed, budget, started?.factory)
        reports.push(report)
        const bad = report.points.filter((p) => p.violations.length > 0)
        const known = report.points.filter((p) => p.known.length > 0)
        console.log(
          `${tag} ${kind}: ${report.points.length} fault points of ${report.candidates} (N=${report.ios} I/Os), violations=${bad.length}, known product bugs hit=${known.length}, ${Date.now() - t0} ms${report.notes ? `, ${report.notes}` : ''}`,
        )
        for (const p of known.slice(0, 20)) {
          console.log(
            `${tag} known bug: TARN_SEED=${seed} ${kind} k=${p.k} ${p.kind} at ${p.hit}: ${p.known.join('; ')}`,
          )
        }
        for (const p of bad) {
          console.log(
            `${tag} VIOLATION: TARN_SEED=${seed} ${kind} k=${p.k} ${p.kind} at ${p.hit}: ${p.violations.join('; ')}`,
          )
        }
        expect(
          bad.map((p) => `TARN_SEED=${seed} ${kind} k=${p.k} ${p.kind}: ${p.violations.join('; ')}`),
        ).toEqual([])
        expect(report.points.length).toBeGreaterThan(0)
      }, 240_000)
    }
  })
}
