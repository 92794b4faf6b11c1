import { readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { pathToFileURL } from 'node:url'
import { type Bound, FULL_BOUND, RUNS_BOUND } from './checker/bound.js'
import { type ExploreResult, explore } from './checker/explore.js'
import { formatCounterexample } from './checker/format-counterexample.js'
import { randomWalks, type WalkOptions, type WalkResult } from './checker/random-walks.js'
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
  /** When and where the figures were collected (ISO time, Node version, CPU count). */
  readonly at: string
  readonly node: string
  readonly cpus: number
  readonly correct: readonly {
    readonly name: string
    readonly bound: Bound
    readonly result: ExploreResult
  }[]
  /** Seeded random walks of the correct model beyond the exhaustive bound (as in test/spec/random-walks.test.ts). */
  readonly walks: { readonly options: WalkOptions; readonly result: WalkResult }
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
  walkOptions: WalkOptions = { walks: 10_000, length: 12, seed: 20261124 },
): Figures {
  const walks = { options: walkOptions, result: randomWalks(FULL_BOUND, walkOptions) }
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
  return {
    at: new Date().toISOString(),
    node: process.version,
    cpus: availableParallelism(),
    correct,
    walks,
    bad,
  }
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`
}

function describeBound(b: Bound): string {
  const plans = b.plans.map((p) => `[${p.map((s) => `${s.mode} ${s.table}`).join(', ')}]`).join(' ')
  return (
    `${plural(b.tables.length, 'table')}, ${plural(b.branches.length + 1, 'user branch', 'user branches')}, ` +
    `${plural(b.tags.length, 'tag')}, ≤ ${b.maxRuns} concurrent runs with plans ${plans}, ` +
    `users ${(b.userModes ?? ['append', 'overwrite']).join(' + ')}` +
    `${b.userOpsOnRunBranches === false ? ' and leave run branches alone' : ''}, ${b.depth} steps`
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
  const when = `Last run: ${f.at.slice(0, 16).replace('T', ' ')} UTC, Node ${f.node}, ${f.cpus} CPU(s).`
  const lines: string[] = [when, '', '### Correct model', '']
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
  const w = f.walks
  lines.push(
    '',
    `Total: ${states} states explored, ${violations} violations.`,
    '',
    `Random walks (FULL_BOUND names, seed ${w.options.seed}): ${w.result.walks} walks of ${w.options.length} ` +
      `operations, ${w.result.transitions} transitions, ${w.result.counterexamples.size} violations ` +
      `(${(w.result.millis / 1000).toFixed(1)} s).`,
    '',
    '### Bad variants',
    '',
  )
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

/**
 * The marker opening the generated section of docs/reliability.md.
 *
 * @example
 * ```ts
 * readFileSync('docs/reliability.md', 'utf8').includes(FIGURES_BEGIN) // true
 * ```
 */
export const FIGURES_BEGIN = '<!-- figures:begin (generated by spec/report.ts; do not edit by hand) -->'
/**
 * The marker closing the generated section.
 *
 * @example
 * ```ts
 * readFileSync('docs/reliability.md', 'utf8').includes(FIGURES_END) // true
 * ```
 */
export const FIGURES_END = '<!-- figures:end -->'

/**
 * Replaces the generated section of a document (between FIGURES_BEGIN and FIGURES_END) with `figures`.
 *
 * @example
 * ```ts
 * spliceFigures(readFileSync('docs/reliability.md', 'utf8'), renderFigures(collectFigures()))
 * ```
 */
export function spliceFigures(doc: string, figures: string): string {
  const begin = doc.indexOf(FIGURES_BEGIN)
  const end = doc.indexOf(FIGURES_END)
  if (begin < 0 || end < begin) throw new Error('the document has no generated figures section')
  return `${doc.slice(0, begin + FIGURES_BEGIN.length)}\n\n${figures.trim()}\n\n${doc.slice(end)}`
}

// `node report.js` prints the figures; `node report.js --write docs/reliability.md` also updates that document.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = renderFigures(collectFigures())
  console.log(figures)
  const i = process.argv.indexOf('--write')
  const target = i >= 0 ? process.argv[i + 1] : undefined
  if (target) writeFileSync(target, spliceFigures(readFileSync(target, 'utf8'), figures))
}
