import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_PREVIOUS_VERSIONS_MAX } from '../../src/iceberg/metadata-log.js'
import { Lake } from '../../src/lake/lake.js'

const schema = {
  type: 'struct' as const,
  'schema-id': 0,
  fields: [{ id: 1, name: 'id', required: true, type: 'long' }],
}

describe('the metadata log of a table committed to often', () => {
  let dir: string
  let lake: Lake
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tarn-mdlog-'))
    lake = await Lake.init({ home: dir, author: 'tester' })
    await lake.icebergCatalog().createNamespace('main', 'ns', {})
  })
  afterEach(async () => {
    await lake.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Commits `n` property updates to `table`; every metadata location (oldest first) and the tarn commits. */
  async function commits(table: string, n: number): Promise<{ locations: string[]; hashes: string[] }> {
    const iceberg = lake.icebergCatalog()
    const locations = [String((await iceberg.loadTable('main', table)).metadataLocation)]
    const hashes: string[] = []
    for (let i = 0; i < n; i++) {
      const r = await iceberg.commitTables('main', [
        { table, requirements: [], updates: [{ action: 'set-properties', updates: { n: String(i) } }] },
      ])
      locations.push(String(r.tables[0]?.metadataLocation))
      hashes.push(r.commit.hash)
    }
    return { locations, hashes }
  }

  it('keeps the newest write.metadata.previous-versions-max files, oldest first', async () => {
    await lake.icebergCatalog().createTable('main', 'ns.small', {
      schema,
      properties: { 'write.metadata.previous-versions-max': '3' },
    })
    const { locations } = await commits('ns.small', 5)
    const t = await lake.icebergCatalog().loadTable('main', 'ns.small')
    expect(t.metadataLocation).toBe(locations[5])
    expect(t.metadata['metadata-log'].map((e) => e['metadata-file'])).toEqual(locations.slice(2, 5))
  })

  it('keeps 100 previous files by default, and every commit stays readable through history', async () => {
    await lake.icebergCatalog().createTable('main', 'ns.busy', { schema })
    const n = DEFAULT_PREVIOUS_VERSIONS_MAX + 3
    const { locations, hashes } = await commits('ns.busy', n)
    const t = await lake.icebergCatalog().loadTable('main', 'ns.busy')
    const log = t.metadata['metadata-log'].map((e) => e['metadata-file'])
    expect(log).toHaveLength(DEFAULT_PREVIOUS_VERSIONS_MAX)
    expect(log).toEqual(locations.slice(n - DEFAULT_PREVIOUS_VERSIONS_MAX, n))
    // the first version, no longer in the log, is still the table at the commit that wrote it
    expect(log).not.toContain(locations[1])
    const first = await lake.icebergCatalog().loadTable(`@${hashes[0]}`, 'ns.busy')
    expect(first.metadataLocation).toBe(locations[1])
    expect(first.metadata.properties.n).toBe('0')
  })
})
