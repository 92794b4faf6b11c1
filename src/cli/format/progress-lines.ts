import type { JobRecord, NodeRecord } from '../../lake/lake-types.js'
import { humanBytes } from './human-bytes.js'

function duration(ms: number): string {
  if (ms < 1000) return `${ms}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`
}

/**
 * The progress line of a node: `waiting`, `running`, `done` with rows and time (and, for a scan, the files and
 * bytes it read of the table's), `failed` with the reason, or `skipped`.
 */
export function nodeLine(n: NodeRecord): string {
  const head = `  ${n.status.padEnd(8)} ${n.id}`
  if (n.status === 'done') {
    const rows = n.rows === null ? '' : `${n.rows} row${n.rows === 1 ? '' : 's'} `
    const time = n.startedAt !== null && n.finishedAt !== null ? duration(n.finishedAt - n.startedAt) : ''
    const read = n.scan
      ? `  read ${n.scan.filesKept} of ${n.scan.filesTotal} file${n.scan.filesTotal === 1 ? '' : 's'}, ` +
        `${humanBytes(n.scan.bytesKept)} of ${humanBytes(n.scan.bytesTotal)}`
      : ''
    if (n.fusedInto !== undefined) return `${head}  run inside the input of ${n.fusedInto}`
    return `${head}  ${rows}in ${time}${read}`.trimEnd()
  }
  if (n.status === 'failed') return `${head}  ${n.error ?? ''}`.trimEnd()
  return head
}

/**
 * The summary a run prints at the end: status, job, branches, tables written, node counts and time.
 */
export function runSummaryText(job: JobRecord): string {
  const count = (s: NodeRecord['status']) => job.nodes.filter((n) => n.status === s).length
  const time = job.finishedAt === null ? '' : ` in ${duration(job.finishedAt - job.startedAt)}`
  const lines = [
    `run ${job.status}: job ${job.id} of project ${job.project} on ${job.target}${time}`,
    `  read    @${job.dataCommit.slice(0, 12)}   code ${job.codeHash.slice(0, 12)}`,
    `  nodes   ${count('done')} done, ${count('failed')} failed, ${count('skipped')} skipped`,
  ]
  if (job.rerunOf) lines.push(`  rerun of ${job.rerunOf}`)
  for (const [t, rows] of Object.entries(job.tables)) lines.push(`  table   ${t}: ${rows} row(s)`)
  if (job.status === 'succeeded' && job.mergeCommit)
    lines.push(`  ${job.target} -> ${job.mergeCommit.slice(0, 12)}`)
  if (job.status === 'failed') {
    lines.push(`  error   ${job.error?.code}: ${job.error?.message}`)
    lines.push(`  run branch ${job.runBranch} is sealed (readable); ${job.target} is untouched`)
  }
  for (const w of job.warnings) lines.push(`  warning ${w}`)
  return lines.join('\n')
}
