import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { partitionType } from '../../src/iceberg/avro/manifest-avro-schemas.js'
import {
  readManifest,
  readManifestList,
  writeManifest,
  writeManifestList,
} from '../../src/iceberg/manifest-io.js'
import { mapMovedPath } from '../../src/iceberg/table-io.js'
import {
  currentSchema,
  parseTableMetadata,
  serializeTableMetadata,
} from '../../src/iceberg/table-metadata.js'
import { Lake } from '../../src/index.js'
import { errorOf } from '../helpers/errors.js'

/**
 * Rewrites a tarn-written table directory in place the way some engines' test tables look: location `./<name>`,
 * and every path (manifest lists, manifests, data files) relative, `<name>/...`.
 */
function makeRelative(tableDir: string, name: string, absoluteRoot: string): string {
  const rel = (p: string): string =>
    p.startsWith(absoluteRoot) ? `${name}${p.slice(absoluteRoot.length)}` : p
  const metaDir = join(tableDir, 'metadata')
  const files = readdirSync(metaDir)
  const latest = files
    .filter((f) => f.endsWith('.metadata.json'))
    .sort()
    .at(-1) as string
  const metadata = parseTableMetadata(readFileSync(join(metaDir, latest)))
  const schema = currentSchema(metadata)
  for (const snap of metadata.snapshots) {
    const listPath = snap['manifest-list'] as string
    const listFile = join(metaDir, listPath.slice(listPath.lastIndexOf('/') + 1))
    const manifests = readManifestList(readFileSync(listFile))
    for (const m of manifests) {
      const mFile = join(metaDir, m.manifestPath.slice(m.manifestPath.lastIndexOf('/') + 1))
      const spec = metadata['partition-specs'].find((s) => s['spec-id'] === m.partitionSpecId)
      if (!spec) throw new Error('no spec')
      const contents = readManifest(readFileSync(mFile), spec)
      const bytes = writeManifest({
        entries: contents.entries.map((e) => ({
          ...e,
          dataFile: { ...e.dataFile, filePath: rel(e.dataFile.filePath) },
        })),
        schema,
        spec,
        partition: partitionType(spec, schema),
        content: contents.content,
        syncMarker: new Uint8Array(16).fill(7),
      })
      writeFileSync(mFile, bytes)
    }
    const list = writeManifestList({
      manifests: manifests.map((m) => {
        const mFile = join(metaDir, m.manifestPath.slice(m.manifestPath.lastIndexOf('/') + 1))
        return { ...m, manifestPath: rel(m.manifestPath), manifestLength: readFileSync(mFile).length }
      }),
      snapshotId: snap['snapshot-id'],
      parentSnapshotId: snap['parent-snapshot-id'] ?? null,
      sequenceNumber: snap['sequence-number'] ?? 0,
      syncMarker: new Uint8Array(16).fill(9),
    })
    writeFileSync(listFile, list)
  }
  const relative = {
    ...metadata,
    location: `./${name}`,
    snapshots: metadata.snapshots.map((s) => ({ ...s, 'manifest-list': rel(s['manifest-list'] as string) })),
    'metadata-log': [],
  }
  const out = join(metaDir, 'v9.metadata.json')
  writeFileSync(out, serializeTableMetadata(relative))
  return out
}

describe('registering a table that records a relative location', () => {
  let dir: string
  let lake: Lake
  let metadataFile: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tarn-relative-'))
    lake = await Lake.init({ home: join(dir, 'lake'), author: 'tester' })
    writeFileSync(join(dir, 'a.csv'), 'id,region\n1,EU\n2,US\n3,EU\n')
    writeFileSync(join(dir, 'b.csv'), 'id,region\n4,US\n')
    await lake.createTable('rel', { from: join(dir, 'a.csv'), partitionedBy: 'region' })
    const made = await lake.importTable('rel', { from: join(dir, 'b.csv') })
    const loc = made.state.metadataLocation
    const root = loc.slice(0, loc.lastIndexOf('/metadata/'))
    const copy = join(dir, 'elsewhere', 'rel')
    cpSync(new URL(root).pathname, copy, { recursive: true })
    metadataFile = makeRelative(copy, 'rel', root)
  })
  afterAll(async () => {
    await lake.close()
  })

  it('maps relative recorded paths onto the metadata file table directory', () => {
    expect(mapMovedPath('rel/data/x.parquet', './rel', 'file:///w/rel')).toBe('file:///w/rel/data/x.parquet')
    expect(mapMovedPath('./rel/metadata/m.avro', 'rel', 'file:///w/rel')).toBe(
      'file:///w/rel/metadata/m.avro',
    )
    expect(mapMovedPath('data/x.parquet', '.', 'file:///w/rel')).toBe('file:///w/rel/data/x.parquet')
    expect(mapMovedPath('other/x.parquet', './rel', 'file:///w/rel')).toBe('other/x.parquet')
  })

  it('registers it with allowMovedPaths and reads every row, and refuses it without', async () => {
    const text = readFileSync(metadataFile, 'utf8')
    expect(JSON.parse(text).location).toBe('./rel')
    expect(text).toMatch(/"manifest-list" *: *"rel\/metadata\//)
    const refused = await errorOf(lake.registerTable('ext_strict', { metadata: metadataFile }))
    expect(refused.code).toBe('INVALID_ARGUMENT')
    const r = await lake.registerTable('ext', {
      metadata: pathToFileURL(metadataFile).href,
      allowMovedPaths: true,
    })
    expect(r.state.metadataLocation).toBe(pathToFileURL(metadataFile).href)
    const rows = await lake.query('SELECT id, region FROM ext ORDER BY id')
    expect(rows.rows()).toEqual([
      { id: 1n, region: 'EU' },
      { id: 2n, region: 'US' },
      { id: 3n, region: 'EU' },
      { id: 4n, region: 'US' },
    ])
    expect((await lake.query("SELECT count(*) AS n FROM ext WHERE region = 'US'")).rows()).toEqual([
      { n: 2n },
    ])
  })
})
