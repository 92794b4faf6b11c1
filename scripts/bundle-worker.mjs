// Bundles the TS function worker (dist/runtime/worker-main.js, after tsc) and Apache Arrow into dist/worker/: the
// worker entry, an Arrow entry that project modules import as `apache-arrow`, and the chunk they share (Arrow's
// classes, so a model's tables are the worker's). A worker then boots from three files instead of Arrow's 146 ES
// modules (about a fifth of the CPU). Run by `npm run build` and by the tests' build (test/helpers/build.ts).
import { rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'rolldown'

const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'dist', 'worker')
rmSync(out, { recursive: true, force: true })
await build({
  cwd: root,
  input: {
    worker: join(root, 'dist', 'runtime', 'worker-main.js'),
    arrow: fileURLToPath(import.meta.resolve('apache-arrow')),
  },
  platform: 'node',
  logLevel: 'warn',
  output: {
    dir: out,
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    sourcemap: false,
  },
})
