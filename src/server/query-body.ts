import { PassThrough, Readable } from 'node:stream'
import { RecordBatch, RecordBatchStreamWriter, Schema } from 'apache-arrow'
import { batchCells, rowCsv, rowJson } from '../engine/index.js'
import type { QueryBatches } from '../lake/lake-api.js'
import { TarnError } from '../util/errors.js'

/**
 * Media type of Arrow IPC streams, the default query result format.
 */
export const ARROW_STREAM = 'application/vnd.apache.arrow.stream'

/**
 * Key of the Arrow schema metadata entry that carries the query plan (JSON) in a result stream.
 */
export const PLAN_METADATA_KEY = 'tarn.plan'

/**
 * Result formats the server streams.
 */
export type ResultFormat = 'arrow' | 'json' | 'csv'

/**
 * The result format of a query request: `?format=` (or the body's `format`) wins, else the Accept header
 * (`text/csv`, `application/json`), else Arrow IPC.
 */
export function resultFormat(explicit: string | undefined, accept: string | undefined): ResultFormat {
  if (explicit !== undefined) {
    if (explicit === 'arrow' || explicit === 'json' || explicit === 'csv') return explicit
    throw new TarnError('USAGE', `format must be arrow, json or csv, got ${explicit}`, { format: explicit })
  }
  const a = (accept ?? '').toLowerCase()
  if (a.includes(ARROW_STREAM)) return 'arrow'
  if (a.includes('text/csv')) return 'csv'
  if (a.includes('application/json')) return 'json'
  return 'arrow'
}

/**
 * The content type of a result format.
 */
export function contentType(format: ResultFormat): string {
  return format === 'arrow'
    ? ARROW_STREAM
    : format === 'json'
      ? 'application/json; charset=utf-8'
      : 'text/csv; charset=utf-8'
}

/**
 * How a result body ended: rows and batches sent, and whether the reader went away before the end.
 */
export interface BodyEnd {
  readonly rows: number
  readonly batches: number
  readonly cancelled: boolean
}

function arrowBody(source: QueryBatches, onEnd: (e: BodyEnd) => void): Readable {
  const schema = new Schema(source.schema.fields, new Map([[PLAN_METADATA_KEY, JSON.stringify(source.plan)]]))
  // up to 4 MiB of encoded batches run ahead of the socket: DuckDB and the encoder keep working while the client reads
  const out = new PassThrough({ highWaterMark: 4 * 1024 * 1024 })
  const writer = new RecordBatchStreamWriter()
  writer.reset(out, schema)
  let gone = false
  out.on('close', () => {
    gone = true
  })
  const drained = (): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        out.off('drain', done)
        out.off('close', done)
        resolve()
      }
      out.on('drain', done)
      out.on('close', done)
    })
  void (async () => {
    let rows = 0
    let batches = 0
    let complete = false
    try {
      for await (const batch of source) {
        if (gone) break
        writer.write(new RecordBatch(schema, batch.data))
        rows += batch.numRows
        batches++
        if (out.writableNeedDrain && !gone) await drained()
        if (gone) break
      }
      if (!gone) {
        writer.finish()
        complete = true
      }
    } catch (e) {
      out.destroy(e instanceof Error ? e : new Error(String(e)))
    } finally {
      await source.close()
      onEnd({ rows, batches, cancelled: !complete })
    }
  })()
  return out
}

function textBody(source: QueryBatches, format: 'json' | 'csv', onEnd: (e: BodyEnd) => void): Readable {
  const names = source.schema.fields.map((f) => f.name)
  async function* lines(): AsyncGenerator<string> {
    let rows = 0
    let batches = 0
    let complete = false
    try {
      yield format === 'json' ? '[' : `${rowCsv(names)}\n`
      for await (const batch of source) {
        const parts: string[] = []
        for (const row of batchCells(batch)) {
          parts.push(
            format === 'json' ? `${rows === 0 ? '' : ','}\n${rowJson(names, row)}` : `${rowCsv(row)}\n`,
          )
          rows++
        }
        batches++
        if (parts.length > 0) yield parts.join('')
      }
      if (format === 'json') yield `${rows > 0 ? '\n' : ''}]\n`
      complete = true
    } finally {
      await source.close()
      onEnd({ rows, batches, cancelled: !complete })
    }
  }
  return Readable.from(lines(), { objectMode: false })
}

/**
 * The HTTP body of a query result, pulled from the stream only as fast as the client reads: Arrow IPC (the plan in
 * the schema metadata under {@link PLAN_METADATA_KEY}), a JSON array of row objects, or CSV with a header line.
 * When the client goes away the body stops pulling and closes the stream, which stops the query; when `signal`
 * aborts, the body ends at once.
 */
export function queryBody(
  source: QueryBatches,
  format: ResultFormat,
  onEnd: (e: BodyEnd) => void,
  signal?: AbortSignal,
): Readable {
  const body = format === 'arrow' ? arrowBody(source, onEnd) : textBody(source, format, onEnd)
  // a cancelled query ends its body even while it waits for a reader that stopped reading
  signal?.addEventListener('abort', () => body.destroy(), { once: true })
  return body
}
