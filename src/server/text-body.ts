import { PassThrough, type Readable } from 'node:stream'
import type { TextSink } from '../lake/query-output.js'
import { oneLine } from '../util/errors.js'

/**
 * A text response written by `produce` as it goes. The body is handed back once the first text is out (or, when
 * `buffered`, once `produce` has finished), so a failure before that rejects and the caller answers with the error
 * document and its status; a failure after it ends the body with an `error:` line, the way the CLI reports one.
 */
export async function textBody<T>(
  produce: (sink: TextSink) => Promise<T>,
  buffered: boolean,
): Promise<{ body: Readable; result: Promise<T> }> {
  const out = new PassThrough()
  const held: string[] = []
  let started = false
  let markStarted: () => void = () => undefined
  const first = new Promise<void>((resolve) => {
    markStarted = resolve
  })
  const sink: TextSink = {
    out: (text) => {
      if (buffered) {
        held.push(text)
        return
      }
      if (!out.destroyed) out.write(text)
      if (!started) {
        started = true
        markStarted()
      }
    },
  }
  const result = produce(sink)
  const done = result.then(
    () => {
      for (const t of held) out.write(t)
      out.end()
    },
    (e: unknown) => {
      if (!started) throw e
      out.end(`error: ${oneLine(e instanceof Error ? e.message : String(e))}\n`)
    },
  )
  await Promise.race([first, done])
  return { body: out, result }
}
