import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { TarnError } from '../util/errors.js'

/**
 * One file of a project sent to the server (`POST /api/v1/runs`, `/plan`): its path relative to the project root,
 * `/`-separated, and its text.
 */
export interface ProjectFile {
  readonly path: string
  readonly content: string
}

/**
 * Bounds of an uploaded project: how many files, and how large each may be (the code snapshot's own 1 MiB bound).
 */
export interface UploadLimits {
  readonly maxFiles: number
  readonly maxFileBytes: number
}

/**
 * The bounds the server applies unless configured otherwise.
 */
export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { maxFiles: 2000, maxFileBytes: 1 << 20 }

function badPath(path: string, why: string): TarnError {
  return new TarnError('INVALID_ARGUMENT', `project file path ${JSON.stringify(path)} ${why}`, { path })
}

/**
 * Checks uploaded project files before anything touches the disk: relative `/`-separated paths with no `..`, `.`
 * or empty segment, no backslash, NUL or drive letter, no duplicates, and the count and size bounds.
 * `INVALID_ARGUMENT` naming the path, or `PAYLOAD_TOO_LARGE` for a bound.
 */
export function checkProjectFiles(files: readonly ProjectFile[], limits: UploadLimits): void {
  if (files.length > limits.maxFiles) {
    throw new TarnError(
      'PAYLOAD_TOO_LARGE',
      `a project may hold at most ${limits.maxFiles} files, got ${files.length}`,
      { files: files.length, maxFiles: limits.maxFiles },
    )
  }
  const seen = new Set<string>()
  for (const { path, content } of files) {
    if (path.length === 0 || path.length > 1024) throw badPath(path, 'must have 1 to 1024 characters')
    if (path.startsWith('/')) throw badPath(path, 'must be relative')
    if (/[\\\0]/.test(path) || /^[a-z]:/i.test(path)) throw badPath(path, 'must use / and name no drive')
    const segments = path.split('/')
    if (segments.some((s) => s === '' || s === '.' || s === '..'))
      throw badPath(path, 'must not hold empty, . or .. segments')
    if (seen.has(path)) throw badPath(path, 'appears twice')
    seen.add(path)
    const bytes = Buffer.byteLength(content, 'utf8')
    if (bytes > limits.maxFileBytes) {
      throw new TarnError(
        'PAYLOAD_TOO_LARGE',
        `project file ${path} has ${bytes} bytes; at most ${limits.maxFileBytes} are accepted`,
        { path, bytes, maxFileBytes: limits.maxFileBytes },
      )
    }
  }
}

/**
 * A project written into a scratch directory, and how to remove it.
 */
export interface UploadedProject {
  readonly dir: string
  remove(): Promise<void>
}

/**
 * Checks project files ({@link checkProjectFiles}) and writes them into a new scratch directory.
 */
export async function writeUploadedProject(
  files: readonly ProjectFile[],
  limits: UploadLimits,
): Promise<UploadedProject> {
  checkProjectFiles(files, limits)
  const dir = await mkdtemp(join(tmpdir(), 'tarn-upload-'))
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true })
  try {
    for (const f of files) {
      const p = join(dir, ...f.path.split('/'))
      await mkdir(dirname(p), { recursive: true })
      await writeFile(p, f.content)
    }
  } catch (e) {
    await remove()
    throw e
  }
  return { dir, remove }
}
