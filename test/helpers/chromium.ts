import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { ROOT } from './build.js'

/** Debian's Chromium, which `.ci/run` installs (`apt-get install chromium`); browsers are never downloaded. */
export const CHROMIUM = '/usr/bin/chromium'

/**
 * Whether Debian's Chromium is installed. Outside CI a missing browser skips the browser tests and prints why; in CI
 * (`CI=true`) it throws, so the suite fails instead of passing without them.
 *
 * @example
 * const withBrowser = chromiumAvailable('the web UI tests')
 * describe.runIf(withBrowser)('the web UI', () => {})
 */
export function chromiumAvailable(what: string): boolean {
  const ok = existsSync(CHROMIUM)
  if (!ok && process.env.CI === 'true') throw new Error(`${CHROMIUM} is required in CI for ${what}`)
  if (!ok) console.warn(`[skip] ${what} skipped: ${CHROMIUM} is missing (apt-get install chromium)`)
  return ok
}

/**
 * Headless Chromium driven by playwright-core, with no background traffic (this machine's network is closed:
 * Chromium's own connections would only fail). Playwright gives each launch a new empty profile directory.
 *
 * @example
 * const browser = await launchChromium()
 * const page = await browser.newPage()
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core')
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

function newest(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

/**
 * Builds the web app into dist/web/ (`vite build web`, as `npm run build` does) unless it is newer than web/.
 *
 * @example
 * buildWebApp() // dist/web/index.html reflects web/
 */
export function buildWebApp(): void {
  const index = join(ROOT, 'dist', 'web', 'index.html')
  if (existsSync(index) && statSync(index).mtimeMs >= newest(join(ROOT, 'web'))) return
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'web'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  )
  if (r.status !== 0) throw new Error(`vite build web failed:\n${r.stdout}${r.stderr}`)
}
