import type { DuckDBDataChunk, DuckDBResult, DuckDBType } from '@duckdb/node-api'
import type { RecordBatch, Schema } from 'apache-arrow'
import { corruptParquet } from '../util/corrupt-file.js'
import { arrowSchemaOf, recordBatchOf } from './arrow-convert.js'
import type { QueryPlan } from './query-plan.js'
import { sqlError } from './sql-analysis.js'

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
  readonly #result: DuckDBResult
  readonly #types: readonly DuckDBType[]
  readonly #batchRows: number
  readonly #release: () => Promise<void>
  readonly #sql: string
  #done = false

  constructor(
    plan: QueryPlan,
    result: DuckDBResult,
    batchRows: number,
    release: () => Promise<void>,
    sql: string,
  ) {
    this.plan = plan
    this.#result = result
    this.#types = result.columnTypes()
    this.schema = arrowSchemaOf(result.deduplicatedColumnNames(), this.#types)
    this.#batchRows = Math.max(1, batchRows)
    this.#release = release
    this.#sql = sql
  }

  /** Stops the query (if still running) and releases its resources. Idempotent. */
  async close(): Promise<void> {
    if (this.#done) return
    this.#done = true
    await this.#release()
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<RecordBatch> {
    try {
      let pending: DuckDBDataChunk[] = []
      let rows = 0
      while (!this.#done) {
        let chunk: DuckDBDataChunk | null
        try {
          chunk = await this.#result.fetchChunk()
        } catch (e) {
          throw corruptParquet(e) ?? sqlError(e instanceof Error ? e.message : String(e), this.#sql)
        }
        if (!chunk || chunk.rowCount === 0) break
        pending.push(chunk)
        rows += chunk.rowCount
        if (rows >= this.#batchRows) {
          yield recordBatchOf(this.schema, this.#types, pending)
          pending = []
          rows = 0
        }
      }
      if (pending.length > 0) yield recordBatchOf(this.schema, this.#types, pending)
    } finally {
      await this.close()
    }
  }
}
