import { existsSync } from 'node:fs'
import type { Browser } from 'playwright-core'

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
