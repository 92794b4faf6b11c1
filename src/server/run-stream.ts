import { PassThrough, type Readable } from 'node:stream'
import type { RunObserver, RunOutcome } from '../lake/lake-types.js'
import { asTarnError } from '../util/errors.js'

/**
 * Media type of a run's progress stream: one JSON document per line.
 */
export const NDJSON = 'application/x-ndjson'

/**
 * One line of a run's progress stream (`POST /api/v1/runs`, `/jobs/:id/rerun`): the run observer's events in order
 * (`planned` with the plan and job record, `node` on every node update, `log`, `progress`, `finished`), then exactly
 * one final line: `outcome` (the job and plan of a run that landed) or `error` (the CLI's error document of a run
 * that failed after it started).
 *
 * @example
 * ```ts
 * const e: RunEvent = { event: 'progress', line: 'building the Python environment' }
 * ```
 */
export type RunEvent =
  | { readonly event: 'planned'; readonly plan: unknown; readonly job: unknown }
  | { readonly event: 'node'; readonly node: unknown }
  | { readonly event: 'log'; readonly line: string }
  | { readonly event: 'progress'; readonly line: string }
  | { readonly event: 'finished'; readonly job: unknown }
  | { readonly event: 'outcome'; readonly job: unknown; readonly plan: unknown }
  | { readonly event: 'error'; readonly error: Readonly<Record<string, unknown>> }

/**
 * Starts a run and returns its progress as a JSON-lines body once the first event is out. A run that fails before
 * it reports anything (a bad project, a missing branch, a refused write) rejects instead, so the caller answers
 * with the error document and its HTTP status, as for any request; a failure after the first event becomes the
 * final `error` line. The run goes on to its end when the client goes away: it lands whole or is sealed as failed.
 */
export async function runEventStream(
  start: (observer: RunObserver) => Promise<RunOutcome>,
  scrub: (text: string) => string = (s) => s,
): Promise<Readable> {
  const out = new PassThrough()
  let started = false
  let markStarted: () => void = () => undefined
  const first = new Promise<void>((resolve) => {
    markStarted = resolve
  })
  const write = (doc: RunEvent): void => {
    if (!out.destroyed) out.write(`${scrub(JSON.stringify(doc))}\n`)
    if (!started) {
      started = true
      markStarted()
    }
  }
  const observer: RunObserver = {
    planned: (plan, job) => write({ event: 'planned', plan, job }),
    node: (node) => write({ event: 'node', node }),
    log: (line) => write({ event: 'log', line }),
    progress: (line) => write({ event: 'progress', line }),
    finished: (job) => write({ event: 'finished', job }),
  }
  const done = start(observer).then(
    (o) => {
      write({ event: 'outcome', job: o.job, plan: o.plan })
      out.end()
    },
    (e: unknown) => {
      if (!started) throw e
      write({ event: 'error', error: asTarnError(e).toJSON() })
      out.end()
    },
  )
  await Promise.race([first, done])
  return out
}
