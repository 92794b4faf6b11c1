import type { Priority } from '../runtime/scheduler/policy.js'
import type { SimReport } from './report.js'

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function num(n: number): string {
  return Number.isFinite(n) ? String(Math.round(n * 100) / 100) : '0'
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1
  const p = 10 ** Math.floor(Math.log10(v))
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p
  return 10 * p
}

const COLORS: Record<Priority, string> = { query: '#d62728', interactive: '#ff7f0e', batch: '#1f77b4' }

/**
 * Renders an SVG with two panels: pipeline latency by priority (every completed pipeline as a dot, the mean as a bar
 * and the p99 as a tick) and cluster utilisation over time (CPU allocated, RAM allocated, RAM consumed, sampled every
 * simulated second). Deterministic: same report, same bytes.
 */
export function renderPlot(report: SimReport): string {
  const W = 900
  const H = 720
  const left = 70
  const right = 30
  const out: string[] = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  )
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`)
  const s = report.stats
  out.push(
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(
      `tarn sim: ${s.scheduler}, adjusted latency ${num(s.adjusted_latency)} s, ${s.pipelines_all.completion_count}/${s.pipelines_all.arrival_count} pipelines completed`,
    )}</text>`,
  )

  // panel 1: latency by priority
  const t1 = 50
  const h1 = 260
  const prios: Priority[] = ['query', 'interactive', 'batch']
  const maxLat = niceMax(Math.max(1, ...prios.flatMap((p) => report.latencySeconds[p])))
  const y1 = (v: number): number => t1 + h1 - (v / maxLat) * h1
  out.push(`<text x="${left}" y="${t1 - 8}" font-size="13">Pipeline latency by priority (s)</text>`)
  out.push(
    `<text x="${W - right}" y="${t1 - 8}" text-anchor="end" fill="#555">dots: completed pipelines, bar: mean, dashed: p99</text>`,
  )
  for (let k = 0; k <= 5; k++) {
    const v = (maxLat * k) / 5
    out.push(
      `<line x1="${left}" x2="${W - right}" y1="${num(y1(v))}" y2="${num(y1(v))}" stroke="#e5e5e5"/><text x="${left - 6}" y="${num(y1(v) + 4)}" text-anchor="end">${num(v)}</text>`,
    )
  }
  const colW = (W - left - right) / prios.length
  prios.forEach((p, i) => {
    const cx = left + colW * i + colW / 2
    const lat = report.latencySeconds[p]
    const stats =
      p === 'query' ? s.pipelines_query : p === 'interactive' ? s.pipelines_interactive : s.pipelines_batch
    if (stats.completion_count > 0) {
      const m = stats.mean_latency_seconds
      out.push(
        `<rect x="${num(cx - colW / 4)}" y="${num(y1(m))}" width="${num(colW / 2)}" height="${num(t1 + h1 - y1(m))}" fill="${COLORS[p]}" fill-opacity="0.25"/>`,
      )
      const p99 = stats.p99_latency_seconds
      out.push(
        `<line x1="${num(cx - colW / 4)}" x2="${num(cx + colW / 4)}" y1="${num(y1(p99))}" y2="${num(y1(p99))}" stroke="${COLORS[p]}" stroke-width="2" stroke-dasharray="5,3"/>`,
      )
    }
    lat.forEach((v, j) => {
      const jitter = (((j * 2654435761) >>> 0) % 1000) / 1000 - 0.5
      out.push(
        `<circle cx="${num(cx + jitter * (colW / 3))}" cy="${num(y1(v))}" r="2" fill="${COLORS[p]}" fill-opacity="0.7"/>`,
      )
    })
    out.push(
      `<text x="${num(cx)}" y="${t1 + h1 + 18}" text-anchor="middle">${esc(
        `${p} (${stats.completion_count}/${stats.arrival_count}) mean ${num(stats.mean_latency_seconds)} p99 ${num(stats.p99_latency_seconds)}`,
      )}</text>`,
    )
  })
  out.push(`<line x1="${left}" x2="${left}" y1="${t1}" y2="${t1 + h1}" stroke="#333"/>`)
  out.push(`<line x1="${left}" x2="${W - right}" y1="${t1 + h1}" y2="${t1 + h1}" stroke="#333"/>`)

  // panel 2: utilisation
  const t2 = 400
  const h2 = 260
  const dur = Math.max(1, s.duration)
  const x2 = (sec: number): number => left + (sec / dur) * (W - left - right)
  const y2 = (pct: number): number => t2 + h2 - (Math.min(100, Math.max(0, pct)) / 100) * h2
  out.push(
    `<text x="${left}" y="${t2 - 8}" font-size="13">Cluster utilisation over time (% of all pools)</text>`,
  )
  for (let k = 0; k <= 4; k++) {
    const v = 25 * k
    out.push(
      `<line x1="${left}" x2="${W - right}" y1="${num(y2(v))}" y2="${num(y2(v))}" stroke="#e5e5e5"/><text x="${left - 6}" y="${num(y2(v) + 4)}" text-anchor="end">${v}</text>`,
    )
  }
  for (let k = 0; k <= 6; k++) {
    const sec = (dur * k) / 6
    out.push(`<text x="${num(x2(sec))}" y="${t2 + h2 + 16}" text-anchor="middle">${num(sec)} s</text>`)
  }
  const series: [string, string, (u: SimReport['samples'][number]) => number][] = [
    ['CPU allocated', '#2ca02c', (u) => u.cpuPercent],
    ['RAM allocated', '#1f77b4', (u) => u.ramAllocatedPercent],
    ['RAM consumed', '#9467bd', (u) => u.ramConsumedPercent],
  ]
  series.forEach(([label, color, f], i) => {
    const pts = report.samples.map((u) => `${num(x2(u.seconds))},${num(y2(f(u)))}`).join(' ')
    out.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="1.5"/>`)
    const lx = left + 10 + i * 150
    out.push(
      `<line x1="${lx}" x2="${lx + 20}" y1="${t2 + h2 + 40}" y2="${t2 + h2 + 40}" stroke="${color}" stroke-width="2"/><text x="${lx + 25}" y="${t2 + h2 + 44}">${esc(label)}</text>`,
    )
  })
  out.push(`<line x1="${left}" x2="${left}" y1="${t2}" y2="${t2 + h2}" stroke="#333"/>`)
  out.push(`<line x1="${left}" x2="${W - right}" y1="${t2 + h2}" y2="${t2 + h2}" stroke="#333"/>`)
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
