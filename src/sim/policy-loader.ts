import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { extname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Policy } from '../runtime/scheduler/policy.js'
import { builtinPolicy } from '../runtime/scheduler/registry.js'
import { TarnError } from '../util/errors.js'

function isPolicy(x: unknown): x is Policy {
  if (typeof x !== 'object' || x === null) return false
  const o = x as Record<string, unknown>
  return typeof o.name === 'string' && typeof o.init === 'function' && typeof o.decide === 'function'
}

interface TsCompiler {
  transpileModule(
    input: string,
    options: { compilerOptions: Record<string, unknown>; fileName?: string },
  ): { outputText: string }
  ModuleKind: { ESNext: number }
  ScriptTarget: { ES2022: number }
}

/**
 * Loads a policy from a `.ts`, `.mts`, `.js` or `.mjs` file. The module must export a policy (an object with `name`,
 * `init` and `decide`) as `default` or `policy`. TypeScript files are transpiled with the `typescript` package (which
 * must be installed) into a cache file under the OS temp directory, so they may only import packages, not relative
 * TypeScript files.
 */
export async function loadPolicyFile(path: string): Promise<Policy> {
  const abs = resolve(path)
  let source: string
  try {
    source = readFileSync(abs, 'utf8')
  } catch (e) {
    throw new TarnError('INVALID_ARGUMENT', `cannot read policy file ${path}`, { file: path }, { cause: e })
  }
  let url = pathToFileURL(abs).href
  const ext = extname(abs)
  if (ext === '.ts' || ext === '.mts') {
    let ts: TsCompiler
    try {
      const mod = (await import('typescript')) as unknown as { default?: TsCompiler } & TsCompiler
      ts = mod.default ?? mod
    } catch (e) {
      throw new TarnError(
        'INVALID_ARGUMENT',
        'loading a .ts policy needs the typescript package; install it or compile the policy to .js',
        { file: path },
        { cause: e },
      )
    }
    const js = ts.transpileModule(source, {
      fileName: abs,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: false,
      },
    }).outputText
    const dir = join(tmpdir(), 'tarn-sim-policies')
    mkdirSync(dir, { recursive: true })
    const file = join(dir, `${createHash('sha256').update(abs).update(js).digest('hex').slice(0, 16)}.mjs`)
    writeFileSync(file, js)
    url = pathToFileURL(file).href
  } else if (ext !== '.js' && ext !== '.mjs') {
    throw new TarnError('INVALID_ARGUMENT', `policy file ${path} must be .ts, .mts, .js or .mjs`, {
      file: path,
    })
  }
  let mod: Record<string, unknown>
  try {
    mod = (await import(url)) as Record<string, unknown>
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e)
    throw new TarnError(
      'INVALID_ARGUMENT',
      `cannot load policy file ${path}: ${msg}`,
      { file: path },
      { cause: e },
    )
  }
  const candidate = isPolicy(mod.default) ? mod.default : isPolicy(mod.policy) ? mod.policy : undefined
  if (candidate === undefined) {
    throw new TarnError(
      'INVALID_ARGUMENT',
      `policy file ${path} must export a policy ({ name, init, decide }) as default or as 'policy'`,
      { file: path },
    )
  }
  return candidate
}

/**
 * Resolves a scheduler given by name (a built-in: naive, priority, priority-pool, right-size) or by a path to a
 * policy file (anything containing a slash or ending in .ts/.js/.mjs/.mts), relative to `cwd`.
 */
export async function resolvePolicy(spec: string, cwd: string): Promise<Policy> {
  const builtin = builtinPolicy(spec)
  if (builtin !== undefined) return builtin
  if (/[\\/]|\.(m?ts|m?js)$/.test(spec)) return loadPolicyFile(resolve(cwd, spec))
  throw new TarnError(
    'INVALID_ARGUMENT',
    `unknown scheduler '${spec}': use naive, priority, priority-pool, right-size or a path to a policy file`,
    { scheduler: spec },
  )
}
