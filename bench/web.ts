import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { gzipSync } from 'node:zlib'
import { CHROMIUM, launchChromium } from '../test/helpers/chromium.js'
import { type BenchResult, type BenchSection, median } from './result.js'

const ROOT = join(import.meta.dirname, '..', '..')
const BIN = join(ROOT, 'bin', 'tarn.js')
const WEB = join(ROOT, 'dist', 'web')
const LOADS = 15

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  )
}

/** The web app's files as served, raw and gzipped (level 9), in KiB. */
function bundleSize(): { raw: number; gz: number } {
  let raw = 0
  let gz = 0
  for (const f of files(WEB)) {
    raw += statSync(f).size
    gz += gzipSync(readFileSync(f), { level: 9 }).length
  }
  return { raw: raw / 1024, gz: gz / 1024 }
}

/** Runs in the page (a function, not a string: the app's Content-Security-Policy forbids eval). */
function tableShown(): number | false {
  const g = globalThis as unknown as {
    document: { querySelector(s: string): unknown }
    performance: { now(): number }
  }
  return g.document.querySelector('tr[data-branch="main"]') ? g.performance.now() : false
}

async function startServer(home: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--json'], {
    env: { ...process.env, TARN_HOME: home },
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  let out = ''
  for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
    out += line
    try {
      return { url: (JSON.parse(out) as { url: string }).url, child }
    } catch {}
  }
  throw new Error('tarn serve printed no URL')
}

/**
 * The web UI (`npm run bench -- web`): the bundle's size, and the first load of the branches page in headless
 * Chromium on loopback with an empty cache (a new browser context each time), until the branch table shows. The
 * baseline is the same browser fetching the branch list the page shows, as JSON, from the API.
 */
export async function benchWeb(): Promise<BenchSection> {
  const size = bundleSize()
  const results: BenchResult[] = [
    { name: 'web app bundle, gzipped (goal ≤ 300 KiB)', value: size.gz, unit: 'KiB' },
    { name: 'web app bundle, raw', value: size.raw, unit: 'KiB' },
  ]
  if (spawnSync(CHROMIUM, ['--version'], { stdio: 'ignore' }).status !== 0) {
    return {
      title: 'Web UI',
      description: `${CHROMIUM} is missing: only the bundle size was measured.`,
      results,
    }
  }
  const home = mkdtempSync(join(tmpdir(), 'tarn-bench-web-'))
  spawnSync(process.execPath, [BIN, 'init'], { env: { ...process.env, TARN_HOME: home }, stdio: 'ignore' })
  for (const b of ['alice.dev', 'bob.dev', 'etl']) {
    spawnSync(process.execPath, [BIN, 'branch', 'create', b], {
      env: { ...process.env, TARN_HOME: home },
      stdio: 'ignore',
    })
  }
  const { url, child } = await startServer(home)
  const browser = await launchChromium()
  try {
    const pageLoads: number[] = []
    const apiLoads: number[] = []
    for (let i = -2; i < LOADS; i++) {
      for (const [target, into] of [
        ['page', pageLoads],
        ['api', apiLoads],
      ] as const) {
        const context = await browser.newContext()
        const page = await context.newPage()
        // the page's own clock: from the start of its navigation (performance.now() = 0) until the table shows,
        // checked every frame; the browser's work before that (a renderer process for the new context) is left out
        let ms: number
        if (target === 'page') {
          await page.goto(`${url}/#/branches`, { waitUntil: 'commit' })
          const shown = await page.waitForFunction(tableShown, undefined, { polling: 'raf' })
          ms = (await shown.jsonValue()) as number
        } else {
          await page.goto(`${url}/api/v1/branches`)
          ms = (await page.evaluate("performance.getEntriesByType('navigation')[0].responseEnd")) as number
        }
        if (i >= 0) into.push(ms)
        await context.close()
      }
    }
    const page = median(pageLoads)
    const api = median(apiLoads)
    results.push(
      {
        name: 'first load of the branches page until its table shows (goal ≤ 300 ms)',
        value: page,
        unit: 'ms',
        baseline: 'the branch list as JSON',
        ratio: page / api,
        note: `median of ${LOADS} loads, each in a new browser context (empty cache), timed by the page's clock from navigation start; load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores when it ended`,
      },
      { name: 'GET /api/v1/branches in the same browser, until its response ends', value: api, unit: 'ms' },
    )
  } finally {
    await browser.close()
    child.kill('SIGTERM')
    rmSync(home, { recursive: true, force: true })
  }
  return {
    title: 'Web UI',
    description:
      'The web app `tarn serve` serves at `/` (Preact, built by Vite into dist/web/): its size as shipped, and the ' +
      'first load of its branches page in headless Chromium on loopback (4 branches; the page also asks for each ' +
      "branch's head commit, the tags and the protected branches).",
    results,
  }
}
