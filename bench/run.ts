import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { benchCatalog } from './catalog.js'
import { benchCli } from './cli.js'
import { benchExport } from './export.js'
import { benchIceberg } from './iceberg.js'
import { benchIcebergRest } from './iceberg-rest.js'
import { benchPipeline } from './pipeline.js'
import { benchPlanning } from './planning.js'
import { benchPython } from './python.js'
import { benchQuery } from './query.js'
import { type BenchSection, fmt } from './result.js'
import { benchServer } from './server.js'
import { benchSim } from './sim.js'
import { benchWeb } from './web.js'
import { benchWorkers } from './workers.js'

type Bench = () => Promise<BenchSection>

const BENCHES: Record<string, Bench> = {
  catalog: benchCatalog,
  iceberg: benchIceberg,
  'iceberg-rest': benchIcebergRest,
  planning: benchPlanning,
  query: benchQuery,
  export: benchExport,
  pipeline: benchPipeline,
  python: benchPython,
  cli: benchCli,
  web: benchWeb,
  server: benchServer,
  sim: async () => ({
    title: 'Scheduling simulator',
    description:
      "Eudoxia's default configuration (600 s at 1000 ticks/s, priority scheduler) and its regression traces, " +
      'event-driven engine against the tick-by-tick engine in the same run; Eudoxia itself takes about 8 s here.',
    results: await benchSim(),
  }),
  workers: benchWorkers,
}

function render(sections: readonly BenchSection[]): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  const lines = [
    '# Benchmarks',
    '',
    `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} cores (${cpu}), ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. Every ratio compares against a baseline ` +
      'measured in the same run. Regenerate this page with `npm run bench`; run one group with ' +
      '`npm run bench -- <group>` (add `--write` to update only its section here).',
    '',
  ]
  for (const s of sections) lines.push(...renderSection(s))
  return `${lines.join('\n')}\n`
}

function renderSection(s: BenchSection): string[] {
  const lines: string[] = [
    `## ${s.title}`,
    '',
    s.description,
    '',
    '| measurement | value | unit | vs | ratio |',
    '|---|---:|---|---|---:|',
  ]
  for (const r of s.results) {
    lines.push(
      `| ${r.name} | ${fmt(r.value)} | ${r.unit} | ${r.baseline ?? ''} | ${r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`} |`,
    )
  }
  const notes = s.results.filter((r) => r.note)
  if (notes.length > 0) lines.push('', ...notes.map((r) => `- ${r.name}: ${r.note}`))
  lines.push('')
  return lines
}

/** Replaces the sections of `page` with the same titles as `sections` (appending new ones), keeping the rest. */
function mergeSections(page: string, sections: readonly BenchSection[]): string {
  let out = page.endsWith('\n') ? page : `${page}\n`
  for (const s of sections) {
    const body = renderSection(s).join('\n')
    const start = out.indexOf(`\n## ${s.title}\n`)
    if (start < 0) {
      out = `${out}\n${body}\n`
      continue
    }
    const next = out.indexOf('\n## ', start + 1)
    out = `${out.slice(0, start + 1)}${body}\n${next < 0 ? '' : out.slice(next + 1)}`
  }
  return out.replace(/\n{3,}/g, '\n\n')
}

const args = process.argv.slice(2)
/** `--write` with named groups: update only those groups' sections of docs/benchmarks.md. */
const write = args.includes('--write')
const only = args.filter((a) => a !== '--write')
const unknown = only.filter((g) => !(g in BENCHES))
if (unknown.length > 0) {
  process.stderr.write(
    `[bench] unknown group(s) ${unknown.join(', ')}; groups: ${Object.keys(BENCHES).join(', ')}\n`,
  )
  process.exit(2)
}
const sections: BenchSection[] = []
for (const [name, bench] of Object.entries(BENCHES)) {
  if (only.length > 0 && !only.includes(name)) continue
  process.stderr.write(`[bench] ${name}\n`)
  const section = await bench()
  sections.push(section)
  for (const r of section.results) {
    process.stdout.write(
      `${r.name.padEnd(72)} ${fmt(r.value).padStart(10)} ${r.unit}${r.ratio === undefined ? '' : `  (${r.ratio.toFixed(2)}x ${r.baseline})`}\n`,
    )
  }
}
const out = join(import.meta.dirname, '..', '..', 'docs', 'benchmarks.md')
if (only.length === 0) {
  writeFileSync(out, render(sections))
  process.stderr.write(`[bench] wrote ${out}\n`)
} else if (write) {
  writeFileSync(out, mergeSections(existsSync(out) ? readFileSync(out, 'utf8') : render([]), sections))
  process.stderr.write(`[bench] updated ${only.join(', ')} in ${out}\n`)
}
