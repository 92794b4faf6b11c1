import type { DuckDBDataChunk, DuckDBResult, DuckDBType } from '@duckdb/node-api'
import type { RecordBatch, Schema } from 'apache-arrow'
import { arrowSchemaOf, recordBatchOf } from '../duckdb/arrow-convert.js'
import type { TarnError } from '../util/errors.js'
import type { QueryPlan } from './query-plan.js'

/**
 * A running query whose rows arrive as Arrow record batches of up to `batchRows` rows, converted as DuckDB produces
 * them. The schema is known before the first batch. Iterate to the end, or call `close()` to stop early; either way
 * the query's resources (DuckDB connection, pinned cache files) are released.
 *
 * @example
 * ```ts
 * const stream = await engine.stream('SELECT * FROM big')
 * for await (const batch of stream) total += batch.numRows
 * ```
 */
export class QueryStream implements AsyncIterable<RecordBatch> {
  readonly plan: QueryPlan
  readonly schema: Schema
  /** Column names as DuckDB gives them (duplicates made unique). */
  readonly columnNames: readonly string[]
  /** Column types as DuckDB gives them (for printing values exactly). */
  readonly columnTypes: readonly DuckDBType[]
  readonly #result: DuckDBResult
  readonly #types: readonly DuckDBType[]
  readonly #batchRows: number
  readonly #release: () => Promise<void>
  readonly #errorOf: (e: unknown) => TarnError
  readonly #signal: AbortSignal | undefined
  #done = false

  constructor(
    plan: QueryPlan,
    result: DuckDBResult,
    batchRows: number,
    release: () => Promise<void>,
    errorOf: (e: unknown) => TarnError,
    signal?: AbortSignal,
  ) {
    this.#signal = signal
    this.plan = plan
    this.#result = result
    this.#types = result.columnTypes()
    this.columnTypes = this.#types
    this.columnNames = result.deduplicatedColumnNames()
    this.schema = arrowSchemaOf(this.columnNames, this.#types)
    this.#batchRows = Math.max(1, batchRows)
    this.#release = release
    this.#errorOf = errorOf
  }

  /** Stops the query (if still running) and releases its resources. Idempotent. */
  async close(): Promise<void> {
    if (this.#done) return
    this.#done = true
    await this.#release()
  }

  /**
   * The rows as DuckDB data chunks, without converting them to Arrow (the CLI prints from these). Iterate either this
   * or the stream itself, once; stopping early (break) closes the query.
   *
   * @example
   * ```ts
   * for await (const chunk of stream.chunks()) rows += chunk.rowCount
   * ```
   */
  async *chunks(): AsyncGenerator<DuckDBDataChunk> {
    try {
      while (!this.#done) {
        let chunk: DuckDBDataChunk | null
        try {
          if (this.#signal?.aborted) throw new Error('cancelled')
          chunk = await this.#result.fetchChunk()
        } catch (e) {
          throw this.#errorOf(e)
        }
        // an interrupted stream ends early: that is a cancellation, not the end of the result
        if (this.#signal?.aborted) throw this.#errorOf(new Error('cancelled'))
        if (!chunk || chunk.rowCount === 0) break
        yield chunk
      }
    } finally {
      await this.close()
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<RecordBatch> {
    let pending: DuckDBDataChunk[] = []
    let rows = 0
    for await (const chunk of this.chunks()) {
      pending.push(chunk)
      rows += chunk.rowCount
      if (rows >= this.#batchRows) {
        yield recordBatchOf(this.schema, this.#types, pending)
        pending = []
        rows = 0
      }
    }
    if (pending.length > 0) yield recordBatchOf(this.schema, this.#types, pending)
  }
}
