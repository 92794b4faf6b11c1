import { isAbsolute, resolve as resolvePath } from 'node:path'
import { projectDirectory } from '../pipeline/project-directory.js'
import { readProjectFiles } from '../pipeline/run/code-files.js'

/** The local project of a run or plan, as the server takes it: its absolute path and its files. */
export async function projectUpload(
  dir: string,
): Promise<{ root: string; files: { path: string; content: string }[] }> {
  const root = await projectDirectory(dir)
  const files = await readProjectFiles(root)
  return { root, files: Object.entries(files).map(([path, content]) => ({ path, content })) }
}

/** Absolute paths for local sources so the server (on the same machine) reads what the caller meant. */
export function absoluteSources(from: string | readonly string[], cwd: string | undefined): string[] {
  const list = typeof from === 'string' ? [from] : [...from]
  return list.map((s) =>
    /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || isAbsolute(s) ? s : resolvePath(cwd ?? process.cwd(), s),
  )
}
