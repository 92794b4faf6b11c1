import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt, ROOT } from '../helpers/build.js'
import { chromiumAvailable, launchChromium } from '../helpers/chromium.js'
import { type ServedProcess, startServe } from '../server/served-process.js'

const run = promisify(execFile)
const SHOTS = join(ROOT, 'test-results', 'screenshots')
const TARN = join(ROOT, 'bin', 'tarn.js')
const withBrowser = chromiumAvailable('the web UI API key tests')

describe.runIf(withBrowser)('the web UI against a server that needs API keys', () => {
  let home: string
  let url: string
  let token: string
  let server: ServedProcess | undefined
  let browser: Browser
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, TARN_HOME: home, TARN_USER: 'tester' })
  const tarn = async (...args: string[]): Promise<string> =>
    (await run(process.execPath, [TARN, ...args], { env: env(), cwd: ROOT })).stdout

  beforeAll(async () => {
    ensureBuilt()
    mkdirSync(SHOTS, { recursive: true })
    home = mkdtempSync(join(tmpdir(), 'tarn-web-keys-'))
    await tarn('init')
    token = (
      JSON.parse(await tarn('key', 'create', 'viewer', '--allow', 'read:*', '--json')) as { token: string }
    ).token
    server = await startServe({ TARN_HOME: home })
    url = server.url
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  it('asks for a key, refuses a wrong one with the reason, keeps the right one for this tab only', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const page = await context.newPage()
    await page.goto(`${url}/#/branches`)
    const form = page.getByRole('form', { name: 'API key' })
    await form.waitFor()
    expect(await form.locator('[role="alert"]').getAttribute('data-code')).toBe('UNAUTHORIZED')
    expect(await form.locator('[role="alert"]').textContent()).toContain('this server needs an API key')
    await page.locator('#api-key').fill('0000000000000000.wrong')
    await page.getByRole('button', { name: 'Use key' }).click()
    // the server's reason for refusing the key replaces the request for one
    await form
      .locator('[role="alert"][data-code="UNAUTHORIZED"]', { hasNotText: 'needs an API key' })
      .waitFor()
    await page.screenshot({ path: join(SHOTS, 'api-key.png'), fullPage: true })
    await page.locator('#api-key').fill(token)
    await page.getByRole('button', { name: 'Use key' }).click()
    await page.locator('tr[data-branch="main"]').waitFor()
    expect(await form.count()).toBe(0)
    expect(await page.evaluate('sessionStorage.getItem("tarn.apiKey")')).toBe(token)
    expect(await page.evaluate('localStorage.length')).toBe(0)
    // another tab of the same browser profile starts without the key
    const other = await context.newPage()
    await other.goto(`${url}/#/branches`)
    await other.getByRole('form', { name: 'API key' }).waitFor()
    await context.close()
  })

  it("shows the server's refusal when the key lacks the rule, and creates nothing", async () => {
    const context = await browser.newContext()
    await context.addInitScript(`sessionStorage.setItem('tarn.apiKey', ${JSON.stringify(token)})`)
    const page = await context.newPage()
    await page.goto(`${url}/#/branches`)
    await page.locator('tr[data-branch="main"]').waitFor()
    await page.getByLabel('Name', { exact: true }).fill('alice.dev')
    await page.getByRole('button', { name: 'Create' }).click()
    const alert = page.locator('form .error[role="alert"]')
    await alert.waitFor()
    expect(await alert.getAttribute('data-code')).toBe('FORBIDDEN')
    expect(await alert.textContent()).toContain('key viewer lacks the rule write:alice.dev')
    const branches = (await (
      await fetch(`${url}/api/v1/branches`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { branches: { name: string }[] }
    expect(branches.branches.map((b) => b.name)).toEqual(['main'])
    await context.close()
  })
})
