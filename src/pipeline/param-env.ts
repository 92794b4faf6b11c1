import { type ParameterDef, type ParameterValue, PROJECT_FILE } from './project.js'
import { projectError } from './project-error.js'
import { substituteParams } from './sql-params.js'

/**
 * The parameters a project declares and the values of this run: what model files are checked and substituted
 * against.
 */
export interface ParamEnv {
  readonly parameters: readonly ParameterDef[]
  readonly values: Readonly<Record<string, ParameterValue>>
}

/**
 * Checks the parameter references of a model file: `UNKNOWN_PARAMETER` for an undeclared name,
 * `MISSING_PARAMETER` for a declared one without a value; both name the file and line of the reference.
 */
export function checkParamRefs(
  env: ParamEnv,
  refs: readonly { readonly name: string; readonly line: number }[],
  file: string,
  context: Readonly<Record<string, unknown>>,
): void {
  for (const r of refs) {
    const def = env.parameters.find((p) => p.name === r.name)
    if (!def) {
      const known = env.parameters.map((p) => p.name).join(', ') || 'none'
      throw projectError(
        'UNKNOWN_PARAMETER',
        file,
        r.line,
        `unknown parameter $${r.name} (${PROJECT_FILE} declares: ${known})`,
        { ...context, parameter: r.name },
      )
    }
    if (env.values[r.name] === undefined) {
      throw projectError(
        'MISSING_PARAMETER',
        file,
        r.line,
        `parameter ${r.name} has no value: pass --param ${r.name}=<${def.type}> or give it a default in ${PROJECT_FILE}`,
        { ...context, parameter: r.name, declaredAt: `${PROJECT_FILE}:${def.line}` },
      )
    }
  }
}

/**
 * Substitutes the run's parameter values for `$name` in SQL text (models, filters).
 */
export function applyParams(env: ParamEnv, sql: string): string {
  const types = Object.fromEntries(env.parameters.map((p) => [p.name, p.type]))
  return substituteParams(sql, env.values, types)
}
