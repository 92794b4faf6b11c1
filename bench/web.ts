import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { CHROMIUM, launchChromium } from '../test/helpers/chromium.js'
import { type BenchResult, type BenchSection, median } from './result.js'
import { startServe } from './serve-process.js'

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

/**
 * Runs in the page before its own scripts (an init script: the app's Content-Security-Policy forbids eval and inline
 * scripts): notes when the branch table first enters the document and when the frame after that is painted, by the
 * page's clock.
 */
function watchTable(): void {
  const g = globalThis as unknown as {
    document: { querySelector(s: string): unknown }
    performance: { now(): number }
    requestAnimationFrame(f: (t: number) => void): void
    MutationObserver: new (f: () => void) => { observe(n: unknown, o: object): void; disconnect(): void }
    tableShown?: number
  }
  const seen = new g.MutationObserver(() => {
    if (!g.document.querySelector('tr[data-branch="main"]')) return
    seen.disconnect()
    g.requestAnimationFrame(() => {
      g.tableShown = g.performance.now()
    })
  })
  // the document itself: its root element may not be parsed yet
  seen.observe(g.document, { childList: true, subtree: true })
}

/** Runs in the page: the time {@link watchTable} noted, once it did. */
function tableShown(): number | false {
  return (globalThis as { tableShown?: number }).tableShown ?? false
}

/** Runs in the page: where the first load's time went, by the page's clock (ms from navigation start). */
function waterfall(): Record<string, number> {
  const p = (
    globalThis as unknown as {
      performance: {
        getEntriesByType(t: string): { name: string; responseEnd: number; startTime: number }[]
      }
    }
  ).performance
  const nav = p.getEntriesByType('navigation')[0] as unknown as {
    responseEnd: number
    domContentLoadedEventEnd: number
  }
  const script = p.getEntriesByType('resource').find((e) => e.name.endsWith('.js'))
  const paint = p.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint')
  return {
    html: nav.responseEnd,
    script: script?.responseEnd ?? Number.NaN,
    ready: nav.domContentLoadedEventEnd,
    paint: paint?.startTime ?? Number.NaN,
    api: p.getEntriesByType('resource').filter((e) => e.name.includes('/api/')).length,
  }
}

/**
 * The web UI (`npm run bench -- web`): the bundle's size, and the first load of the branches page in headless
 * Chromium on loopback with an empty cache (a new browser context each time), until the branch table shows, and
 * where that time goes. The baselines: the same page from a server that needs a key (which sends no API answers with
 * the page, so the page asks for them as it did before they came with it), and the branch list as JSON from the API.
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
  // two lakes alike (4 branches); the second has an API key, so its server sends no answers with the page
  const lakeOf = (withKey: boolean): { home: string; token: string | undefined } => {
    const home = mkdtempSync(join(tmpdir(), 'tarn-bench-web-'))
    const env = { ...process.env, TARN_HOME: home }
    const tarn = (...args: string[]): string =>
      spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8' }).stdout
    tarn('init')
    for (const b of ['alice.dev', 'bob.dev', 'etl']) tarn('branch', 'create', b)
    const token = withKey
      ? (JSON.parse(tarn('key', 'create', 'viewer', '--allow', 'read:*', '--json')) as { token: string })
          .token
      : undefined
    return { home, token }
  }
  const open = lakeOf(false)
  const keyed = lakeOf(true)
  const servers = [await startServe({ TARN_HOME: open.home }), await startServe({ TARN_HOME: keyed.home })]
  const [url, keyedUrl] = servers.map((s) => s.url) as [string, string]
  const browser = await launchChromium()
  try {
    const pageLoads: number[] = []
    const keyedLoads: number[] = []
    const apiLoads: number[] = []
    const steps: Record<string, number>[] = []
    for (let i = -2; i < LOADS; i++) {
      for (const [target, into] of [
        ['page', pageLoads],
        ['keyed', keyedLoads],
        ['api', apiLoads],
      ] as const) {
        const context = await browser.newContext()
        const page = await context.newPage()
        // the page's own clock: from the start of its navigation (performance.now() = 0) until the frame that
        // shows the table; the browser's work before that (a renderer process for the new context) is left out
        let ms: number
        if (target === 'api') {
          await page.goto(`${url}/api/v1/branches`)
          ms = (await page.evaluate("performance.getEntriesByType('navigation')[0].responseEnd")) as number
        } else {
          if (target === 'keyed') {
            // the key as the app keeps it after its key form, so the page goes straight to the API
            await page.addInitScript(`sessionStorage.setItem('tarn.apiKey', ${JSON.stringify(keyed.token)})`)
          }
          await page.addInitScript(watchTable)
          await page.goto(`${target === 'page' ? url : keyedUrl}/#/branches`, { waitUntil: 'commit' })
          const shown = await page.waitForFunction(tableShown, undefined, { polling: 100 })
          ms = (await shown.jsonValue()) as number
          if (i >= 0 && target === 'page') steps.push(await page.evaluate(waterfall))
        }
        if (i >= 0) into.push(ms)
        await context.close()
      }
    }
    const page = median(pageLoads)
    const withKey = median(keyedLoads)
    const api = median(apiLoads)
    const step = (key: string): number => median(steps.map((s) => s[key] as number))
    results.push(
      {
        name: 'first load of the branches page until its table shows (goal ≤ 300 ms)',
        value: page,
        unit: 'ms',
        baseline:
          'the same page from a server that needs a key (it asks the API for the table after it loads)',
        ratio: page / withKey,
        note: `median of ${LOADS} loads, each in a new browser context (empty cache), timed by the page's clock from navigation start; load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores when it ended`,
      },
      {
        name: 'first load of the branches page from a server that needs a key (the key in the tab already)',
        value: withKey,
        unit: 'ms',
        baseline: 'the branch list as JSON',
        ratio: withKey / api,
      },
      { name: 'GET /api/v1/branches in the same browser, until its response ends', value: api, unit: 'ms' },
      {
        name: 'of the first load: index.html (with the first answers) received',
        value: step('html'),
        unit: 'ms',
      },
      { name: 'of the first load: the app script received', value: step('script'), unit: 'ms' },
      { name: 'of the first load: the app script ran (DOMContentLoaded)', value: step('ready'), unit: 'ms' },
      { name: 'of the first load: first contentful paint', value: step('paint'), unit: 'ms' },
      {
        name: 'of the first load: API calls made by the time the table showed',
        value: step('api'),
        unit: 'requests',
        note: 'the answers the branch table needs come inside index.html from a server open without keys (loopback); a server that needs a key sends none, and the page asks for them after it loads',
      },
    )
  } finally {
    await browser.close()
    await Promise.all(servers.map((s) => s.stop()))
    for (const l of [open, keyed]) rmSync(l.home, { recursive: true, force: true })
  }
  return {
    title: 'Web UI',
    description:
      'The web app `tarn serve` serves at `/` (Preact, built by Vite into dist/web/): its size as shipped, and the ' +
      'first load of its branches page in headless Chromium on loopback (4 branches, with their head commits, the ' +
      'tags and the protected branches), and where that time goes; against the same page from a server that needs a key, ' +
      'which puts no API answers in the page.',
    results,
  }
}
