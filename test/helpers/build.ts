import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The repository root. */
export const ROOT = join(import.meta.dirname, '..', '..')

/** Written into dist/ after a clean build, dated when the build started; its age tells whether src/ changed since. */
const stampOf = (root: string): string => join(root, 'dist', '.build-stamp')

/** The newest modification time (ms) of the files that go into dist/: src/ and the TypeScript configurations. */
function newestInput(root: string): number {
  let newest = 0
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) visit(path)
      else newest = Math.max(newest, statSync(path).mtimeMs)
    }
  }
  visit(join(root, 'src'))
  for (const f of ['tsconfig.json', 'tsconfig.build.json', 'package.json']) {
    newest = Math.max(newest, statSync(join(root, f)).mtimeMs)
  }
  return newest
}

/** True when dist/ was built cleanly after the last change to src/. */
export function distIsFresh(root = ROOT): boolean {
  const stamp = stampOf(root)
  return existsSync(stamp) && statSync(stamp).mtimeMs >= newestInput(root)
}

/**
 * Compiles src/ to dist/ with `tsc -p tsconfig.build.json` and bundles the function worker
 * (`scripts/bundle-worker.mjs`) unless dist/ is already fresh, and throws with tsc's
 * output when the build fails. Vitest's global set-up (test/helpers/global-setup.ts) calls it once per run.
 *
 * @example
 * buildDist() // dist/index.js now reflects src/
 */
export function buildDist(root = ROOT): { built: boolean } {
  if (distIsFresh(root)) return { built: false }
  const started = new Date()
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    { cwd: root, encoding: 'utf8' },
  )
  if (r.status !== 0) {
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim()
    throw new Error(`the build (tsc -p tsconfig.build.json) failed with exit ${r.status}:\n${output}`)
  }
  // the function worker and Arrow bundled into dist/worker/, as `npm run build` does (a project without one skips it)
  const bundle = existsSync(join(root, 'dist', 'runtime', 'worker-main.js'))
    ? spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle-worker.mjs'), root], {
        cwd: root,
        encoding: 'utf8',
      })
    : null
  if (bundle && bundle.status !== 0) {
    const b = bundle
    const output = `${b.stdout ?? ''}${b.stderr ?? ''}`.trim()
    throw new Error(
      `bundling the worker (scripts/bundle-worker.mjs) failed with exit ${b.status}:\n${output}`,
    )
  }
  writeFileSync(stampOf(root), `${started.toISOString()}\n`)
  utimesSync(stampOf(root), started, started)
  return { built: true }
}

/**
 * Checks that dist/ exists for tests that spawn the real `tarn` binary or child processes. The build itself runs
 * once, in Vitest's global set-up; this only fails early with a clear message if that did not happen.
 */
export function ensureBuilt(): void {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) {
    throw new Error(
      'dist/ is missing: run the tests through vitest (its global set-up builds) or `npm run build`',
    )
  }
}

function newest(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs)
  }
  return t
}

/**
 * Builds the web app into dist/web/ (`vite build web`, as `npm run build` does) unless it is newer than web/.
 *
 * @example
 * buildWebApp() // dist/web/index.html reflects web/ (Vitest's global set-up calls it once, before any test file)
 */
export function buildWebApp(): void {
  const index = join(ROOT, 'dist', 'web', 'index.html')
  if (existsSync(index) && statSync(index).mtimeMs >= newest(join(ROOT, 'web'))) return
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'web'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  )
  if (r.status !== 0) throw new Error(`vite build web failed:\n${r.stdout}${r.stderr}`)
}
