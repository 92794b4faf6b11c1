import { isMap, isScalar, LineCounter, type Node, type Pair, parseDocument, type YAMLMap } from 'yaml'
import { TarnError } from '../util/errors.js'
import { type ParameterDef, type ParameterType, type ParameterValue, PROJECT_FILE } from './project.js'

/**
 * The contents of `tarn_project.yml`.
 */
export interface ProjectFile {
  readonly name: string
  readonly namespace: string
  readonly parameters: readonly ParameterDef[]
}

const PARAMETER_TYPES: readonly ParameterType[] = ['string', 'number', 'integer', 'boolean', 'date']
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/
const DATE = /^\d{4}-\d{2}-\d{2}$/

/**
 * Parses a parameter value (from `--param k=v` or a YAML default) as its declared type; `undefined` when it does
 * not fit the type.
 */
export function parseParameterValue(value: unknown, type: ParameterType): ParameterValue | undefined {
  const text = typeof value === 'string' ? value.trim() : value
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined
    case 'number':
    case 'integer': {
      const n =
        typeof text === 'number' ? text : typeof text === 'string' && text !== '' ? Number(text) : Number.NaN
      if (!Number.isFinite(n)) return undefined
      return type === 'integer' && !Number.isInteger(n) ? undefined : n
    }
    case 'boolean':
      if (typeof text === 'boolean') return text
      return text === 'true' ? true : text === 'false' ? false : undefined
    case 'date':
      return typeof text === 'string' && DATE.test(text) && !Number.isNaN(Date.parse(text)) ? text : undefined
  }
}

function invalid(message: string, line: number, extra: Record<string, unknown> = {}): TarnError {
  return new TarnError('PROJECT_INVALID', `${PROJECT_FILE}:${line}: ${message}`, {
    file: PROJECT_FILE,
    line,
    ...extra,
  })
}

/**
 * Parses and validates `tarn_project.yml`: `name`, `namespace` (or `defaults: { namespace }`) and `parameters`
 * (`{ name: { type, default, required, description } }`, or `name: default` with the default's type). Errors are `PROJECT_INVALID` naming the file and line.
 */
export function parseProjectFile(text: string): ProjectFile {
  const lc = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false })
  const lineOf = (node: Node | Pair | null | undefined): number => {
    const r = node && 'range' in node ? node.range : undefined
    if (r) return lc.linePos(r[0]).line
    const key = node && 'key' in node ? (node.key as Node | null) : undefined
    return key?.range ? lc.linePos(key.range[0]).line : 1
  }
  const first = doc.errors[0]
  if (first) throw invalid(`not valid YAML: ${first.message.split('\n')[0]}`, lc.linePos(first.pos[0]).line)
  const root = doc.contents
  if (!isMap(root)) throw invalid('expected a mapping with name, namespace and parameters', 1)

  let name: string | undefined
  let namespace = 'tarn'
  let namespaceLine = 1
  const parameters: ParameterDef[] = []

  const stringValue = (pair: Pair, what: string): string => {
    const v = isScalar(pair.value) ? pair.value.value : undefined
    if (typeof v !== 'string' || v.trim() === '')
      throw invalid(`${what} must be a non-empty string`, lineOf(pair))
    return v
  }
  const entries = (map: YAMLMap): [string, Pair][] =>
    map.items.map((p) => [String(isScalar(p.key) ? p.key.value : p.key), p])

  for (const [key, pair] of entries(root)) {
    if (key === 'name') name = stringValue(pair, 'name')
    else if (key === 'namespace') {
      namespace = stringValue(pair, 'namespace')
      namespaceLine = lineOf(pair)
    } else if (key === 'defaults') {
      if (!isMap(pair.value)) throw invalid('defaults must be a mapping', lineOf(pair))
      for (const [k, p] of entries(pair.value)) {
        if (k !== 'namespace') throw invalid(`unknown key defaults.${k} (expected namespace)`, lineOf(p))
        namespace = stringValue(p, 'defaults.namespace')
        namespaceLine = lineOf(p)
      }
    } else if (key === 'parameters') {
      if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) continue
      if (!isMap(pair.value))
        throw invalid('parameters must be a mapping of name to { type, default }', lineOf(pair))
      for (const [pname, p] of entries(pair.value)) parameters.push(parameterDef(pname, p))
    } else throw invalid(`unknown key ${key} (expected name, namespace, defaults, parameters)`, lineOf(pair))
  }
  if (name === undefined) throw invalid('missing name', 1)
  if (!IDENT.test(namespace)) throw invalid(`invalid namespace ${JSON.stringify(namespace)}`, namespaceLine)
  return Object.freeze({ name, namespace, parameters: Object.freeze(parameters) })

  function parameterDef(pname: string, p: Pair): ParameterDef {
    const line = lineOf(p)
    if (!IDENT.test(pname)) throw invalid(`invalid parameter name ${JSON.stringify(pname)}`, line)
    const value = p.value
    if (isScalar(value) && value.value !== null) {
      // Shorthand `name: default`: the type is the default's.
      const v = value.value
      const type: ParameterType | undefined =
        typeof v === 'number'
          ? 'number'
          : typeof v === 'boolean'
            ? 'boolean'
            : typeof v === 'string'
              ? DATE.test(v)
                ? 'date'
                : 'string'
              : undefined
      const def = type && parseParameterValue(v, type)
      if (type && def !== undefined)
        return Object.freeze({ name: pname, type, default: def, required: false, description: null, line })
    }
    if (!isMap(value))
      throw invalid(
        `parameter ${pname} must be a mapping { type, default, required } or a default value`,
        line,
      )
    let type: ParameterType = 'string'
    let required = false
    let description: string | null = null
    let rawDefault: { v: unknown; line: number } | undefined
    for (const [k, kp] of entries(value)) {
      const v = isScalar(kp.value) ? kp.value.value : undefined
      if (k === 'type') {
        if (!PARAMETER_TYPES.includes(v as ParameterType))
          throw invalid(
            `parameter ${pname}: unknown type ${JSON.stringify(v)} (use ${PARAMETER_TYPES.join(', ')})`,
            lineOf(kp),
            { parameter: pname },
          )
        type = v as ParameterType
      } else if (k === 'required') {
        if (typeof v !== 'boolean')
          throw invalid(`parameter ${pname}: required must be true or false`, lineOf(kp), {
            parameter: pname,
          })
        required = v
      } else if (k === 'description') {
        if (typeof v !== 'string')
          throw invalid(`parameter ${pname}: description must be a string`, lineOf(kp), { parameter: pname })
        description = v
      } else if (k === 'default') rawDefault = { v, line: lineOf(kp) }
      else
        throw invalid(
          `parameter ${pname}: unknown key ${k} (expected type, default, required, description)`,
          lineOf(kp),
          {
            parameter: pname,
          },
        )
    }
    let def: ParameterValue | undefined
    if (rawDefault !== undefined && rawDefault.v !== null) {
      def = parseParameterValue(rawDefault.v, type)
      if (def === undefined)
        throw invalid(
          `parameter ${pname}: default ${JSON.stringify(rawDefault.v)} is not a ${type}`,
          rawDefault.line,
          {
            parameter: pname,
          },
        )
      if (required)
        throw invalid(`parameter ${pname} is required and has a default: keep one`, line, {
          parameter: pname,
        })
    }
    return Object.freeze({
      name: pname,
      type,
      ...(def !== undefined ? { default: def } : {}),
      required,
      description,
      line,
    })
  }
}

/**
 * Resolves the values of a run's parameters: given values (`--param k=v`, parsed as the declared type) over
 * defaults. Throws `UNKNOWN_PARAMETER` for a value of an undeclared parameter, `MISSING_PARAMETER` for a required
 * one without a value and `INVALID_PARAMETER` for a value that does not fit its type.
 */
export function resolveParams(
  parameters: readonly ParameterDef[],
  given: Readonly<Record<string, string | ParameterValue>>,
): Readonly<Record<string, ParameterValue>> {
  const byName = new Map(parameters.map((p) => [p.name, p]))
  const out: Record<string, ParameterValue> = {}
  for (const [k, raw] of Object.entries(given)) {
    const def = byName.get(k)
    if (!def) {
      throw new TarnError(
        'UNKNOWN_PARAMETER',
        `unknown parameter ${k}: ${PROJECT_FILE} declares ${parameters.map((p) => p.name).join(', ') || 'no parameters'}`,
        { file: PROJECT_FILE, line: 1, parameter: k },
      )
    }
    const v = parseParameterValue(raw, def.type)
    if (v === undefined) {
      throw new TarnError(
        'INVALID_PARAMETER',
        `${PROJECT_FILE}:${def.line}: parameter ${k} is a ${def.type}; got ${JSON.stringify(raw)}`,
        { file: PROJECT_FILE, line: def.line, parameter: k, value: raw },
      )
    }
    out[k] = v
  }
  for (const p of parameters) {
    if (out[p.name] !== undefined) continue
    if (p.default !== undefined) out[p.name] = p.default
    else if (p.required) {
      throw new TarnError(
        'MISSING_PARAMETER',
        `${PROJECT_FILE}:${p.line}: parameter ${p.name} is required: pass --param ${p.name}=<${p.type}>`,
        { file: PROJECT_FILE, line: p.line, parameter: p.name },
      )
    }
  }
  return Object.freeze(out)
}
