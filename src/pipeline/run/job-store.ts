import type { ObjectStore } from '../../storage/object-store.js'
import { putAll } from '../../storage/put-all.js'
import { canonicalJson, sha256Hex } from '../../util/canonical.js'
import { TarnError } from '../../util/errors.js'
import type { AnyJobRecord, JobRecord, JobStatus } from './job-record.js'

/**
 * The reserved warehouse prefix of jobs and code snapshots (garbage collection never touches it).
 */
export const TARN_PREFIX = '_tarn'

const enc = new TextEncoder()
const dec = new TextDecoder()

/**
 * The files of a project, path (relative, `/`-separated) → text.
 */
export interface CodeSnapshot {
  readonly files: Readonly<Record<string, string>>
}

/**
 * The content hash a code snapshot is stored under (what {@link putCodeSnapshot} returns), without writing it.
 */
export function codeSnapshotHash(snapshot: CodeSnapshot): string {
  return sha256Hex(canonicalJson({ files: { ...snapshot.files } }))
}

/**
 * Stores a code snapshot content-addressed (`_tarn/code/<sha256>.json`) and returns its hash; storing the same
 * files again writes nothing.
 */
export async function putCodeSnapshot(store: ObjectStore, snapshot: CodeSnapshot): Promise<string> {
  const text = canonicalJson({ files: { ...snapshot.files } })
  const hash = sha256Hex(text)
  await store.putIfAbsent(`${TARN_PREFIX}/code/${hash}.json`, enc.encode(text))
  return hash
}

/**
 * Reads a code snapshot by hash.
 */
export async function getCodeSnapshot(store: ObjectStore, hash: string): Promise<CodeSnapshot> {
  const key = `${TARN_PREFIX}/code/${hash}.json`
  if (!(await store.head(key)))
    throw new TarnError('OBJECT_NOT_FOUND', `code snapshot ${hash} not found`, { hash })
  return JSON.parse(dec.decode(await store.get(key))) as CodeSnapshot
}

/**
 * Writes (or overwrites) a job record at `_tarn/jobs/<id>.json`.
 */
export async function putJob(store: ObjectStore, job: AnyJobRecord): Promise<void> {
  await store.put(`${TARN_PREFIX}/jobs/${job.id}.json`, enc.encode(`${JSON.stringify(job, null, 2)}\n`))
}

/**
 * Reads a job record; `JOB_NOT_FOUND` when there is none (or the id is not a job id).
 *
 * @example
 * ```ts
 * const job = await getJob(lake.store, 'job-1a2b3c4d5e6f')
 * ```
 */
export async function getJob(store: ObjectStore, id: string): Promise<JobRecord> {
  const job = await getAnyJob(store, id)
  if (job.kind !== 'run') {
    throw new TarnError(
      'JOB_NOT_FOUND',
      `job ${id} is ${job.kind === 'import' ? 'an import' : 'a query'}, not a pipeline run`,
      {
        job: id,
        kind: job.kind,
      },
    )
  }
  return job
}

/**
 * Reads any job record (run, import or query); `JOB_NOT_FOUND` when there is none.
 */
export async function getAnyJob(store: ObjectStore, id: string): Promise<AnyJobRecord> {
  const key = `${TARN_PREFIX}/jobs/${id}.json`
  if (!/^[\w.-]+$/.test(id) || !(await store.head(key)))
    throw new TarnError('JOB_NOT_FOUND', `job ${id} not found; \`tarn job ls\` lists the jobs`, { job: id })
  const job = JSON.parse(dec.decode(await store.get(key))) as AnyJobRecord
  return job.kind === undefined ? { ...(job as JobRecord), kind: 'run' } : job
}

/**
 * Every job record, newest first.
 *
 * @example
 * ```ts
 * for (const j of await listJobs(lake.store)) console.log(j.id, j.status)
 * ```
 */
export async function listJobs(store: ObjectStore): Promise<JobRecord[]> {
  const out: JobRecord[] = []
  for await (const o of store.list(`${TARN_PREFIX}/jobs/job-`)) {
    if (!o.key.endsWith('.json')) continue
    const job = JSON.parse(dec.decode(await store.get(o.key))) as JobRecord
    if (job.kind === 'run' || job.kind === undefined) out.push(job)
  }
  return out.sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : -1))
}

/**
 * Every job record (runs, imports and queries), newest first, optionally only those with `status`, at most `limit`.
 */
export async function listAllJobs(
  store: ObjectStore,
  options: { limit?: number; status?: JobStatus } = {},
): Promise<AnyJobRecord[]> {
  const out: AnyJobRecord[] = []
  for await (const o of store.list(`${TARN_PREFIX}/jobs/`)) {
    if (!o.key.endsWith('.json')) continue
    const job = JSON.parse(dec.decode(await store.get(o.key))) as AnyJobRecord
    const withKind: AnyJobRecord = job.kind === undefined ? { ...(job as JobRecord), kind: 'run' } : job
    if (options.status === undefined || withKind.status === options.status) out.push(withKind)
  }
  out.sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : -1))
  return options.limit === undefined ? out : out.slice(0, options.limit)
}

/**
 * Writes a job's log (`_tarn/jobs/<id>.log`).
 */
export async function putJobLog(store: ObjectStore, id: string, text: string): Promise<void> {
  await store.put(`${TARN_PREFIX}/jobs/${id}.log`, enc.encode(text))
}

/**
 * Writes a job's final record and its log together (`_tarn/jobs/<id>.json` and `.log`): on a local warehouse both
 * files are made durable with one directory fsync.
 */
export async function putJobAndLog(store: ObjectStore, job: AnyJobRecord, log: string): Promise<void> {
  await putAll(store, [
    { key: `${TARN_PREFIX}/jobs/${job.id}.json`, data: enc.encode(`${JSON.stringify(job, null, 2)}\n`) },
    { key: `${TARN_PREFIX}/jobs/${job.id}.log`, data: enc.encode(log) },
  ])
}

/**
 * Reads a job's log ('' when it has none yet).
 *
 * @example
 * ```ts
 * process.stdout.write(await getJobLog(lake.store, job.id))
 * ```
 */
export async function getJobLog(store: ObjectStore, id: string): Promise<string> {
  const key = `${TARN_PREFIX}/jobs/${id}.log`
  if (!(await store.head(key))) return ''
  return dec.decode(await store.get(key))
}
