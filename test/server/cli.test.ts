import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { beforeAll, describe, expect, it } from 'vitest'
import { memoryIO } from '../../src/cli/io.js'
import { runCli } from '../../src/index.js'
import { ensureBuilt, ROOT } from '../helpers/build.js'

async function tarn(
  home: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIO({ TARN_HOME: home, TARN_USER: 'tester' })
  const code = await runCli(args, io)
  return { code, stdout: io.stdout(), stderr: io.stderr() }
}

describe('tarn key, tarn branch protect and tarn serve', () => {
  beforeAll(() => {
    ensureBuilt()
  })

  it('creates a key whose secret is printed once, lists keys without secrets and deletes them', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tarn-key-cli-'))
    expect((await tarn(home, 'init')).code).toBe(0)
    const created = await tarn(
      home,
      'key',
      'create',
      'ci',
      '--allow',
      'read:*',
      '--allow',
      'write:ci.*',
      '--expires',
      '90d',
      '--json',
    )
    expect(created.code).toBe(0)
    const doc = JSON.parse(created.stdout) as {
      token: string
      key: { name: string; rules: string[]; expiresAt: string }
    }
    expect(doc.token).toMatch(/^[0-9a-f]{16}\.[A-Za-z0-9_-]{40,}$/)
    expect(doc.key.rules).toEqual(['read:*', 'write:ci.*'])
    expect(Date.parse(doc.key.expiresAt) - Date.now()).toBeGreaterThan(89 * 86_400_000)
    const secret = doc.token.split('.')[1] as string
    const ls = await tarn(home, 'key', 'ls', '--json')
    expect(ls.stdout).not.toContain(secret)
    expect((JSON.parse(ls.stdout) as { keys: { name: string }[] }).keys.map((k) => k.name)).toEqual(['ci'])
    const text = await tarn(home, 'key', 'ls')
    expect(text.stdout).toContain('ci')
    expect(text.stdout).not.toContain(secret)
    const bad = await tarn(home, 'key', 'create', 'x', '--allow', 'delete:*', '--json')
    expect(bad.code).toBe(2)
    expect(JSON.parse(bad.stdout).error.code).toBe('INVALID_ARGUMENT')
    expect((await tarn(home, 'key', 'create', 'ci', '--allow', 'read:*')).code).toBe(4)
    expect((await tarn(home, 'key', 'rm', 'ci')).code).toBe(0)
    const again = await tarn(home, 'key', 'rm', 'ci', '--json')
    expect(again.code).toBe(3)
    expect(JSON.parse(again.stdout).error.code).toBe('KEY_NOT_FOUND')
  })

  it('protects a branch against direct commits (exit 4) until unprotected', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tarn-protect-cli-'))
    await tarn(home, 'init')
    expect((await tarn(home, 'branch', 'protect', 'main')).code).toBe(0)
    const refused = await tarn(home, 'namespace', 'create', 'sales', '--json')
    expect(refused.code).toBe(4)
    expect(JSON.parse(refused.stdout).error).toMatchObject({
      code: 'BRANCH_PROTECTED',
      context: { branch: 'main' },
    })
    expect((await tarn(home, 'branch', 'create', 'dev')).code).toBe(0)
    expect((await tarn(home, 'namespace', 'create', 'sales', '-b', 'dev')).code).toBe(0)
    expect((await tarn(home, 'branch', 'merge', 'dev', '--into', 'main')).code).toBe(0)
    expect((await tarn(home, 'branch', 'unprotect', 'main')).code).toBe(0)
    expect((await tarn(home, 'namespace', 'create', 'ops')).code).toBe(0)
  })

  it('serves the lake, prints its URL, and on SIGTERM drains and exits 0', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tarn-serve-cli-'))
    await tarn(home, 'init')
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'tarn.js'), 'serve', '--port', '0', '--json'], {
      env: { ...process.env, TARN_HOME: home, TARN_USER: 'tester' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    const lines = createInterface({ input: child.stdout })
    let out = ''
    for await (const line of lines) {
      out += line
      try {
        JSON.parse(out)
        break
      } catch {}
    }
    const { url, openapi } = JSON.parse(out) as { url: string; openapi: string }
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const info = (await (await fetch(`${url}/api/v1/info`)).json()) as { activeBranch: string }
    expect(info.activeBranch).toBe('main')
    expect((await fetch(openapi)).status).toBe(200)
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(stderr).toContain('stopped')
  })

  it('refuses to serve off loopback while no key exists', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tarn-serve-open-'))
    await tarn(home, 'init')
    const r = await tarn(home, 'serve', '--host', '0.0.0.0', '--port', '0', '--json')
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout).error.code).toBe('INVALID_ARGUMENT')
  })
})
