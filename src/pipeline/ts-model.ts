import type ts from 'typescript'
import { typescriptCompiler } from '../util/typescript-compiler.js'
import { analyzeFilter } from './filter-expr.js'
import { type Located, type RawModelOptions, resolveModelOptions } from './model-options.js'
import { applyParams, checkParamRefs, type ParamEnv } from './param-env.js'
import type { ExpectationDef, InputDef, ModelDef } from './project.js'
import { projectError } from './project-error.js'
import { findParams } from './sql-params.js'
import type { SqlParser } from './sql-parser.js'
import { paramsUsed } from './ts-function-params.js'
import { InputCall, isRecord, type StaticValue, unwrapper } from './ts-static-value.js'

/**
 * The SDK module project files import (`import { model } from 'tarn'`), resolved with no install step.
 */
export const SDK_MODULE = 'tarn'

/**
 * What a `.ts` project file declares.
 */
export interface TsModuleDefs {
  readonly models: readonly ModelDef[]
  readonly expectations: readonly ExpectationDef[]
}

type SdkFunction = 'model' | 'expectation' | 'input'

const MODEL_KEYS = new Set([
  'inputs',
  'materialize',
  'partitionedBy',
  'overwriteFilter',
  'packages',
  'memory',
  'timeout',
  'tags',
  'namespace',
])
const EXPECTATION_KEYS = new Set(['inputs', 'tags', 'description'])
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Definitions of files read before, by file, source, namespace and parameters (at most {@link CACHED_FILES}). */
const cache = new Map<string, TsModuleDefs>()
const CACHED_FILES = 256

/**
 * Reads the models and expectations a `.ts` project file exports (see {@link readTsModels}); a file read before with
 * the same text, namespace and parameters gives the same definitions without the compiler, whose syntax check alone
 * costs a run tens of milliseconds each time it plans. Failures are not kept: they are thrown again on each read.
 */
export async function loadTsModels(
  parser: SqlParser,
  env: ParamEnv,
  file: string,
  text: string,
  defaultNamespace: string,
): Promise<TsModuleDefs> {
  const key = JSON.stringify([file, text, defaultNamespace, env], (_k, v: unknown) =>
    typeof v === 'bigint' ? `${v}n` : v,
  )
  const known = cache.get(key)
  if (known) return known
  const defs = await readTsModels(parser, env, file, text, defaultNamespace)
  if (cache.size >= CACHED_FILES) cache.delete(cache.keys().next().value as string)
  cache.set(key, defs)
  return defs
}

/**
 * Reads the models and expectations a `.ts` project file exports, statically, with the TypeScript compiler API:
 * `export const name = model(config, fn)` / `expectation(config, fn)` with `model`, `expectation` and `input`
 * imported from `tarn`. The config must be literal data (top-level `const`s are followed); anything else is a
 * `PROJECT_INVALID` error naming the file and line. The module is never imported or run.
 */
async function readTsModels(
  parser: SqlParser,
  env: ParamEnv,
  file: string,
  text: string,
  defaultNamespace: string,
): Promise<TsModuleDefs> {
  // The compiler loads only when a project has TypeScript models (it takes seconds to load).
  const ts = typescriptCompiler()
  const unwrap = unwrapper(ts)
  const kind = /\.m?js$/i.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, kind)
  const lineOf = (n: ts.Node): number => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1
  const fail = (n: ts.Node | number, message: string, context: Record<string, unknown> = {}) =>
    projectError('PROJECT_INVALID', file, typeof n === 'number' ? n : lineOf(n), message, context)

  const syntax = ts.transpileModule(text, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).diagnostics
  const firstError = syntax?.find((d) => d.category === ts.DiagnosticCategory.Error)
  if (firstError) {
    const line =
      firstError.start === undefined ? 1 : sf.getLineAndCharacterOfPosition(firstError.start).line + 1
    throw fail(line, ts.flattenDiagnosticMessageText(firstError.messageText, ' '))
  }

  // What the file imports from the SDK.
  const named = new Map<string, SdkFunction>()
  const namespaces = new Set<string>()
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier)) continue
    if (st.moduleSpecifier.text !== SDK_MODULE) continue
    const b = st.importClause?.namedBindings
    if (b && ts.isNamespaceImport(b)) namespaces.add(b.name.text)
    if (b && ts.isNamedImports(b)) {
      for (const el of b.elements) {
        const imported = (el.propertyName ?? el.name).text
        if (imported === 'model' || imported === 'expectation' || imported === 'input')
          named.set(el.name.text, imported)
      }
    }
  }
  const sdkCall = (e: ts.Expression): { call: ts.CallExpression; fn: SdkFunction } | undefined => {
    const x = unwrap(e)
    if (!ts.isCallExpression(x)) return undefined
    const callee = unwrap(x.expression)
    if (ts.isIdentifier(callee)) {
      const fn = named.get(callee.text)
      return fn ? { call: x, fn } : undefined
    }
    if (
      ts.isPropertyAccessExpression(callee) &&
      ts.isIdentifier(callee.expression) &&
      namespaces.has(callee.expression.text)
    ) {
      const n = callee.name.text
      if (n === 'model' || n === 'expectation' || n === 'input') return { call: x, fn: n }
    }
    return undefined
  }

  // Top-level consts (followed by the evaluator) and exported names.
  const consts = new Map<string, ts.VariableDeclaration>()
  const exportedAs = new Map<string, string[]>()
  const addExport = (local: string, exported: string) =>
    exportedAs.set(local, [...(exportedAs.get(local) ?? []), exported])
  for (const st of sf.statements) {
    if (ts.isVariableStatement(st)) {
      const isConst = (st.declarationList.flags & ts.NodeFlags.Const) !== 0
      const exported = st.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ?? false
      for (const d of st.declarationList.declarations) {
        if (!ts.isIdentifier(d.name)) continue
        if (isConst) consts.set(d.name.text, d)
        if (exported) addExport(d.name.text, d.name.text)
      }
    } else if (
      ts.isExportDeclaration(st) &&
      !st.moduleSpecifier &&
      st.exportClause &&
      ts.isNamedExports(st.exportClause)
    ) {
      for (const el of st.exportClause.elements) addExport((el.propertyName ?? el.name).text, el.name.text)
    }
  }

  const evaluate = (e: ts.Expression, seen: ReadonlySet<string> = new Set()): StaticValue => {
    const x = unwrap(e)
    if (ts.isStringLiteral(x) || ts.isNoSubstitutionTemplateLiteral(x)) return x.text
    if (ts.isNumericLiteral(x)) return Number(x.text)
    if (
      ts.isPrefixUnaryExpression(x) &&
      x.operator === ts.SyntaxKind.MinusToken &&
      ts.isNumericLiteral(x.operand)
    )
      return -Number(x.operand.text)
    if (x.kind === ts.SyntaxKind.TrueKeyword) return true
    if (x.kind === ts.SyntaxKind.FalseKeyword) return false
    if (x.kind === ts.SyntaxKind.NullKeyword) return null
    if (ts.isIdentifier(x)) return resolveIdentifier(x, seen)
    if (ts.isArrayLiteralExpression(x)) {
      return x.elements.map((el) => {
        if (ts.isSpreadElement(el)) throw fail(el, `not statically resolvable: spread ${el.getText(sf)}`)
        return evaluate(el, seen)
      })
    }
    if (ts.isObjectLiteralExpression(x)) {
      const out: Record<string, StaticValue> = {}
      for (const p of x.properties) {
        if (ts.isPropertyAssignment(p)) {
          const key =
            ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) || ts.isNumericLiteral(p.name)
              ? p.name.text
              : undefined
          if (key === undefined)
            throw fail(p, `not statically resolvable: computed key ${p.name.getText(sf)}`)
          out[key] = evaluate(p.initializer, seen)
        } else if (ts.isShorthandPropertyAssignment(p)) {
          out[p.name.text] = resolveIdentifier(p.name, seen)
        } else throw fail(p, `not statically resolvable: ${p.getText(sf).split('\n')[0]}`)
      }
      return out
    }
    const sdk = sdkCall(x)
    if (sdk?.fn === 'input') {
      const [tableArg, optionsArg, ...rest] = sdk.call.arguments
      if (!tableArg || rest.length > 0)
        throw fail(x, 'input(table, { columns, filter }) takes one or two arguments')
      const table = evaluate(tableArg, seen)
      if (typeof table !== 'string') throw fail(tableArg, 'input(...): the table must be a string literal')
      const options = optionsArg === undefined ? {} : evaluate(optionsArg, seen)
      if (!isRecord(options)) throw fail(optionsArg ?? x, 'input(...): the options must be an object literal')
      return new InputCall(table, options, lineOf(x))
    }
    throw fail(
      x,
      `not statically resolvable: ${x.getText(sf).split('\n')[0]} (configs are literal data, top-level consts and input(...) calls)`,
    )
  }
  const resolveIdentifier = (id: ts.Identifier, seen: ReadonlySet<string>): StaticValue => {
    if (id.text === 'undefined') return null
    const d = consts.get(id.text)
    if (!d?.initializer) throw fail(id, `not statically resolvable: ${id.text} is not a top-level const`)
    if (seen.has(id.text)) throw fail(id, `not statically resolvable: ${id.text} refers to itself`)
    return evaluate(d.initializer, new Set([...seen, id.text]))
  }

  // The model and expectation declarations.
  const declared = new Set<ts.CallExpression>()
  const found: {
    kind: 'model' | 'expectation'
    name: string
    decl: ts.VariableDeclaration
    call: ts.CallExpression
  }[] = []
  for (const [local, d] of consts) {
    const sdk = d.initializer ? sdkCall(d.initializer) : undefined
    if (!sdk || sdk.fn === 'input') continue
    declared.add(sdk.call)
    const names = exportedAs.get(local) ?? []
    if (names.length === 0)
      throw fail(
        d,
        `${sdk.fn} ${local} is not exported: a ${sdk.fn}'s name is the name it is exported under`,
        {
          model: local,
        },
      )
    for (const name of names) found.push({ kind: sdk.fn, name, decl: d, call: sdk.call })
  }
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && !declared.has(n)) {
      const sdk = sdkCall(n)
      if (sdk && sdk.fn !== 'input')
        throw fail(
          n,
          `${sdk.fn}(...) must be the value of a top-level \`export const name = ${sdk.fn}(...)\`: the planner reads it without running the file`,
        )
    }
    ts.forEachChild(n, visit)
  }
  visit(sf)
  for (const st of sf.statements) {
    if (ts.isExportAssignment(st) && sdkCall(st.expression))
      throw fail(st, 'export default is not a model name: use `export const name = model(...)`')
  }

  const models: ModelDef[] = []
  const expectations: ExpectationDef[] = []
  for (const f of found) {
    const line = lineOf(f.decl)
    const context = f.kind === 'model' ? { model: f.name } : { expectation: f.name }
    if (!IDENT.test(f.name)) throw fail(line, `invalid ${f.kind} name ${JSON.stringify(f.name)}`, context)
    const [configArg, fnArg, ...rest] = f.call.arguments
    if (!configArg || !fnArg || rest.length > 0)
      throw fail(f.call, `${f.kind}(config, fn) takes a config and a function`, context)
    const config = evaluate(configArg)
    if (!isRecord(config))
      throw fail(configArg, `${f.kind} ${f.name}: the config must be an object literal`, context)
    const at = (key: string): ts.Node => propertyNode(configArg, key) ?? configArg
    const keys = f.kind === 'model' ? MODEL_KEYS : EXPECTATION_KEYS
    for (const k of Object.keys(config))
      if (!keys.has(k))
        throw fail(
          at(k),
          `${f.kind} ${f.name}: unknown config key ${k} (use ${[...keys].join(', ')})`,
          context,
        )
    const paramRefs = paramsUsed({ ts, sf, unwrap, consts, lineOf, fail }, fnArg)
    checkParamRefs(env, paramRefs, file, context)
    const inputs = await readInputs(config.inputs, at('inputs'), f.name, context)
    const inputParams = inputs.params
    if (f.kind === 'expectation') {
      const tags = stringList(config.tags, at('tags'), `${f.name}: tags`)
      const description = config.description
      if (description !== undefined && typeof description !== 'string')
        throw fail(at('description'), `expectation ${f.name}: description must be a string`, context)
      expectations.push(
        Object.freeze({
          name: f.name,
          file,
          line,
          inputs: inputs.defs,
          tags: Object.freeze(tags),
          description: description ?? null,
          params: Object.freeze([...new Set([...paramRefs.map((r) => r.name), ...inputParams])]),
        }),
      )
      continue
    }
    const located = <T>(key: string, v: T): Located<T> => ({ value: v, line: lineOf(at(key)) })
    const str = (key: string): Located<string> | undefined => {
      const v = config[key]
      if (v === undefined || v === null) return undefined
      if (typeof v !== 'string') throw fail(at(key), `model ${f.name}: ${key} must be a string`, context)
      return located(key, v)
    }
    const raw: RawModelOptions = {
      ...(str('materialize') ? { materialize: str('materialize') } : {}),
      ...(config.partitionedBy !== undefined
        ? {
            partitionedBy: located(
              'partitionedBy',
              stringList(config.partitionedBy, at('partitionedBy'), `${f.name}: partitionedBy`),
            ),
          }
        : {}),
      ...(str('overwriteFilter') ? { overwriteFilter: str('overwriteFilter') } : {}),
      ...(config.tags !== undefined
        ? { tags: located('tags', stringList(config.tags, at('tags'), `${f.name}: tags`)) }
        : {}),
      ...(str('namespace') ? { namespace: str('namespace') } : {}),
      ...(str('memory') ? { memory: str('memory') } : {}),
      ...(str('timeout') ? { timeout: str('timeout') } : {}),
      ...(config.packages !== undefined
        ? { packages: located('packages', packagesOf(config.packages, at('packages'), f.name)) }
        : {}),
    }
    const options = await resolveModelOptions(parser, env, file, f.name, defaultNamespace, raw)
    models.push(
      Object.freeze({
        kind: 'ts' as const,
        name: f.name,
        file,
        line,
        namespace: options.namespace,
        materialize: options.materialize,
        partitionedBy: options.partitionedBy,
        overwriteFilter: options.overwriteFilter,
        overwriteFilterColumns: options.overwriteFilterColumns,
        overwriteFilterLine: options.overwriteFilterLine,
        tags: options.tags,
        packages: options.packages,
        memory: options.memory,
        timeout: options.timeout,
        inputs: inputs.defs,
        sql: null,
        columnUse: null,
        params: Object.freeze([
          ...new Set([...paramRefs.map((r) => r.name), ...inputParams, ...options.params]),
        ]),
      }),
    )
  }
  return Object.freeze({ models: Object.freeze(models), expectations: Object.freeze(expectations) })

  function propertyNode(
    e: ts.Expression,
    key: string,
    seen: ReadonlySet<string> = new Set(),
  ): ts.Node | undefined {
    const x = unwrap(e)
    if (ts.isIdentifier(x) && !seen.has(x.text)) {
      const init = consts.get(x.text)?.initializer
      return init ? propertyNode(init, key, new Set([...seen, x.text])) : undefined
    }
    if (!ts.isObjectLiteralExpression(x)) return undefined
    return x.properties.find(
      (p) =>
        (ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p)) &&
        (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) &&
        p.name.text === key,
    )
  }

  function stringList(v: StaticValue | undefined, at: ts.Node, what: string): string[] {
    if (v === undefined || v === null) return []
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
      throw fail(at, `${what} must be an array of strings`)
    return [...(v as string[])]
  }

  function packagesOf(v: StaticValue, at: ts.Node, model: string): Record<string, string> {
    if (!isRecord(v) || !Object.values(v).every((s) => typeof s === 'string'))
      throw fail(at, `model ${model}: packages must map package names to version ranges`, { model })
    return { ...(v as Record<string, string>) }
  }

  async function readInputs(
    v: StaticValue | undefined,
    at: ts.Node,
    owner: string,
    context: Record<string, unknown>,
  ): Promise<{ defs: readonly InputDef[]; params: string[] }> {
    if (v === undefined || v === null) return { defs: Object.freeze([]), params: [] }
    if (!isRecord(v)) throw fail(at, `${owner}: inputs must be an object of name: input(...)`, context)
    const defs: InputDef[] = []
    const params: string[] = []
    for (const [alias, spec] of Object.entries(v)) {
      const aliasAt =
        (ts.isPropertyAssignment(at) ? propertyNode(at.initializer, alias) : undefined) ??
        (ts.isObjectLiteralExpression(at) ? propertyNode(at, alias) : undefined) ??
        at
      if (!(spec instanceof InputCall))
        throw fail(aliasAt, `${owner}: inputs.${alias} must be input('table', { columns, filter })`, context)
      const { table, options, line } = spec
      for (const k of Object.keys(options))
        if (k !== 'columns' && k !== 'filter')
          throw fail(line, `${owner}: input ${table}: unknown option ${k} (use columns, filter)`, context)
      let columns: string[] | null = null
      if (options.columns !== undefined && options.columns !== null) {
        columns = stringList(options.columns, at, `${owner}: input ${table}: columns`)
        if (columns.length === 0) throw fail(line, `${owner}: input ${table}: columns is empty`, context)
      }
      let filter: string | null = null
      let filterColumns: readonly string[] = []
      if (options.filter !== undefined && options.filter !== null) {
        if (typeof options.filter !== 'string')
          throw fail(line, `${owner}: input ${table}: filter must be a string`, context)
        const refs = findParams(options.filter).map((r) => ({ name: r.name, line }))
        checkParamRefs(env, refs, file, { ...context, table })
        params.push(...refs.map((r) => r.name))
        filter = applyParams(env, options.filter)
        const a = await analyzeFilter(parser, filter)
        if (!a.ok)
          throw projectError('INVALID_FILTER', file, line, `${owner}: input ${table}: filter: ${a.problem}`, {
            ...context,
            table,
            filter: options.filter,
          })
        filterColumns = a.columns
      }
      defs.push(
        Object.freeze({
          alias,
          table,
          columns: columns && Object.freeze(columns),
          filter,
          filterColumns,
          line,
        }),
      )
    }
    return { defs: Object.freeze(defs), params }
  }
}
