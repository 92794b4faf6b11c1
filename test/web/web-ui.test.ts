import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureBuilt, ROOT } from '../helpers/build.js'
import { chromiumAvailable, launchChromium } from '../helpers/chromium.js'
import { uvAvailable } from '../helpers/uv.js'
import { type ServedProcess, startServe } from '../server/served-process.js'

const run = promisify(execFile)
const SHOTS = join(ROOT, 'test-results', 'screenshots')
const TARN = join(ROOT, 'bin', 'tarn.js')
const withBrowser =
  chromiumAvailable('the web UI tests') && uvAvailable('the web UI tests (the taxi example)')

interface Job {
  id: string
  status: string
  nodes: { id: string; status: string }[]
  tables: Record<string, number>
  mergeCommit: string | null
}

describe.runIf(withBrowser)('the web UI in Chromium against tarn serve', () => {
  let home: string
  let url: string
  let server: ServedProcess | undefined
  let browser: Browser
  let page: Page
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, TARN_HOME: home, TARN_USER: 'tester' })
  const tarn = async (...args: string[]): Promise<string> =>
    (await run(process.execPath, [TARN, ...args], { env: env(), cwd: ROOT })).stdout
  const apiGet = async <T>(path: string): Promise<T> =>
    (await (await fetch(`${url}/api/v1${path}`)).json()) as T
  const shot = async (name: string): Promise<void> => {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
  }
  const go = async (hash: string): Promise<void> => {
    await page.goto(`${url}/#/${hash}`)
    await page.locator('h1').first().waitFor()
  }
  /** axe-core's label, name, ARIA and keyboard rules (WCAG 2 A and AA) on the page as it is now. */
  const axeViolations = async (): Promise<string[]> => {
    const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
    // evaluated through the DevTools protocol: the app's Content-Security-Policy allows no injected script tags
    await page.evaluate(readFileSync(axePath, 'utf8'))
    const result = (await page.evaluate(
      "axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })",
    )) as { violations: { id: string; nodes: { target: string[] }[] }[] }
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  }
  /**
   * Tabs through the page and returns the visible controls Tab never reached (a closed <details> hides its own).
   * Tabbing goes on while it still reaches new controls, so a part of the page drawn late is tabbed through too.
   */
  const unreachedByTab = async (): Promise<string[]> => {
    const focusable = `[...document.querySelectorAll('a[href], button:not([disabled]), input, select, textarea, [tabindex="0"]')]`
    const count = (await page.evaluate(
      `(() => {
        document.addEventListener('focusin', (e) => e.target.setAttribute('data-reached', '1'))
        document.activeElement?.blur()
        return ${focusable}.filter((el) => el.checkVisibility()).length
      })()`,
    )) as number
    let unreached: string[] = []
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < count + 3; i++) await page.keyboard.press('Tab')
      const left = (await page.evaluate(
        `${focusable}.filter((el) => el.checkVisibility() && !el.hasAttribute('data-reached')).map((el) => el.outerHTML.slice(0, 80))`,
      )) as string[]
      if (left.length === 0 || left.join() === unreached.join()) return left
      unreached = left
    }
    return unreached
  }

  beforeAll(async () => {
    ensureBuilt()
    mkdirSync(SHOTS, { recursive: true })
    home = mkdtempSync(join(tmpdir(), 'tarn-web-'))
    await tarn('init')
    await run(process.execPath, [
      join(ROOT, 'examples', 'taxi', 'generate.mjs'),
      join(home, 'data'),
      '--trips',
      '2000',
    ])
    await tarn(
      'table',
      'create',
      'trips',
      '--from',
      join(home, 'data', 'trips.parquet'),
      '--partitioned-by',
      'day(pickup_ts)',
    )
    await tarn('table', 'create', 'zones', '--from', join(home, 'data', 'zones.csv'))
    await tarn('branch', 'protect', 'main')
    server = await startServe({ TARN_HOME: home })
    url = server.url
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  })

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
  })

  it('lists branches with their head, author and age, and creates a branch from the form', async () => {
    await go('branches')
    const main = page.locator('tr[data-branch="main"]')
    await expect(main.textContent()).resolves.toContain('protected')
    await expect(main.textContent()).resolves.toContain('tester')
    await expect(main.textContent()).resolves.toMatch(/\d+ (s|min) ago/)
    // the loopback server without keys put what the table needs into the page: it asked the API for nothing
    const asked = await page.evaluate(
      "performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/api/'))",
    )
    expect(asked).toEqual([])
    // every cell of the row starts on the same line (a Message cell once sat lower than its neighbours)
    const tops = await main
      .locator(':scope > th, :scope > td')
      .evaluateAll((cells) => cells.map((c) => Math.round(c.getBoundingClientRect().top)))
    expect(tops).toHaveLength(6)
    expect(new Set(tops).size).toBe(1)
    await page.getByLabel('Name', { exact: true }).fill('dev')
    await page.getByRole('button', { name: 'Create' }).click()
    await page.locator('tr[data-branch="dev"]').waitFor()
    const { branches } = await apiGet<{ branches: { name: string }[] }>('/branches')
    expect(branches.map((b) => b.name)).toEqual(['dev', 'main'])
    await shot('branches')
  })

  it("shows the server's error for an invalid branch name and creates nothing", async () => {
    await go('branches')
    await page.getByLabel('Name', { exact: true }).fill('bad name')
    await page.getByRole('button', { name: 'Create' }).click()
    const alert = page.locator('form .error[role="alert"]')
    await alert.waitFor()
    expect(await alert.getAttribute('data-code')).toBe('INVALID_NAME')
    expect(await alert.textContent()).toContain('invalid branch name "bad name"')
    const { branches } = await apiGet<{ branches: { name: string }[] }>('/branches')
    expect(branches.map((b) => b.name)).toEqual(['dev', 'main'])
    await shot('branches-invalid-name')
  })

  it('follows a run of the example pipeline live until its DAG is all green', async () => {
    const cli = run(
      process.execPath,
      [TARN, 'run', '-p', join(ROOT, 'examples', 'taxi'), '-r', 'dev', '--json'],
      {
        env: env(),
        cwd: ROOT,
      },
    )
    await go('runs')
    const row = page.locator('tr[data-job]').first()
    await row.waitFor({ timeout: 30_000 })
    const jobId = (await row.getAttribute('data-job')) as string
    await row.locator('a').click()
    const nodes = page.locator('.dag-node')
    await nodes.first().waitFor()
    const seen = new Set<string>()
    for (;;) {
      const statuses = await nodes.evaluateAll((els) => els.map((e) => e.getAttribute('data-status') ?? ''))
      const done = statuses.filter((s) => s === 'done').length
      seen.add(done === statuses.length ? 'all-done' : done > 0 ? 'partly-done' : 'none-done')
      if (statuses.every((s) => s === 'done')) break
      if (statuses.includes('failed')) throw new Error(`a node failed: ${statuses.join(',')}`)
      await page.waitForTimeout(100)
    }
    await cli
    const job = await apiGet<{ job: Job }>(`/jobs/${jobId}`)
    expect(job.job.status).toBe('succeeded')
    // the page drew every node of the job, and turned them green one by one as the run went on
    expect(await nodes.count()).toBe(job.job.nodes.length)
    expect(seen).toContain('partly-done')
    expect(seen).toContain('all-done')
    await page.locator(`.job-detail[data-status="succeeded"]`).waitFor()
    expect(await page.locator('.dag-edge').count()).toBeGreaterThan(job.job.nodes.length / 2)
    interface SvgPath {
      getTotalLength(): number
      getPointAtLength(at: number): { x: number; y: number }
      getAttribute(name: string): string | null
    }
    // no arrow runs through a node's box: points along each edge lie outside every box it does not start or end at
    const crossings = await page.locator('svg.dag').evaluate((svg) => {
      const boxes = [...svg.querySelectorAll('g.dag-node rect')].map((r) =>
        (r as unknown as { getBBox(): { x: number; y: number; width: number; height: number } }).getBBox(),
      )
      const found: string[] = []
      for (const edge of svg.querySelectorAll('path.dag-edge')) {
        const path = edge as unknown as SvgPath
        const length = path.getTotalLength()
        for (let at = 2; at < length - 2; at += 2) {
          const p = path.getPointAtLength(at)
          const inside = boxes.find(
            (b) => p.x > b.x + 1 && p.x < b.x + b.width - 1 && p.y > b.y + 1 && p.y < b.y + b.height - 1,
          )
          if (inside) {
            found.push(`${path.getAttribute('d')} at (${p.x.toFixed(0)}, ${p.y.toFixed(0)})`)
            break
          }
        }
      }
      return found
    })
    expect(crossings).toEqual([])
    // every line of a node's box (name, kind and status, time, rows, files) ends inside the box
    const overflowing = await page.locator('svg.dag').evaluate((svg) => {
      type Box = { x: number; width: number }
      const bbox = (e: unknown): Box => (e as { getBBox(): Box }).getBBox()
      return [...svg.querySelectorAll('g.dag-node')].flatMap((g) => {
        const box = bbox(g.querySelector('rect'))
        return [...g.querySelectorAll('text')]
          .filter((t) => bbox(t).x + bbox(t).width > box.x + box.width - 2)
          .map((t) => t.textContent ?? '')
      })
    })
    expect(overflowing).toEqual([])
    await page.getByRole('button', { name: 'Show log of model:trips_clean' }).click()
    expect(await page.locator('pre.log-text').first().textContent()).toContain('REPLACE tarn.trips_clean')
    await shot('runs')
  })

  it('previews a merge with its diff, then merges on confirm', async () => {
    await go('branches')
    await page.getByRole('button', { name: 'Merge dev' }).click()
    await page.getByLabel('Into').selectOption('main')
    await page.getByRole('button', { name: 'Preview merge' }).click()
    const preview = page.locator('.merge-preview')
    await preview.waitFor()
    expect(await preview.getAttribute('data-kind')).toBe('fast-forward')
    const before = await apiGet<{ branch: { head: string } }>('/branches/main')
    const jobs = await apiGet<{ jobs: Job[] }>('/jobs')
    const tables = Object.keys(jobs.jobs[0]?.tables ?? {}).sort()
    const listed = await preview
      .locator('tr[data-table]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-table')))
    expect(listed.sort()).toEqual(tables)
    await shot('branches-merge-preview')
    // nothing moved before the confirmation
    expect((await apiGet<{ branch: { head: string } }>('/branches/main')).branch.head).toBe(
      before.branch.head,
    )
    await page.getByRole('button', { name: 'Confirm merge' }).click()
    await page.locator('section[aria-labelledby="merge-title"] [role="status"]').waitFor()
    const after = await apiGet<{ branch: { head: string } }>('/branches/main')
    expect(after.branch.head).toBe(jobs.jobs[0]?.mergeCommit)
  })

  it("opens the run's merge commit in the history and sees the tables it changed", async () => {
    const jobs = await apiGet<{ jobs: Job[] }>('/jobs')
    const job = jobs.jobs[0] as Job
    await go('history?ref=main')
    // the run's model commits sit beside main's line, joined by the merge edge
    expect(Number(await page.locator('svg.graph').getAttribute('data-merge-edges'))).toBeGreaterThanOrEqual(1)
    await page.locator(`a[data-hash="${job.mergeCommit}"]`).click()
    const detail = page.locator('.commit-detail')
    await detail.locator('tr[data-table]').first().waitFor()
    const tables = await detail
      .locator('tr[data-table]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-table')))
    expect(tables.sort()).toEqual(Object.keys(job.tables).sort())
    expect(await detail.textContent()).toContain(job.id)
    expect(await detail.locator('tr[data-table="tarn.trips_clean"]').textContent()).toContain(
      `+${job.tables['tarn.trips_clean']}`,
    )
    await shot('history-merge-commit')
  })

  it('queries main~1 and main and sees different counts; malformed SQL shows the error', async () => {
    const sql = "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'tarn'"
    const countAt = async (ref: string): Promise<string> => {
      await go(`query?ref=${encodeURIComponent(ref)}`)
      await page.locator('#sql').fill(sql)
      await page.getByRole('button', { name: 'Run', exact: true }).click()
      await page.locator('.result-summary', { hasText: `at ${ref} (commit` }).waitFor()
      return (await page.locator('table.grid td').first().textContent()) ?? ''
    }
    expect(await countAt('main~1')).toBe('2')
    expect(await countAt('main')).toBe('8')
    expect(await page.locator('table[aria-label="Scan plan"]').count()).toBe(0)
    await page
      .locator('#sql')
      .fill("SELECT count(*) FROM tarn.trips WHERE pickup_ts >= TIMESTAMP '2026-01-05'")
    await page.getByRole('button', { name: 'Run', exact: true }).click()
    await page.locator('table[aria-label="Scan plan"]').waitFor()
    expect(await page.locator('table[aria-label="Scan plan"]').textContent()).toMatch(/\d+ of 31/)
    await shot('query')
    const head = (await apiGet<{ branch: { head: string } }>('/branches/main')).branch.head
    await page.locator('#sql').fill('SELEC nonsense FROM')
    await page.getByRole('button', { name: 'Run', exact: true }).click()
    const alert = page.locator('.error[role="alert"]')
    await alert.waitFor()
    expect(await alert.textContent()).toMatch(/syntax error/i)
    expect((await apiGet<{ branch: { head: string } }>('/branches/main')).branch.head).toBe(head)
    await shot('query-error')
  })

  it('refuses to delete the protected main branch and shows why', async () => {
    await go('branches')
    await page.getByRole('button', { name: 'Delete main' }).click()
    await page.getByRole('button', { name: 'Yes, delete main' }).click()
    const alert = page.locator('tr[data-branch="main"] .error[role="alert"]')
    await alert.waitFor()
    expect(await alert.getAttribute('data-code')).toBe('BRANCH_PROTECTED')
    expect(await alert.textContent()).toContain('branch main cannot be deleted')
    expect((await fetch(`${url}/api/v1/branches/main`)).status).toBe(200)
    await shot('branches-delete-refused')
  })

  it('shows a table at a ref: schema with field ids, partition spec, snapshots and paged rows', async () => {
    await go('tables?ref=main&table=tarn.trips')
    const detail = page.locator('.table-detail')
    await detail.locator('[aria-label="Rows of tarn.trips"] table').waitFor()
    const text = (await detail.textContent()) ?? ''
    expect(text).toContain('2000 rows in 31 data files')
    expect(text).toContain('day(pickup_ts)')
    const firstField = await detail
      .locator('[aria-label="Schema of tarn.trips"] table tbody tr')
      .first()
      .textContent()
    expect(firstField).toMatch(/^1/)
    expect(await detail.locator('[aria-label="Rows of tarn.trips"] table tbody tr').count()).toBe(50)
    await page.getByRole('button', { name: 'Next rows' }).click()
    await detail.getByText('rows 51–100').waitFor()
    await shot('tables')
  })

  it('reruns a finished run from its page and follows the new job until its DAG is all green', async () => {
    const before = await apiGet<{ jobs: Job[] }>('/jobs')
    const old = before.jobs.find((j) => j.status === 'succeeded' && j.mergeCommit !== null) as Job
    await go(`runs?job=${old.id}`)
    await page.locator(`.job-detail[data-job="${old.id}"][data-status="succeeded"]`).waitFor()
    await page.getByRole('button', { name: 'Rerun' }).click()
    // the page moves to the new job as soon as it is planned, and draws its DAG while it runs
    const detail = page.locator(`.job-detail:not([data-job="${old.id}"])`)
    await detail.waitFor({ timeout: 30_000 })
    const id = (await detail.getAttribute('data-job')) as string
    expect(page.url()).toContain(`job=${id}`)
    await page
      .locator(`.job-detail[data-job="${id}"]:is([data-status="succeeded"], [data-status="failed"])`)
      .waitFor({ timeout: 90_000 })
    const job = (await apiGet<{ job: Job & { error: unknown } }>(`/jobs/${id}`)).job
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded')
    expect(job.nodes.map((n) => n.id).sort()).toEqual(old.nodes.map((n) => n.id).sort())
    const statuses = await page
      .locator('.dag-node')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))
    expect(statuses).toEqual(job.nodes.map(() => 'done'))
    // the new job is listed beside the old one, which is unchanged
    await page.locator(`tr[data-job="${id}"] .badge.succeeded`).waitFor()
    expect((await apiGet<{ job: Job }>(`/jobs/${old.id}`)).job.status).toBe('succeeded')
    expect((await apiGet<{ jobs: Job[] }>('/jobs')).jobs.length).toBe(before.jobs.length + 1)
    await shot('runs-rerun')
  }, 150_000)

  it('passes axe-core and reaches every control by keyboard on each page, at 1280x800 and narrow', async () => {
    const jobs = await apiGet<{ jobs: Job[] }>('/jobs')
    // a page changes only the URL's hash, so no load event waits for its data: each names what shows it is drawn
    const pages: [string, string][] = [
      ['branches', 'tr[data-branch="main"]'],
      ['history?ref=main', 'svg.graph'],
      ['tables?ref=main&table=tarn.zones', '[aria-label="Rows of tarn.zones"] table'],
      ['query?ref=main', '#sql'],
      [`runs?job=${jobs.jobs[0]?.id}`, '.job-detail .dag-node'],
    ]
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 800 })
      for (const [p, drawn] of pages) {
        await go(p)
        await page.locator(drawn).first().waitFor()
        await page.waitForLoadState('networkidle')
        expect(await axeViolations(), `${p} at ${width}`).toEqual([])
        expect(await unreachedByTab(), `${p} at ${width}`).toEqual([])
        const overflow = (await page.evaluate(
          'document.documentElement.scrollWidth - window.innerWidth',
        )) as number
        expect(overflow, `${p} at ${width} scrolls sideways`).toBeLessThanOrEqual(1)
        if (width < 1000) await shot(`narrow-${p.split('?')[0]}`)
      }
    }
  })
})
