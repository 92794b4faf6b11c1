import type { JobRecord, NodeRecord, RunObserver, RunOutcome } from '../lake/lake-types.js'
import type { PhysicalPlan } from '../pipeline/physical-plan.js'
import { isErrorCode, TarnError } from '../util/errors.js'

interface WireEvent {
  readonly event: string
  readonly plan?: PhysicalPlan
  readonly job?: JobRecord
  readonly node?: NodeRecord
  readonly line?: string
  readonly error?: { code?: string; message?: string; context?: Record<string, unknown> }
}

async function* lines(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true })
    let nl = buffer.indexOf('\n')
    while (nl >= 0) {
      const line = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      if (line.trim().length > 0) yield line
      nl = buffer.indexOf('\n')
    }
  }
  buffer += decoder.decode()
  if (buffer.trim().length > 0) yield buffer
}

/**
 * Reads a run's JSON-lines progress stream (the server's `runEventStream`), hands each event to `observer` as the
 * embedded run would, and returns the outcome; a final `error` line is thrown as the `TarnError` it describes, and
 * a stream that ends without a final line as `SERVER_UNREACHABLE`.
 */
export async function readRunEvents(
  body: AsyncIterable<Uint8Array>,
  observer: RunObserver | undefined,
): Promise<RunOutcome> {
  try {
    for await (const line of lines(body)) {
      const e = JSON.parse(line) as WireEvent
      switch (e.event) {
        case 'planned':
          if (e.plan && e.job) observer?.planned?.(e.plan, e.job)
          break
        case 'node':
          if (e.node) await observer?.node?.(e.node)
          break
        case 'log':
          observer?.log?.(e.line ?? '')
          break
        case 'progress':
          observer?.progress?.(e.line ?? '')
          break
        case 'finished':
          if (e.job) observer?.finished?.(e.job)
          break
        case 'outcome':
          if (e.job && e.plan) return { job: e.job, plan: e.plan }
          break
        case 'error': {
          const code = e.error?.code ?? 'INTERNAL'
          throw new TarnError(
            isErrorCode(code) ? code : 'INTERNAL',
            e.error?.message ?? code,
            e.error?.context ?? {},
          )
        }
        default:
          break
      }
    }
  } catch (e) {
    if (e instanceof TarnError) throw e
    throw new TarnError('SERVER_UNREACHABLE', `the run's progress stream broke: ${(e as Error).message}`, {})
  }
  throw new TarnError(
    'SERVER_UNREACHABLE',
    'the server closed the run before it finished; `tarn job ls` shows how it ended',
    {},
  )
}
