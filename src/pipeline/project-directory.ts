import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { TarnError } from '../util/errors.js'

/**
 * The absolute path of a project directory, or `PROJECT_NOT_FOUND` (saying how to pass or create one) when it is not
 * a directory: what loading a project checks first, here and in a client that uploads the project.
 */
export async function projectDirectory(dir: string): Promise<string> {
  const root = resolve(dir)
  const isDir = await stat(root).then(
    (st) => st.isDirectory(),
    () => false,
  )
  if (!isDir)
    throw new TarnError(
      'PROJECT_NOT_FOUND',
      `project directory ${root} does not exist (pass the project folder with -p, or create one with tarn new)`,
      { dir: root },
    )
  return root
}
