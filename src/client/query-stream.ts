import { RecordBatch as Batch, type RecordBatch, RecordBatchReader, Schema } from 'apache-arrow'
import type { QueryPlan } from '../engine/index.js'
import type { QueryBatches } from '../lake/lake-api.js'
import { TarnError } from '../util/errors.js'
import { ARROW_STREAM, type HttpTransport } from './http-transport.js'

const PLAN_METADATA_KEY = 'tarn.plan'

/** The last 8 bytes of a complete Arrow IPC stream: continuation marker 0xFFFFFFFF and a zero length. */
const END_OF_STREAM = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]

/**
 * Passes `body` through and remembers its last 8 bytes: a result whose bytes stop without Arrow's end-of-stream
 * marker was cut off (the server stopped, the connection broke) and must not pass for a whole one, even when it was
 * cut between two batches.
 */
function watchEnd(body: ReadableStream<Uint8Array>): {
  body: ReadableStream<Uint8Array>
  complete: () => boolean
} {
  let tail: number[] = []
  const watched = body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        tail = [...tail, ...chunk.subarray(Math.max(0, chunk.length - 8))].slice(-8)
        controller.enqueue(chunk)
      },
    }),
  )
  return { body: watched, complete: () => tail.every((b, i) => b === END_OF_STREAM[i]) && tail.length === 8 }
}

/** Drops the plan metadata so batches look exactly like the embedded engine's. */
function plainSchema(schema: Schema): Schema {
  return new Schema(schema.fields)
}

/**
 * Posts a query to `/query` and reads its Arrow IPC answer as record batches as they come off the wire. The request
 * is in `open` until the stream closes; closing it (or the caller's `signal`) aborts the request, which stops the
 * query on the server.
 */
export async function openQueryStream(
  transport: HttpTransport,
  body: { readonly sql: string; readonly ref: string; readonly batch_rows?: number | undefined },
  signal: AbortSignal | undefined,
  open: Set<AbortController>,
): Promise<QueryBatches> {
  const sql = body.sql
  const abort = new AbortController()
  const cancelled = (): TarnError => new TarnError('QUERY_CANCELLED', 'the query was cancelled', { sql })
  if (signal?.aborted) throw cancelled()
  // the caller's signal aborts the request, which stops the query on the server
  const onAbort = (): void => abort.abort()
  signal?.addEventListener('abort', onAbort, { once: true })
  open.add(abort)
  try {
    const res = await transport.request('POST', '/query', {
      body,
      accept: ARROW_STREAM,
      signal: abort.signal,
    })
    if (res.body === null) throw new TarnError('INTERNAL', 'the server sent no query result', {})
    const wire = watchEnd(res.body)
    const reader = await (await RecordBatchReader.from(wire.body)).open()
    const schema = plainSchema(reader.schema)
    const plan = JSON.parse(reader.schema.metadata.get(PLAN_METADATA_KEY) ?? 'null') as QueryPlan
    let done = false
    const close = async (): Promise<void> => {
      if (done) return
      done = true
      signal?.removeEventListener('abort', onAbort)
      abort.abort()
      open.delete(abort)
      await reader.cancel().catch(() => undefined)
    }
    return {
      plan,
      schema,
      close,
      async *[Symbol.asyncIterator](): AsyncGenerator<RecordBatch> {
        try {
          for await (const b of reader) {
            if (signal?.aborted) break
            yield new Batch(schema, b.data)
          }
          // an aborted request ends the stream early: that is a cancellation, not the end of the result
          if (signal?.aborted) throw cancelled()
          if (!done && !wire.complete()) {
            throw new TarnError(
              'SERVER_UNREACHABLE',
              'the query result stream ended before the end of the result (the server stopped or the connection broke)',
              { sql },
            )
          }
        } catch (e) {
          if (signal?.aborted) throw cancelled()
          if (e instanceof TarnError) throw e
          throw new TarnError(
            'SERVER_UNREACHABLE',
            `the query result stream broke: ${(e as Error).message}`,
            {
              sql,
            },
          )
        } finally {
          await close()
        }
      },
    }
  } catch (e) {
    open.delete(abort)
    signal?.removeEventListener('abort', onAbort)
    if (signal?.aborted) throw cancelled()
    throw e
  }
}
