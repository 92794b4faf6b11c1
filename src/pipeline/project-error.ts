import { type ErrorCode, TarnError } from '../util/errors.js'

/**
 * An error about a place in a project: the message starts with `file:line:` and the context holds `file`, `line`
 * and whatever else is given (`model`, `parameter`, `table`, ...).
 */
export function projectError(
  code: ErrorCode,
  file: string,
  line: number,
  message: string,
  context: Readonly<Record<string, unknown>> = {},
): TarnError {
  return new TarnError(code, `${file}:${line}: ${message}`, { file, line, ...context })
}
