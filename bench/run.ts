import { writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { benchCatalog } from './catalog.js'
import { benchExport } from './export.js'
import { benchIceberg } from './iceberg.js'
import { benchPipeline } from './pipeline.js'
import { benchQuery } from './query.js'
import { type BenchSection, fmt } from './result.js'
import { benchSim } from './sim.js'

type Bench = () => Promise<BenchSection>

const BENCHES: Record<string, Bench> = {
  catalog: benchCatalog,
  iceberg: benchIceberg,
  query: benchQuery,
  export: benchExport,
  pipeline: benchPipeline,
  sim: async () => ({
    title: 'Scheduling simulator',
    description:
      "Eudoxia's default configuration (600 s at 1000 ticks/s, priority scheduler) and its regression traces, " +
      'event-driven engine against the tick-by-tick engine in the same run; Eudoxia itself takes about 8 s here.',
    results: await benchSim(),
  }),
}

function render(sections: readonly BenchSection[]): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  const lines = [
    '# Benchmarks',
    '',
    `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} cores (${cpu}), ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. Every ratio compares against a baseline ` +
      'measured in the same run. Regenerate this page with `npm run bench`; run one group with ' +
      '`npm run bench -- <group>`.',
    '',
  ]
  for (const s of sections) {
    lines.push(
      `## ${s.title}`,
      '',
      s.description,
      '',
      '| measurement | value | unit | vs | ratio |',
      '|---|---:|---|---|---:|',
    )
    for (const r of s.results) {
      lines.push(
        `| ${r.name} | ${fmt(r.value)} | ${r.unit} | ${r.baseline ?? ''} | ${r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`} |`,
      )
    }
    const notes = s.results.filter((r) => r.note)
    if (notes.length > 0) lines.push('', ...notes.map((r) => `- ${r.name}: ${r.note}`))
    lines.push('')
  }
  return `${lines.join('\n')}\n`
}

const only = process.argv.slice(2)
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
if (only.length === 0) {
  const out = join(import.meta.dirname, '..', '..', 'docs', 'benchmarks.md')
  writeFileSync(out, render(sections))
  process.stderr.write(`[bench] wrote ${out}\n`)
}
