import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

/** The repository root. */
export const ROOT = join(import.meta.dirname, '..', '..')
let built = false

/**
 * Compiles src/ to dist/ once per test process, for tests that spawn the real `tarn` binary or child processes.
 * tsc emits even when type errors exist elsewhere; `npm run lint` reports those.
 */
export function ensureBuilt(): void {
  if (built && existsSync(join(ROOT, 'dist', 'index.js'))) return
  spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'ignore',
    },
  )
  built = true
}
