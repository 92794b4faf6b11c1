import type { OperationJobRecord } from '../pipeline/run/job-record.js'
import { putJob } from '../pipeline/run/job-store.js'
import type { ObjectStore } from '../storage/object-store.js'
import type { Clock } from '../util/clock.js'
import { isTarnError } from '../util/errors.js'
import { currentProcess } from '../util/process-identity.js'
import type { Random } from '../util/random.js'

/**
 * What an import or query job starts with.
 */
export interface OperationStart {
  readonly kind: 'import' | 'query'
  readonly target: string
  readonly table?: string
  readonly sql?: string
  readonly files?: readonly string[]
}

/**
 * What an import or query job learned by finishing.
 */
export interface OperationEnd {
  readonly dataCommit?: string | null
  readonly rows?: number | null
  readonly files?: readonly string[]
}

/**
 * Runs an import or a query as a job: a `running` record is stored under `_tarn/jobs/` before it starts, and replaced
 * by a `succeeded` (with the commit and rows) or `failed` (with the error) record when it ends. Recording is best
 * effort: a store that refuses the record never fails the operation itself. Errors of the operation pass through.
 */
export async function trackOperation<T>(
  store: ObjectStore,
  deps: { readonly clock: Clock; readonly random: Random; readonly author: string },
  start: OperationStart,
  run: () => Promise<T>,
  end: (result: T) => OperationEnd,
): Promise<T> {
  const id = `${start.kind}-${Buffer.from(deps.random.bytes(6)).toString('hex')}`
  const record: OperationJobRecord = {
    id,
    kind: start.kind,
    status: 'running',
    target: start.target,
    dataCommit: null,
    table: start.table ?? null,
    sql: start.sql ?? null,
    files: start.files ?? [],
    rows: null,
    author: deps.author,
    runner: currentProcess(),
    startedAt: deps.clock.now(),
    finishedAt: null,
    error: null,
  }
  const save = (r: OperationJobRecord): Promise<void> => putJob(store, r).catch(() => undefined)
  await save(record)
  let result: T
  try {
    result = await run()
  } catch (e) {
    await save({
      ...record,
      status: 'failed',
      finishedAt: deps.clock.now(),
      error: isTarnError(e)
        ? e.toJSON()
        : { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e), context: {} },
    })
    throw e
  }
  const done = end(result)
  await save({
    ...record,
    status: 'succeeded',
    finishedAt: deps.clock.now(),
    dataCommit: done.dataCommit ?? null,
    rows: done.rows ?? null,
    files: done.files ?? record.files,
  })
  return result
}
