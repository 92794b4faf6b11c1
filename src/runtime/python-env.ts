import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { canonicalJson, sha256Hex } from '../util/canonical.js'
import { TarnError } from '../util/errors.js'

/**
 * The environment a Python model asks for: a Python version (`3.11`; `null` for the machine's `python3`) and pinned
 * packages (name → version specifier, as pip reads them).
 */
export interface PythonEnvSpec {
  readonly python: string | null
  readonly pip: Readonly<Record<string, string>>
}

/**
 * A built environment: its interpreter, and whether this call built it (a cache miss) or found it.
 */
export interface PythonEnv {
  readonly python: string
  readonly dir: string
  readonly built: boolean
}

/** The one runtime dependency of tarn's Python package, installed into every environment. */
const PYARROW = 'pyarrow>=14'
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?$/
const SPECIFIER = /^[A-Za-z0-9.*+!<>=~,\s-]*$/
const VERSION = /^\d+(\.\d+){0,2}$/

/**
 * The requirement lines of an environment: `pyarrow` and each pin (`polars==1.*`; a bare version becomes `==`).
 * Names and specifiers are checked, so nothing but a requirement reaches the installer.
 */
export function pythonRequirements(pip: Readonly<Record<string, string>>): string[] {
  const out: string[] = []
  for (const [name, spec] of Object.entries(pip)) {
    if (!NAME.test(name) || !SPECIFIER.test(spec)) {
      throw new TarnError(
        'PROJECT_INVALID',
        `"${name}": "${spec}" is not a package pin such as "polars": "1.*"`,
        {
          package: name,
          specifier: spec,
        },
      )
    }
    const s = spec.trim()
    out.push(s === '' || s === '*' ? name : /^[<>=!~]/.test(s) ? `${name}${s}` : `${name}==${s}`)
  }
  if (!Object.keys(pip).some((n) => n.toLowerCase() === 'pyarrow')) out.push(PYARROW)
  return out.sort()
}

/**
 * The cache key of an environment: SHA-256 of the interpreter asked for and the requirement lines.
 */
export function pythonEnvHash(spec: PythonEnvSpec): string {
  return sha256Hex(
    canonicalJson({ python: spec.python ?? 'python3', requirements: pythonRequirements(spec.pip) }),
  )
}

/**
 * The interpreter of an environment that is already built, or `null` (nothing is built or run).
 */
export function builtPythonEnv(spec: PythonEnvSpec, cacheRoot: string): string | null {
  if (spec.python !== null && !VERSION.test(spec.python)) return null
  const dir = join(cacheRoot, 'python-env', pythonEnvHash(spec).slice(0, 32))
  return existsSync(join(dir, '.complete')) ? join(dir, 'bin', 'python') : null
}

/**
 * Builds a Python model's environment once with `uv` (a virtual environment from the machine's interpreters, never
 * a downloaded one, with `pyarrow` and the model's pins) under `<cacheRoot>/python-env/<hash>`, and returns its
 * interpreter. Later calls with the same spec find it without running anything. Builds are atomic: a crashed
 * build leaves no environment behind, and two racing builds leave one.
 */
export async function ensurePythonEnv(
  spec: PythonEnvSpec,
  cacheRoot: string,
  onProgress: (line: string) => void = () => undefined,
): Promise<PythonEnv> {
  if (spec.python !== null && !VERSION.test(spec.python)) {
    throw new TarnError('PROJECT_INVALID', `Python version "${spec.python}" is not a version such as 3.11`, {
      python: spec.python,
    })
  }
  const requirements = pythonRequirements(spec.pip)
  const dir = join(cacheRoot, 'python-env', pythonEnvHash(spec).slice(0, 32))
  const python = join(dir, 'bin', 'python')
  if (existsSync(join(dir, '.complete'))) return { python, dir, built: false }
  const env = { ...process.env, UV_PYTHON_DOWNLOADS: 'never', VIRTUAL_ENV: undefined }
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`
  await mkdir(join(cacheRoot, 'python-env'), { recursive: true })
  try {
    onProgress(`building Python ${spec.python ?? '3'} environment: ${requirements.join(' ')}`)
    await uv(['venv', '--quiet', '--python', spec.python ?? 'python3', tmp], env, spec)
    await uv(
      ['pip', 'install', '--quiet', '--python', join(tmp, 'bin', 'python'), ...requirements],
      env,
      spec,
    )
    await writeFile(join(tmp, '.complete'), `${requirements.join('\n')}\n`)
  } catch (e) {
    await rm(tmp, { recursive: true, force: true })
    throw e
  }
  // tarn runs only `bin/python -m ...`, which finds its environment from its own location, so a finished build can
  // move into place; a racing build that lost keeps the winner's
  try {
    await rename(tmp, dir)
  } catch {
    await rm(tmp, { recursive: true, force: true })
    return { python, dir, built: false }
  }
  onProgress(
    `Python environment ready (${requirements.length} requirement${requirements.length === 1 ? '' : 's'})`,
  )
  return { python, dir, built: true }
}

async function uv(args: string[], env: NodeJS.ProcessEnv, spec: PythonEnvSpec): Promise<void> {
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((res) => {
    const child = spawn('uv', args, { stdio: ['ignore', 'ignore', 'pipe'], env })
    let err = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (c: string) => {
      err = (err + c).slice(-4000)
    })
    child.on('error', (e) => res({ code: -1, stderr: e.message }))
    child.on('exit', (c) => res({ code: c, stderr: err }))
  })
  if (code === -1) {
    throw new TarnError('PYTHON_UNAVAILABLE', `cannot run uv (${stderr}): install it with pip install uv`, {
      command: 'uv',
    })
  }
  if (code !== 0) {
    const last = stderr.trim().split('\n').filter(Boolean).slice(-2).join(' ')
    throw new TarnError(
      'PYTHON_UNAVAILABLE',
      `cannot build the Python ${spec.python ?? '3'} environment (${Object.keys(spec.pip).join(', ') || 'pyarrow'}): ${last}`,
      { python: spec.python, packages: { ...spec.pip } },
    )
  }
}
