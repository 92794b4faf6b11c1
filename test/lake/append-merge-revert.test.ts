import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fixedClock, Lake, seededRandom } from '../../src/index.js'
import { codeOf } from '../helpers/errors.js'

let dir: string
let lake: Lake
let n = 0

/** A one-row JSON-lines file holding `marker`. */
function file(marker: string): string {
  const path = join(dir, `f${n++}.jsonl`)
  writeFileSync(path, `${JSON.stringify({ marker })}\n`)
  return path
}

async function rows(ref: string): Promise<string[]> {
  const r = await lake.query('SELECT marker FROM tarn.t', { ref })
  return r
    .rows()
    .map((x) => String(x.marker))
    .sort()
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tarn-append-'))
  lake = await Lake.init({
    home: join(dir, 'lake'),
    env: {},
    author: 'test',
    clock: fixedClock(Date.parse('2026-03-01T00:00:00Z'), 1000),
    random: seededRandom(5),
  })
  await lake.createTable('tarn.t', { from: file('base') })
})

afterEach(async () => {
  await lake.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('append-only merges and reverts on real Iceberg tables', () => {
  it('merges two branches that keep appending again and again, each time without a conflict', async () => {
    await lake.createBranch('dev', { from: 'main' })
    for (let round = 0; round < 3; round++) {
      await lake.importTable('tarn.t', { from: file(`main${round}`), branch: 'main' })
      await lake.importTable('tarn.t', { from: file(`dev${round}`), branch: 'dev' })
      const m = await lake.merge('dev', { into: 'main' })
      expect(m.kind).toBe('merge')
    }
    expect(await rows('main')).toEqual(['base', 'dev0', 'dev1', 'dev2', 'main0', 'main1', 'main2'])
    // and back the other way: dev takes main's appends, each file once
    await lake.merge('main', { into: 'dev' })
    expect(await rows('dev')).toEqual(await rows('main'))
  })

  it('reverts an append that later appends followed, removing exactly the files it added', async () => {
    const bad = await lake.importTable('tarn.t', { from: file('bad'), branch: 'main' })
    await lake.importTable('tarn.t', { from: file('later'), branch: 'main' })
    const r = await lake.revert(bad.commit.hash, { on: 'main' })
    expect(r.tables).toEqual(['tarn.t'])
    expect(await rows('main')).toEqual(['base', 'later'])
    // the files are gone already, by a change that was not an append: a second revert is refused, saying why
    const again = await lake.revert(bad.commit.hash, { on: 'main' }).catch((e: Error & { code: string }) => e)
    expect((again as { code?: string }).code).toBe('REVERT_CONFLICT')
    expect((again as Error).message).toContain('tarn.t: the commit was already reverted (snapshot ')
    expect(await rows('main')).toEqual(['base', 'later'])
  })

  it('refuses to revert an append when the table was replaced since, and changes nothing', async () => {
    const appended = await lake.importTable('tarn.t', { from: file('appended'), branch: 'main' })
    await lake.importTable('tarn.t', { from: file('fresh'), branch: 'main', replace: true })
    const head = (await lake.getBranch('main')).head
    expect(await codeOf(lake.revert(appended.commit.hash, { on: 'main' }))).toBe('REVERT_CONFLICT')
    expect((await lake.getBranch('main')).head).toBe(head)
    expect(await rows('main')).toEqual(['fresh'])
  })

  it('conflicts when one side removed appended files by a revert and the other side appended', async () => {
    await lake.createBranch('dev', { from: 'main' })
    const a = await lake.importTable('tarn.t', { from: file('a'), branch: 'main' })
    await lake.importTable('tarn.t', { from: file('b'), branch: 'main' })
    await lake.merge('main', { into: 'dev' })
    await lake.revert(a.commit.hash, { on: 'main' })
    await lake.importTable('tarn.t', { from: file('c'), branch: 'dev' })
    expect(await codeOf(lake.merge('dev', { into: 'main' }))).toBe('MERGE_CONFLICT')
    expect(await rows('main')).toEqual(['b', 'base'])
  })
})
