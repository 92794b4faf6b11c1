import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../../src/cli/io.js'
import { createTable } from '../../src/iceberg/index.js'
import { runCli } from '../../src/index.js'
import type { Lake } from '../../src/lake/lake.js'
import { deps, putTable, tempLake } from '../engine/helpers.js'

let lake: Lake
let home: string
let cleanup: () => Promise<void>
let root: string

beforeAll(async () => {
  ;({ lake, home, cleanup } = await tempLake())
  root = fileURLToPath(lake.store.root)
  for (const name of ['bad_manifest_list', 'bad_manifest', 'bad_parquet']) {
    const created = await createTable(
      lake.store,
      { tableKey: `tarn/${name}`, source: 'SELECT range::BIGINT AS id FROM range(10)' },
      deps,
    )
    await putTable(lake, `tarn.${name}`, created)
  }
  const files = async (table: string, dir: string): Promise<string[]> =>
    (await readdir(join(root, 'tarn', table, dir))).map((f) => join(root, 'tarn', table, dir, f))
  const pick = async (table: string, dir: string, test: (f: string) => boolean): Promise<string> => {
    const f = (await files(table, dir)).find(test)
    if (f === undefined) throw new Error(`no such file in ${table}/${dir}`)
    return f
  }
  await mkdir(join(root, 'foreign', 'metadata'), { recursive: true })
  await writeFile(join(root, 'foreign', 'metadata', 'v1.metadata.json'), '{"format-version": 2,')
  await writeFile(
    await pick('bad_manifest_list', 'metadata', (f) => /snap-.*\.avro$/.test(f)),
    'Obj\x01garbage',
  )
  const manifest = await pick('bad_manifest', 'metadata', (f) => f.endsWith('.avro') && !/snap-/.test(f))
  await writeFile(manifest, 'not avro at all')
  await writeFile(await pick('bad_parquet', 'data', (f) => f.endsWith('.parquet')), 'PAR1 truncated')
})
afterAll(async () => cleanup())

async function tarn(
  ...args: string[]
): Promise<{ code: number; stderr: string; error: Record<string, unknown> }> {
  const io = memoryIO({ TARN_HOME: home })
  const code = await runCli([...args, '--json'], io)
  const doc = JSON.parse(io.stdout()) as { error: Record<string, unknown> }
  return { code, stderr: io.stderr(), error: doc.error }
}

describe('a damaged file in a table', () => {
  it('fails registering it with CORRUPT_FILE (exit 1, not a usage error) naming the table metadata', async () => {
    const metadata = join(root, 'foreign', 'metadata', 'v1.metadata.json')
    const r = await tarn('table', 'create-external', 'tarn.foreign', '--metadata', metadata)
    expect(r.error.code).toBe('CORRUPT_FILE')
    expect(r.code).toBe(1)
    expect(r.error.message).toMatch(/^table metadata file:.*v1\.metadata\.json is corrupt: /)
    expect(r.error.context).toEqual({ file: pathToFileURL(metadata).href, kind: 'table metadata' })
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
  })

  for (const [table, kind, file] of [
    ['bad_manifest_list', 'manifest list', /snap-.*\.avro$/],
    ['bad_manifest', 'manifest', /\.avro$/],
    ['bad_parquet', 'Parquet file', /\.parquet$/],
  ] as const) {
    it(`fails a query with CORRUPT_FILE (exit 1, not a usage error) naming the ${kind}`, async () => {
      const r = await tarn('query', `SELECT count(*) FROM ${table}`)
      expect(r.error.code).toBe('CORRUPT_FILE')
      expect(r.code).toBe(1)
      expect(r.error.message).toContain(`${kind} `)
      const context = r.error.context as { file: string; kind: string }
      expect(context.kind).toBe(kind)
      expect(context.file).toMatch(file)
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
    })
  }
})
