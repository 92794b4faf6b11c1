import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { TarnError } from '../../util/errors.js'

const TEXT = /\.(sql|py|ts|mts|cts|js|mjs|cjs|ya?ml|json|md|txt|toml|csv)$/i
const SKIP_DIRS = new Set(['node_modules', 'data', 'dist', 'target'])
const MAX_FILE = 1 << 20

/**
 * Reads every project file of a directory (SQL, Python, TS/JS, YAML, JSON, Markdown and other text up to 1 MiB),
 * skipping hidden entries and `node_modules`, `data`, `dist`: what a code snapshot holds. Paths are relative,
 * `/`-separated.
 */
export async function readProjectFiles(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true })
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith('.')) continue
      const p = join(d, e.name)
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await walk(p)
        continue
      }
      if (!e.isFile() || !TEXT.test(e.name)) continue
      if ((await stat(p)).size > MAX_FILE) continue
      out[relative(dir, p).split(sep).join('/')] = await readFile(p, 'utf8')
    }
  }
  await walk(dir)
  return out
}

/**
 * Writes the files of a code snapshot under a directory (for `tarn rerun`).
 */
export async function writeProjectFiles(dir: string, files: Readonly<Record<string, string>>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    if (rel.split('/').includes('..') || rel.startsWith('/'))
      throw new TarnError('INVALID_ARGUMENT', `bad path in code snapshot: ${rel}`, { path: rel })
    const p = join(dir, rel)
    await mkdir(dirname(p), { recursive: true })
    await writeFile(p, text)
  }
}
