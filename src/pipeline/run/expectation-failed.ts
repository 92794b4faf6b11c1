import { TarnError } from '../../util/errors.js'
import type { LogicalNode } from '../logical-plan.js'

/**
 * The error of a failed expectation: its file and line, and, when it reported failing rows, how many and a sample
 * (as dbt tests do); otherwise the message it gave, if any.
 */
export function expectationFailed(
  n: LogicalNode,
  failing: { count: number; sample: readonly unknown[]; columns?: readonly string[] } | null,
  message?: string,
): TarnError {
  const rows = failing
    ? `: ${failing.count} failing row${failing.count === 1 ? '' : 's'}${failing.sample.length > 0 ? `, e.g. ${failing.sample.map((row) => JSON.stringify(row)).join(', ')}` : ''}`
    : message
      ? `: ${message}`
      : ''
  return new TarnError('EXPECTATION_FAILED', `expectation ${n.name} failed at ${n.file}:${n.line}${rows}`, {
    node: n.name,
    expectation: n.name,
    file: n.file,
    line: n.line,
    ...(failing
      ? {
          failingRows: failing.count,
          sample: failing.sample,
          ...(failing.columns ? { columns: failing.columns } : {}),
        }
      : {}),
  })
}
