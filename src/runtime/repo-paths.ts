import { existsSync, statSync } from 'node:fs'
import { dirname, join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { TarnError } from '../util/errors.js'

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir)
    if (up === dir)
      throw new TarnError('INTERNAL', 'cannot find the tarn package root', { from: import.meta.url })
    dir = up
  }
  return dir
}

/**
 * The ESM entry of `apache-arrow` as Node resolves it from tarn's own code, wherever the package manager put it
 * (tarn's node_modules, or hoisted into an application's when tarn is a dependency).
 */
export function arrowEntry(): string {
  return fileURLToPath(import.meta.resolve('apache-arrow'))
}

/** The `node_modules` directory that holds `entry`'s package. */
function nodeModulesOf(entry: string): string {
  const marker = `${sep}node_modules${sep}`
  const at = entry.lastIndexOf(marker)
  if (at < 0)
    throw new TarnError('INTERNAL', `apache-arrow resolved outside node_modules: ${entry}`, { entry })
  return entry.slice(0, at + marker.length - 1)
}

/** Modification time of a file in ms, or null when it is missing. */
function mtimeOf(path: string): number | null {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? null
}

/**
 * Where the runtime finds its compiled worker, the SDK that project files import as `tarn`, and the packages the
 * workers share (`apache-arrow`, found by module resolution; `nodeModules` is the directory that holds it).
 * `worker` is the bundled worker (`dist/worker/`, built by `scripts/bundle-worker.mjs`) when it is at least as new as
 * the compiled one, else the compiled one; `workerArrow` is the Arrow entry of the same build, the one project
 * modules import (one copy of Arrow's classes in a worker).
 */
export function repoPaths(): {
  root: string
  worker: string
  workerArrow: string
  sdk: string
  arrow: string
  nodeModules: string
} {
  const root = findRoot()
  const arrow = arrowEntry()
  const compiled = join(root, 'dist', 'runtime', 'worker-main.js')
  const bundled = join(root, 'dist', 'worker', 'worker.js')
  const bundledArrow = join(root, 'dist', 'worker', 'arrow.js')
  const built = mtimeOf(bundled)
  const useBundle = built !== null && existsSync(bundledArrow) && built >= (mtimeOf(compiled) ?? 0)
  return {
    root,
    worker: useBundle ? bundled : compiled,
    workerArrow: useBundle ? bundledArrow : arrow,
    sdk: join(root, 'dist', 'pipeline', 'sdk.js'),
    arrow,
    nodeModules: nodeModulesOf(arrow),
  }
}
