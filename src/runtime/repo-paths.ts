import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error('cannot find the tarn package root')
    dir = up
  }
  return dir
}

/**
 * Where the runtime finds its compiled worker, the SDK that project files import as `tarn`, and the packages the
 * workers share (`apache-arrow`).
 *
 * @example
 * ```ts
 * fork(repoPaths().worker, [taskFile])
 * ```
 */
export function repoPaths(): { root: string; worker: string; sdk: string; nodeModules: string } {
  const root = findRoot()
  return {
    root,
    worker: join(root, 'dist', 'runtime', 'worker-main.js'),
    sdk: join(root, 'dist', 'pipeline', 'sdk.js'),
    nodeModules: join(root, 'node_modules'),
  }
}
