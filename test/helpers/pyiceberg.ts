import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * The python of the PyIceberg virtual environment `.ci/pyiceberg.sh` installs (`TARN_TEST_PYICEBERG_PYTHON`, else
 * its default place), or undefined — after printing why — when there is none. In CI (`CI=true`) a missing PyIceberg
 * is an error, never a skip.
 *
 * @example
 * const python = pyicebergPython()
 * describe.runIf(python)('PyIceberg against tarn serve', () => {})
 */
export function pyicebergPython(): string | undefined {
  const python =
    process.env.TARN_TEST_PYICEBERG_PYTHON ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tarn-pyiceberg-venv', 'bin', 'python')
  const ok = existsSync(python) && spawnSync(python, ['-c', 'import pyiceberg, pyarrow']).status === 0
  if (ok) return python
  const why = `no PyIceberg at ${python}; install it with: bash .ci/pyiceberg.sh`
  if (process.env.CI === 'true') throw new Error(`PyIceberg is required in CI: ${why}`)
  console.warn(`[skip] PyIceberg tests skipped: ${why}`)
  return undefined
}
