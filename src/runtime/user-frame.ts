import { relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The first stack frame of a stack trace that lies in the project (`file` relative to it, 1-based `line`), or
 * `null`. Frames are read from `(path:line:col)` or `file://...:line:col`, after source maps were applied.
 */
export function userFrame(
  stack: string | undefined,
  projectDir: string,
): { file: string; line: number } | null {
  if (!stack) return null
  const re = /(?:\(|at )((?:file:\/\/)?\/[^\s()]+?):(\d+):\d+\)?$/gm
  for (const m of stack.matchAll(re)) {
    let path = m[1] as string
    if (path.startsWith('file://')) path = fileURLToPath(path)
    const rel = relative(projectDir, path)
    if (rel.startsWith('..') || rel.startsWith(sep) || rel.includes('node_modules')) continue
    return { file: rel.split(sep).join('/'), line: Number(m[2]) }
  }
  return null
}
