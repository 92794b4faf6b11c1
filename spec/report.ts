import { pathToFileURL } from 'node:url'
import { type Bound, FULL_BOUND, RUNS_BOUND } from './checker/bound.js'
import { type ExploreResult, explore } from './checker/explore.js'
import { formatCounterexample } from './checker/format-counterexample.js'
import { BAD_VARIANTS, CORRECT } from './model/variants.js'

/**
 * The figures of one model-checking run: the correct model under each bound, and each bad variant's counterexample.
 *
 * @example
 * ```ts
 * const figures = collectFigures()
 * ```
 */
export interface Figures {
  readonly correct: readonly {
    readonly name: string
    readonly bound: Bound
    readonly result: ExploreResult
  }[]
  readonly bad: readonly {
    readonly name: string
    readonly description: string
    readonly breaks: string
    readonly result: ExploreResult
  }[]
}

/**
 * Explores the correct model under the CI bounds and every bad variant (stopping at its first counterexample).
 *
 * @example
 * ```ts
 * collectFigures({ FULL: { ...FULL_BOUND, depth: 3 } }, { ...FULL_BOUND, depth: 5 })
 * ```
 */
export function collectFigures(
  bounds: Readonly<Record<string, Bound>> = { FULL_BOUND, RUNS_BOUND },
  badBound: Bound = FULL_BOUND,
): Figures {
  const correct = Object.entries(bounds).map(([name, bound]) => ({
    name,
    bound,
    result: explore(bound, CORRECT),
  }))
  const bad = BAD_VARIANTS.map((b) => ({
    name: b.name,
    description: b.description,
    breaks: b.breaks,
    result: explore(badBound, b.variant, { stopAt: b.breaks }),
  }))
  return { correct, bad }
}

function describeBound(b: Bound): string {
  const plans = b.plans.map((p) => `[${p.map((s) => `${s.mode} ${s.table}`).join(', ')}]`).join(' ')
  return (
    `${b.tables.length} tables, ${b.branches.length + 1} user branches, ${b.tags.length} tag(s), ` +
    `≤ ${b.maxRuns} concurrent runs with plans ${plans}, ${b.depth} steps`
  )
}

/**
 * The figures as the Markdown section of docs/reliability.md.
 *
 * @example
 * ```ts
 * console.log(renderFigures(collectFigures()))
 * ```
 */
export function renderFigures(f: Figures): string {
  const lines: string[] = ['### Correct model', '']
  lines.push(
    '| bound | what | states explored | transitions | violations | time |',
    '|---|---|---|---|---|---|',
  )
  for (const c of f.correct)
    lines.push(
      `| ${c.name} | ${describeBound(c.bound)} | ${c.result.states} | ${c.result.transitions} | ` +
        `${c.result.violations} | ${(c.result.millis / 1000).toFixed(1)} s |`,
    )
  const states = f.correct.reduce((n, c) => n + c.result.states, 0)
  const violations = f.correct.reduce((n, c) => n + c.result.violations, 0)
  lines.push('', `Total: ${states} states explored, ${violations} violations.`, '', '### Bad variants', '')
  for (const b of f.bad) {
    const c = b.result.counterexamples.get(b.breaks)
    const found = c ? ` in ${c.steps.length} steps` : ''
    lines.push(`**${b.name}** — ${b.description}. Breaks \`${b.breaks}\`${found}`)
    lines.push(`(${b.result.states} states explored to find it):`, '')
    lines.push(
      '```',
      c ? formatCounterexample(c) : 'NO COUNTEREXAMPLE FOUND — the checker is broken',
      '```',
      '',
    )
  }
  return lines.join('\n')
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  console.log(renderFigures(collectFigures()))
