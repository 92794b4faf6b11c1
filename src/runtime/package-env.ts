import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { canonicalJson, sha256Hex } from '../util/canonical.js'
import { TarnError } from '../util/errors.js'

/**
 * The content address of a set of npm dependencies (name → version range): SHA-256 of their canonical JSON.
 */
export function packageEnvHash(packages: Readonly<Record<string, string>>): string {
  return sha256Hex(canonicalJson({ ...packages }))
}

/**
 * Installs a model's declared npm dependencies once into a content-addressed environment
 * (`<cacheRoot>/env/<hash>`, `npm install --prefix`) and returns its `node_modules`; `null` when there are none.
 * Later runs with the same dependencies reuse the directory without touching the network.
 */
export async function ensurePackageEnv(
  packages: Readonly<Record<string, string>>,
  cacheRoot: string,
): Promise<string | null> {
  if (Object.keys(packages).length === 0) return null
  const hash = packageEnvHash(packages)
  const dir = join(cacheRoot, 'env', hash.slice(0, 32))
  if (existsSync(join(dir, '.complete'))) return join(dir, 'node_modules')
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`
  await mkdir(tmp, { recursive: true })
  await writeFile(
    join(tmp, 'package.json'),
    `${JSON.stringify({ name: 'tarn-env', private: true, type: 'module', dependencies: packages }, null, 2)}\n`,
  )
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((res) => {
    const child = spawn(npm, ['install', '--prefix', tmp, '--no-audit', '--no-fund', '--omit=dev'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let err = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (c: string) => {
      err = (err + c).slice(-4000)
    })
    child.on('error', (e) => res({ code: -1, stderr: e.message }))
    child.on('exit', (c) => res({ code: c, stderr: err }))
  })
  if (code !== 0) {
    await rm(tmp, { recursive: true, force: true })
    throw new TarnError(
      'RUN_FAILED',
      `cannot install packages ${Object.keys(packages).join(', ')}: ${stderr.trim()}`,
      {
        packages: { ...packages },
      },
    )
  }
  await writeFile(join(tmp, '.complete'), '')
  try {
    await rename(tmp, dir)
  } catch {
    await rm(tmp, { recursive: true, force: true })
  }
  return join(dir, 'node_modules')
}
