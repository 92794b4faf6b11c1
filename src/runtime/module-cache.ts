import { existsSync } from 'node:fs'
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { sha256Hex } from '../util/canonical.js'
import { typescriptCompiler } from '../util/typescript-compiler.js'
import { repoPaths } from './repo-paths.js'

const CODE = /\.(ts|mts|js|mjs)$/

/**
 * Rewrites the module specifiers a project file may use without an install step: `tarn` (the SDK) and
 * `apache-arrow` (the same copy the worker uses, so tables are of one class) become absolute file URLs.
 */
export function rewriteSpecifiers(code: string, map: Readonly<Record<string, string>>): string {
  return code.replace(
    /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"]+)\2/g,
    (all, pre: string, q: string, spec: string) => (map[spec] ? `${pre}${q}${map[spec]}${q}` : all),
  )
}

/**
 * Transpiles a project's TS/JS files into a content-addressed directory (`<cacheRoot>/modules/<hash>`, keyed by the
 * files, the project directory and the environment) and returns it. TypeScript keeps inline source maps to the
 * original files, so stack traces (the worker enables source maps before it imports them) name the project file and line. `node_modules`
 * links to the model's package environment, or to tarn's own packages.
 */
export async function transpileProject(
  projectDir: string,
  files: Readonly<Record<string, string>>,
  cacheRoot: string,
  envNodeModules: string | null,
): Promise<string> {
  const paths = repoPaths()
  const code = Object.entries(files)
    .filter(([p]) => CODE.test(p) && !p.endsWith('.d.ts'))
    .sort(([a], [b]) => (a < b ? -1 : 1))
  const hash = sha256Hex(JSON.stringify([projectDir, envNodeModules, paths.root, paths.workerArrow, code]))
  const dir = join(cacheRoot, 'modules', hash.slice(0, 32))
  if (existsSync(join(dir, '.complete'))) return dir
  // The compiler loads only when a project's modules are not cached yet (loading it takes longer than a small run).
  const ts = typescriptCompiler()
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`
  await mkdir(tmp, { recursive: true })
  const specs = {
    tarn: pathToFileURL(paths.sdk).href,
    'apache-arrow': pathToFileURL(paths.workerArrow).href,
  }
  for (const [rel, text] of code) {
    const out = join(tmp, rel.replace(CODE, '.js'))
    await mkdir(dirname(out), { recursive: true })
    const js = ts.transpileModule(text, {
      fileName: join(projectDir, rel),
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        inlineSourceMap: true,
        inlineSources: false,
        sourceRoot: '',
      },
    }).outputText
    const mapped = js.replace(
      /\/\/# sourceMappingURL=data:application\/json;base64,(\S+)\s*$/,
      (_all, b64: string) => {
        const map = JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as { sources: string[] }
        map.sources = [pathToFileURL(join(projectDir, rel)).href]
        return `//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}`
      },
    )
    await writeFile(out, rewriteSpecifiers(mapped, specs))
  }
  await writeFile(join(tmp, 'package.json'), '{"type":"module"}\n')
  await symlink(envNodeModules ?? paths.nodeModules, join(tmp, 'node_modules'), 'dir')
  await writeFile(join(tmp, '.complete'), '')
  try {
    await rename(tmp, dir)
  } catch {
    // another run finished the same directory first
  }
  return dir
}
