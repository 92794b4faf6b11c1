import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Catalog, openCatalogBackend } from '../../src/index.js'
import { ensureBuilt } from '../helpers/build.js'
import { jsonLinesOf } from '../helpers/json-lines-child.js'
import { freshSchemaUrl, postgresUrl } from '../helpers/postgres.js'
import { testSeed } from '../helpers/test-seed.js'

const WRITERS = 8
const COMMITS = 25
const pg = await postgresUrl()

interface Line {
  ack?: string
  rejected?: string
  writer: string
  k: number
}

function writer(url: string, id: number, mode: string): Promise<Line[]> {
  return jsonLinesOf<Line>('test/fixtures/concurrent-writer.mjs', [url, String(id), String(COMMITS), mode])
}

async function runWriters(url: string, mode: string): Promise<{ lines: Line[]; catalog: Catalog }> {
  const catalog = new Catalog(openCatalogBackend(url))
  await catalog.init()
  const lines = (await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(url, i, mode)))).flat()
  return { lines, catalog }
}

async function checkNoLostUpdate(catalog: Catalog, lines: Line[]): Promise<void> {
  const acked = lines.filter((l) => l.ack).map((l) => l.ack as string)
  const history = new Set((await catalog.log('main')).map((c) => c.hash))
  for (const h of acked) expect(history.has(h)).toBe(true)
  const reflog = await catalog.backend.reflog('main')
  for (let i = 1; i < reflog.length; i++) expect(reflog[i]?.oldHead).toBe(reflog[i - 1]?.newHead)
  expect(reflog.at(-1)?.newHead).toBe((await catalog.getBranch('main')).head)
  expect(reflog.length).toBe(acked.length + 1)
}

const backends: [string, () => string][] = [
  ['sqlite', () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'tarn-conc-')), 'catalog.db')}`],
]
if (pg) backends.push(['postgres', () => freshSchemaUrl(pg, 'conc')])

describe.each(backends)('concurrent writers on %s', (_name, url) => {
  beforeAll(() => ensureBuilt())

  it(`lets ${WRITERS} processes commit to one branch without losing an acknowledged commit`, async () => {
    const { lines, catalog } = await runWriters(url(), 'own-table')
    try {
      expect(lines.filter((l) => l.ack)).toHaveLength(WRITERS * COMMITS)
      await checkNoLostUpdate(catalog, lines)
      const state = await catalog.state('main')
      for (let i = 0; i < WRITERS; i++)
        expect(state.tables[`tarn.w${i}`]?.snapshotId).toBe(String(COMMITS - 1))
    } finally {
      await catalog.close()
    }
  })

  it('rejects rather than loses a racing write to the same table, and keeps one chain of heads', async () => {
    const { lines, catalog } = await runWriters(url(), 'same-table')
    try {
      expect(lines.filter((l) => l.ack).length).toBeGreaterThan(0)
      await checkNoLostUpdate(catalog, lines)
      const last = (await catalog.log('main', { limit: 1 }))[0]
      const winner = lines.find((l) => l.ack === last?.hash)
      expect((await catalog.getTable('main', 'shared'))?.metadataLocation).toBe(
        `file:///w/${winner?.writer}/${winner?.k}.json`,
      )
    } finally {
      await catalog.close()
    }
  })
})

describe.each(backends)('random concurrent commits and merges on %s', (_name, url) => {
  beforeAll(() => ensureBuilt())

  it('keeps one chain of heads per branch and every acknowledged commit and merge in its branch history', async () => {
    const catalogUrl = url()
    const catalog = new Catalog(openCatalogBackend(catalogUrl))
    await catalog.init()
    for (const b of ['b1', 'b2', 'b3']) await catalog.createBranch(b, { from: 'main' })
    const seed = testSeed(7)
    console.log(`[concurrency] TARN_SEED=${seed}`)
    const run = (id: number) =>
      jsonLinesOf<{ op: string; branch?: string; hash?: string; source?: string }>(
        'test/fixtures/random-writer.mjs',
        [catalogUrl, String(id), '30', String(seed * 100 + id)],
      )
    try {
      const lines = (await Promise.all(Array.from({ length: 6 }, (_, i) => run(i)))).flat()
      const acked = lines.filter((l) => l.op === 'commit' || l.op === 'merge')
      expect(acked.length).toBeGreaterThan(60)
      expect(lines.some((l) => l.op === 'merge')).toBe(true)
      for (const b of ['main', 'b1', 'b2', 'b3']) {
        const reflog = await catalog.backend.reflog(b)
        for (let i = 1; i < reflog.length; i++) expect(reflog[i]?.oldHead).toBe(reflog[i - 1]?.newHead)
        expect(reflog.at(-1)?.newHead).toBe((await catalog.getBranch(b)).head)
        const history = new Set((await catalog.log(b)).map((c) => c.hash))
        for (const l of acked.filter((x) => x.branch === b)) {
          expect(history.has(l.hash as string)).toBe(true)
          if (l.source) expect(history.has(l.source)).toBe(true)
        }
      }
    } finally {
      await catalog.close()
    }
  })
})
