import type { Op, Outcome } from './types.js'

/**
 * An operation the way a user would type it (close to the `tarn` command line).
 *
 * @example
 * ```ts
 * formatOp({ kind: 'merge', source: 'dev', into: 'main' }) // 'merge dev --into main'
 * ```
 */
export function formatOp(op: Op): string {
  switch (op.kind) {
    case 'createBranch':
      return `branch create ${op.name} --from-ref ${op.from}`
    case 'deleteBranch':
      return `branch rm ${op.name}`
    case 'tag':
      return `tag create ${op.name} --from-ref ${op.from}`
    case 'write':
      return `${op.mode} ${op.table} -b ${op.branch}`
    case 'merge':
      return `merge ${op.source} --into ${op.into}`
    case 'revert':
      return `revert ${op.on}~${op.back} --on ${op.on}${op.table ? ` --table ${op.table}` : ''}`
    case 'startRun':
      return `run start -r ${op.target} [${op.plan.map((s) => `${s.mode} ${s.table}`).join(', ')}]`
    case 'runWrite':
      return `run ${op.run}: next model`
    case 'runFinish':
      return `run ${op.run}: ${op.success ? 'succeed' : 'fail'}`
  }
}

/**
 * An outcome in a few words.
 *
 * @example
 * ```ts
 * formatOutcome({ ok: false, code: 'MERGE_CONFLICT', tables: ['t1'] }) // 'MERGE_CONFLICT t1'
 * ```
 */
export function formatOutcome(outcome: Outcome): string {
  if (outcome.ok) return outcome.warning ? `${outcome.kind} (warning: ${outcome.warning})` : outcome.kind
  return outcome.tables ? `${outcome.code} ${outcome.tables.join(',')}` : outcome.code
}
