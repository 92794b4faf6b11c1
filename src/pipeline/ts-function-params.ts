import type ts from 'typescript'

/**
 * What {@link paramsUsed} needs of a parsed project file: the compiler, the file, its top-level consts and how to
 * report a line.
 */
export interface TsFunctionSource {
  readonly ts: typeof ts
  readonly sf: ts.SourceFile
  readonly unwrap: (e: ts.Expression) => ts.Expression
  readonly consts: ReadonlyMap<string, ts.VariableDeclaration>
  readonly lineOf: (n: ts.Node) => number
  readonly fail: (n: ts.Node, message: string) => Error
}

/**
 * The parameters a model's function reads: `ctx.params.x`, `ctx.params['x']`, `{ params }` then `params.x`,
 * `{ params: { x } }`, with their lines. The function is the model call's second argument (inline, or a top-level
 * function or const of the file).
 */
export function paramsUsed(source: TsFunctionSource, fnArg: ts.Expression): { name: string; line: number }[] {
  const { ts, sf, unwrap, consts, fail } = source
  let fn = unwrap(fnArg)
  if (ts.isIdentifier(fn)) {
    const target = consts.get(fn.text)?.initializer
    const decl = sf.statements.find(
      (s): s is ts.FunctionDeclaration =>
        ts.isFunctionDeclaration(s) && s.name?.text === (fn as ts.Identifier).text,
    )
    if (decl) return scanFunction(source, decl)
    if (!target) return []
    fn = unwrap(target)
  }
  if (ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) return scanFunction(source, fn)
  throw fail(fnArg, 'the second argument must be a function')
}

function scanFunction(
  source: TsFunctionSource,
  fn: ts.SignatureDeclarationBase & { body?: ts.Node | undefined },
): { name: string; line: number }[] {
  const { ts, unwrap, lineOf } = source
  const second = fn.parameters[1]?.name
  if (!second || !fn.body) return []
  const refs: { name: string; line: number }[] = []
  const ctxNames = new Set<string>()
  const paramsNames = new Set<string>()
  if (ts.isIdentifier(second)) ctxNames.add(second.text)
  else if (ts.isObjectBindingPattern(second)) {
    for (const el of second.elements) {
      const prop = el.propertyName && ts.isIdentifier(el.propertyName) ? el.propertyName.text : undefined
      const key = prop ?? (ts.isIdentifier(el.name) ? el.name.text : undefined)
      if (key !== 'params') continue
      if (ts.isIdentifier(el.name)) paramsNames.add(el.name.text)
      else if (ts.isObjectBindingPattern(el.name)) {
        for (const p of el.name.elements) {
          const n = p.propertyName && ts.isIdentifier(p.propertyName) ? p.propertyName : p.name
          if (ts.isIdentifier(n)) refs.push({ name: n.text, line: lineOf(p) })
        }
      }
    }
  }
  const isParamsObject = (e: ts.Expression): boolean => {
    const x = unwrap(e)
    if (ts.isIdentifier(x)) return paramsNames.has(x.text)
    return (
      ts.isPropertyAccessExpression(x) &&
      x.name.text === 'params' &&
      ts.isIdentifier(unwrap(x.expression)) &&
      ctxNames.has((unwrap(x.expression) as ts.Identifier).text)
    )
  }
  const walk = (n: ts.Node): void => {
    if (ts.isPropertyAccessExpression(n) && isParamsObject(n.expression))
      refs.push({ name: n.name.text, line: lineOf(n) })
    else if (
      ts.isElementAccessExpression(n) &&
      isParamsObject(n.expression) &&
      (ts.isStringLiteral(n.argumentExpression) || ts.isNoSubstitutionTemplateLiteral(n.argumentExpression))
    )
      refs.push({ name: n.argumentExpression.text, line: lineOf(n) })
    else if (ts.isVariableDeclaration(n) && ts.isObjectBindingPattern(n.name) && n.initializer) {
      if (isParamsObject(n.initializer)) {
        for (const p of n.name.elements) {
          const k = p.propertyName && ts.isIdentifier(p.propertyName) ? p.propertyName : p.name
          if (ts.isIdentifier(k)) refs.push({ name: k.text, line: lineOf(p) })
        }
      }
    }
    ts.forEachChild(n, walk)
  }
  walk(fn.body)
  return refs
}
