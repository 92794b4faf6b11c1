import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readTable } from '../../src/iceberg/index.js'
import { Lake } from '../../src/index.js'
import { parseDuration } from '../../src/lake/garbage-collector.js'

async function filesOf(lake: Lake): Promise<string[]> {
  const out: string[] = []
  for await (const info of lake.store.list('')) out.push(info.key)
  return out.sort()
}

describe('garbage collection', () => {
  let dir: string
  let lake: Lake

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tarn-gc-'))
    lake = await Lake.init({ home: join(dir, 'lake'), author: 'tester' })
    for (const n of [1, 2, 3]) writeFileSync(join(dir, `f${n}.csv`), `id,v\n${n},${n * 10}\n`)
  })
  afterEach(async () => {
    await lake.close()
  })

  it('deletes only the files of a dropped branch and leaves every ref readable', async () => {
    await lake.createTable('t', { from: join(dir, 'f1.csv') })
    await lake.importTable('t', { from: join(dir, 'f2.csv') })
    await lake.createTag('v1', { from: 'main' })
    await lake.createBranch('x', { from: 'main' })
    const before = await filesOf(lake)
    await lake.importTable('t', { from: join(dir, 'f3.csv'), branch: 'x' })
    const withX = await filesOf(lake)
    const onlyX = withX.filter((f) => !before.includes(f))
    expect(onlyX.length).toBeGreaterThanOrEqual(3)

    const dry = await lake.gc({ olderThanMs: 0, graceMs: 0, dryRun: true })
    expect(dry.deleted).toBe(0)
    await lake.deleteBranch('x')
    const preview = await lake.gc({ olderThanMs: 0, graceMs: 0, dryRun: true })
    expect([...preview.sample].sort()).toEqual(onlyX)
    expect(await filesOf(lake)).toEqual(withX)

    const report = await lake.gc({ olderThanMs: 0, graceMs: 0 })
    expect(report.deleted).toBe(onlyX.length)
    expect(await filesOf(lake)).toEqual(before)
    for (const ref of ['main', 'v1']) {
      const { loaded } = await lake.loadTable('t', { ref })
      expect((await readTable(loaded)).map((r) => Number(r.id)).sort()).toEqual([1, 2])
    }
  })

  it('keeps unreachable files younger than the grace period and files of commits within retention', async () => {
    await lake.createTable('t', { from: join(dir, 'f1.csv') })
    await lake.createBranch('x', { from: 'main' })
    await lake.importTable('t', { from: join(dir, 'f2.csv'), branch: 'x' })
    await lake.deleteBranch('x')
    const young = await lake.gc({ olderThanMs: 0, graceMs: parseDuration('1h') })
    expect(young.deleted).toBe(0)
    expect(young.keptYoung).toBeGreaterThan(0)
    // An old commit of main (not its head) stays protected while it is within retention.
    await lake.importTable('t', { from: join(dir, 'f3.csv') })
    const within = await lake.gc({ olderThanMs: parseDuration('7d'), graceMs: 0 })
    const { loaded } = await lake.loadTable('t', { ref: 'main~1' })
    expect((await readTable(loaded)).map((r) => Number(r.id))).toEqual([1])
    expect(within.deleted).toBeGreaterThan(0)
  })

  it('never touches the files of a registered foreign table outside the warehouse', async () => {
    const src = mkdtempSync(join(tmpdir(), 'tarn-gc-foreign-'))
    const other = await Lake.init({ home: join(src, 'lake') })
    writeFileSync(join(src, 'a.csv'), 'id\n1\n')
    const r = await other.createTable('a', { from: join(src, 'a.csv') })
    await other.close()
    await lake.registerTable('a', { metadata: r.state.metadataLocation })
    await lake.dropTable('a')
    await lake.gc({ olderThanMs: 0, graceMs: 0 })
    expect(existsSync(fileURLToPath(r.state.metadataLocation))).toBe(true)
  })

  it('parses durations and rejects bad ones', () => {
    expect(parseDuration('7d')).toBe(604_800_000)
    expect(parseDuration('90m')).toBe(5_400_000)
    expect(parseDuration('0')).toBe(0)
    expect(() => parseDuration('soon')).toThrow(/invalid duration/)
  })
})
