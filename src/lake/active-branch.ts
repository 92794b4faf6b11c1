import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_BRANCH } from '../catalog/defaults.js'

/**
 * The active branch of a lake home, kept in `<home>/state.json`: the branch commands use when none is given.
 */
export class ActiveBranch {
  readonly #home: string

  constructor(home: string) {
    this.#home = home
  }

  get #path(): string {
    return join(this.#home, 'state.json')
  }

  /** The active branch; `main` when none was set (or the state file cannot be read). */
  get(): string {
    try {
      const s = JSON.parse(readFileSync(this.#path, 'utf8')) as { activeBranch?: string }
      return s.activeBranch ?? DEFAULT_BRANCH
    } catch {
      return DEFAULT_BRANCH
    }
  }

  /** Makes `branch` the active branch (written atomically: a temporary file renamed into place). */
  set(branch: string): void {
    mkdirSync(this.#home, { recursive: true })
    const tmp = `${this.#path}.${process.pid}.tmp`
    writeFileSync(tmp, `${JSON.stringify({ activeBranch: branch }, null, 2)}\n`)
    renameSync(tmp, this.#path)
  }
}
