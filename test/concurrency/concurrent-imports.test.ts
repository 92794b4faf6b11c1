import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { Lake } from '../../src/lake/lake.js'
import { LocalObjectStore } from '../../src/storage/local.js'
import { TarnError } from '../../src/util/errors.js'
import { ensureBuilt, ROOT } from '../helpers/build.js'
import { errorOf } from '../helpers/errors.js'
import { freshSchemaUrl, postgresUrl } from '../helpers/postgres.js'

const IMPORTERS = 8
const ROWS = 50
const pg = await postgresUrl()

interface Outcome {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the real `tarn` binary as its own process and resolves when it exits. */
function tarn(env: Record<string, string>, args: readonly string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'tarn.js'), ...args], {
      env: { ...process.env, ...env },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}

function csv(path: string, from: number, count: number): string {
  const lines = Array.from({ length: count }, (_, i) => `${from + i},zone${(from + i) % 7}`)
  writeFileSync(path, `id,zone\n${lines.join('\n')}\n`)
  return path
}

const backends: [string, (dir: string) => string][] = [
  ['sqlite', (dir) => `sqlite:${join(dir, 'catalog.db')}`],
]
if (pg) backends.push(['postgres', () => freshSchemaUrl(pg, 'imports')])

describe.each(backends)('concurrent imports into one table on one branch (%s)', (_name, url) => {
  beforeAll(() => ensureBuilt())

  async function setup(): Promise<{ dir: string; lake: Lake; env: Record<string, string> }> {
    const dir = mkdtempSync(join(tmpdir(), 'tarn-conc-import-'))
    const catalogUrl = url(dir)
    const warehouse = join(dir, 'warehouse')
    const lake = await Lake.init({ home: join(dir, 'home'), catalogUrl, warehouse, author: 'setup', env: {} })
    await lake.createTable('trips', { from: csv(join(dir, 'base.csv'), 0, ROWS), branch: 'main' })
    await lake.createBranch('conc', { from: 'main' })
    const env = {
      TARN_HOME: join(dir, 'client'),
      TARN_CATALOG_URL: catalogUrl,
      TARN_WAREHOUSE: warehouse,
      TARN_USER: 'importer',
    }
    return { dir, lake, env }
  }

  it(`lands all rows of ${IMPORTERS} importer processes started at once, one commit and snapshot each`, async () => {
    const { dir, lake, env } = await setup()
    try {
      const before = (await lake.log('conc')).length
      const files = Array.from({ length: IMPORTERS }, (_, i) =>
        csv(join(dir, `part-${i}.csv`), (i + 1) * 1000, ROWS),
      )
      const outcomes = await Promise.all(
        files.map((f) => tarn(env, ['table', 'import', 'trips', '--from', f, '--branch', 'conc', '--json'])),
      )
      for (const o of outcomes) expect(o.code, o.stderr).toBe(0)
      const log = await lake.log('conc')
      expect(log.length - before).toBe(IMPORTERS)
      expect(log.filter((c) => c.properties['tarn.operation'] === 'import')).toHaveLength(IMPORTERS)
      const details = await lake.getTable('trips', { ref: 'conc' })
      expect(details.snapshots).toHaveLength(1 + IMPORTERS)
      expect(details.recordCount).toBe(ROWS * (1 + IMPORTERS))
      const rows = await lake.query('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM trips', {
        ref: 'conc',
      })
      expect(rows.rows()).toEqual([
        { n: BigInt(ROWS * (1 + IMPORTERS)), ids: BigInt(ROWS * (1 + IMPORTERS)) },
      ])
      // every import's fingerprints survived the rebase: importing a file again is refused
      const again = await tarn(env, [
        'table',
        'import',
        'trips',
        '--from',
        files[3] as string,
        '-b',
        'conc',
        '--json',
      ])
      expect(again.code).toBe(4)
      expect(JSON.parse(again.stdout).error.code).toBe('ALREADY_IMPORTED')
    } finally {
      await lake.close()
    }
  }, 300_000)

  /** Opens a second lake on the same catalog whose next table metadata write waits until released. */
  async function gated(
    dir: string,
    catalogUrl: string,
  ): Promise<{ lake: Lake; reached: Promise<void>; release: () => void }> {
    const inner = await LocalObjectStore.create(join(dir, 'warehouse'))
    let release = (): void => undefined
    let reach = (): void => undefined
    const reached = new Promise<void>((r) => {
      reach = r
    })
    const open = new Promise<void>((r) => {
      release = r
    })
    let armed = true
    const store = new Proxy(inner, {
      get(target, prop, receiver) {
        // metadata files are written fresh (in place) where the store can, else by putIfAbsent: gate both
        if (prop === 'putIfAbsent' || prop === 'putFresh') {
          return async (key: string, data: Uint8Array): Promise<boolean> => {
            if (armed && key.endsWith('.metadata.json')) {
              armed = false
              reach()
              await open
            }
            return prop === 'putFresh' ? target.putFresh(key, data) : target.putIfAbsent(key, data)
          }
        }
        const v = Reflect.get(target, prop, receiver)
        return typeof v === 'function' ? v.bind(target) : v
      },
    })
    const lake = await Lake.open({ home: join(dir, 'gated'), catalogUrl, store, author: 'gated', env: {} })
    return { lake, reached, release }
  }

  it('refuses an append that raced a replace, and a replace that raced an append, with BRANCH_HEAD_CHANGED', async () => {
    for (const slow of ['append', 'replace'] as const) {
      const { dir, lake } = await setup()
      const g = await gated(dir, lake.config.catalogUrl)
      try {
        const slowFile = csv(join(dir, 'slow.csv'), 7000, 5)
        const pending = g.lake
          .importTable('trips', { from: slowFile, branch: 'conc', replace: slow === 'replace' })
          .then(
            () => undefined,
            (e: unknown) => e,
          )
        await g.reached
        await lake.importTable('trips', {
          from: csv(join(dir, 'fast.csv'), 8000, 3),
          branch: 'conc',
          replace: slow === 'append',
        })
        g.release()
        const e = await pending
        expect(e, `slow ${slow}`).toBeInstanceOf(TarnError)
        expect((e as TarnError).code).toBe('BRANCH_HEAD_CHANGED')
        expect((e as TarnError).message).toContain('tarn.trips')
        expect((await lake.getTable('trips', { ref: 'conc' })).recordCount).toBe(
          slow === 'append' ? 3 : ROWS + 3,
        )
      } finally {
        g.release()
        await g.lake.close()
        await lake.close()
      }
    }
  })

  it('rebases an append that raced another append, keeping both and its fingerprints', async () => {
    const { dir, lake } = await setup()
    const g = await gated(dir, lake.config.catalogUrl)
    try {
      const slowFile = csv(join(dir, 'slow.csv'), 7000, 5)
      const pending = g.lake.importTable('trips', { from: slowFile, branch: 'conc' })
      await g.reached
      await lake.importTable('trips', { from: csv(join(dir, 'fast.csv'), 8000, 3), branch: 'conc' })
      g.release()
      const r = await pending
      expect(r.addedRecords).toBe(5)
      const d = await lake.getTable('trips', { ref: 'conc' })
      expect(d.recordCount).toBe(ROWS + 8)
      expect(d.snapshots.map((s) => s.operation)).toEqual(['append', 'append', 'append'])
      const e = await errorOf(lake.importTable('trips', { from: slowFile, branch: 'conc' }))
      expect(e.code).toBe('ALREADY_IMPORTED')
    } finally {
      g.release()
      await g.lake.close()
      await lake.close()
    }
  })
})
