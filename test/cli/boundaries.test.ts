import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/build.js'

const SRC = join(ROOT, 'src')

/** Every TypeScript file under `dir`. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return sourceFiles(path)
    return e.name.endsWith('.ts') ? [path] : []
  })
}

/**
 * The module specifiers a file names, parsed (so comments and examples in JSDoc do not count): static imports and
 * re-exports (`import type` too), dynamic `import(...)` and `import('...').Type` in type positions.
 */
function specifiers(file: string, text = readFileSync(file, 'utf8')): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    )
      found.push(node.moduleSpecifier.text)
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0]
      found.push(arg && ts.isStringLiteralLike(arg) ? arg.text : '<computed>')
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    )
      found.push(node.argument.literal.text)
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/** The top-level directory of `src/` a relative specifier lands in (`index.ts` for the barrel), else undefined. */
function layerOf(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined
  const target = relative(SRC, resolve(dirname(file), specifier))
  if (target.startsWith('..')) return undefined
  return target.split(sep)[0]
}

/**
 * `file -> specifier` for every import of a file under `src/cli` that reaches into pipeline/ or engine/, or that
 * computes its specifier (which no scan can check).
 */
function cliReachesPast(file: string, text?: string): string[] {
  return specifiers(file, text)
    .filter((s) => s === '<computed>' || ['pipeline', 'engine'].includes(layerOf(file, s) ?? ''))
    .map((s) => `${relative(ROOT, file)} -> ${s}`)
}

/** Layers from the bottom up (docs/architecture.md): a module may import only from layers ranked below its own. */
const RANK: Readonly<Record<string, number>> = {
  util: 0,
  storage: 1,
  duckdb: 1,
  catalog: 2,
  iceberg: 2,
  engine: 3,
  runtime: 4,
  pipeline: 5,
  sim: 5,
  lake: 6,
  server: 7,
  client: 7,
  cli: 8,
}

describe('layer boundaries of the source tree', () => {
  it('keeps the CLI on the Lake façade: no file under src/cli imports from src/pipeline or src/engine', () => {
    const files = sourceFiles(join(SRC, 'cli'))
    expect(files.length).toBeGreaterThan(15)
    expect(files.flatMap((f) => cliReachesPast(f))).toEqual([])
  })

  it('catches static, type-only, re-exported, dynamic and type-position imports of pipeline or engine code', () => {
    const text = [
      "import { a } from '../../pipeline/a.js'",
      "import type { B } from '../../engine/index.js'",
      "export { c } from '../../pipeline/run/c.js'",
      "const d = await import('../../engine/lake-engine.js')",
      "type E = import('../../pipeline/e.js').E",
      "const f = await import('../../' + layer + '/f.js')",
      "import { ok } from '../../lake/lake.js'",
      "import { Command } from 'commander'",
      "// import { g } from '../../engine/g.js' in a comment does not count",
    ].join('\n')
    expect(cliReachesPast(join(SRC, 'cli', 'commands', 'probe.ts'), text)).toEqual([
      'src/cli/commands/probe.ts -> ../../pipeline/a.js',
      'src/cli/commands/probe.ts -> ../../engine/index.js',
      'src/cli/commands/probe.ts -> ../../pipeline/run/c.js',
      'src/cli/commands/probe.ts -> ../../engine/lake-engine.js',
      'src/cli/commands/probe.ts -> ../../pipeline/e.js',
      'src/cli/commands/probe.ts -> <computed>',
    ])
  })

  it('never lets a lower layer import an upper one (util < storage, duckdb < catalog, iceberg < engine < runtime < pipeline, sim < lake < server, client < cli)', () => {
    const files = sourceFiles(SRC).filter((f) => relative(SRC, f).includes(sep))
    const upward = files.flatMap((f) => {
      const from = relative(SRC, f).split(sep)[0] as string
      return specifiers(f)
        .map((s) => ({ s, to: layerOf(f, s) }))
        .filter(({ to }) => to !== undefined && to !== from && (RANK[to] ?? 99) >= (RANK[from] ?? -1))
        .map(({ s }) => `${relative(ROOT, f)} -> ${s}`)
    })
    expect(Object.keys(RANK).sort()).toEqual(
      readdirSync(SRC, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort(),
    )
    expect(upward).toEqual([])
  })
})
