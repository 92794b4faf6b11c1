import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { ApiError, api, call, readEvents, readLines, seg } from '../api'
import { ErrorBox } from '../components/ErrorBox'
import { GridTable } from '../components/GridTable'
import { JobGraph } from '../components/JobGraph'
import { Scroll } from '../components/Scroll'
import { duration, short, time } from '../format'
import { href, navigate } from '../route'
import type { JobRecord, NodeRecord } from '../types'

/**
 * How long a job the server does not know yet is asked for again: a run reports its plan (and the page moves to its
 * job) a moment before its record is stored.
 */
const NEW_JOB_WAIT_MS = 10_000
const NEW_JOB_RETRY_MS = 200

/** Follows a job: its record as server-sent events while it runs, then the final record. */
function useLiveJob(id: string): { job: JobRecord | null; error: unknown } {
  const [job, setJob] = useState<JobRecord | null>(null)
  const [error, setError] = useState<unknown>(null)
  useEffect(() => {
    setJob(null)
    setError(null)
    const abort = new AbortController()
    const until = Date.now() + NEW_JOB_WAIT_MS
    const follow = (): void => {
      readEvents(
        `/jobs/${seg(id)}/events`,
        (data) => setJob((data as { job: JobRecord }).job),
        abort.signal,
      ).catch((e) => {
        if (abort.signal.aborted) return
        if (e instanceof ApiError && e.code === 'JOB_NOT_FOUND' && Date.now() < until) {
          setTimeout(follow, NEW_JOB_RETRY_MS)
        } else setError(e)
      })
    }
    follow()
    return () => abort.abort()
  }, [id])
  return { job, error }
}

function nodeLog(log: string, node: NodeRecord): string[] {
  const name = node.kind === 'scan' ? node.name : node.name
  return log.split('\n').filter((l) => l.includes(`[${name}]`) || l.includes(`[${name} `))
}

function JobDetail({ id, onStatus }: { id: string; onStatus: () => void }) {
  const { job, error } = useLiveJob(id)
  // the job list beside the detail learns of a new status at once, not at its next poll
  const status = job?.status
  useEffect(() => {
    if (status !== undefined) onStatus()
  }, [status, onStatus])
  const [log, setLog] = useState('')
  const [node, setNode] = useState<string | null>(null)
  const [now, setNow] = useState(Date.now())
  const [rerun, setRerun] = useState<string[]>([])
  const [rerunError, setRerunError] = useState<unknown>(null)
  const stamp = job ? `${job.status}:${(job.nodes ?? []).map((n) => n.status).join(',')}` : ''
  useEffect(() => {
    if (!job) return
    call('GET', `/jobs/${seg(id)}/log`)
      .then((r) => r.text())
      .then(setLog)
      .catch(() => setLog(''))
  }, [id, stamp])
  useEffect(() => {
    if (job?.status !== 'running') return
    const t = setInterval(() => setNow(Date.now()), 500)
    return () => clearInterval(t)
  }, [job?.status])
  const doRerun = async (): Promise<void> => {
    setRerun([])
    setRerunError(null)
    try {
      const res = await call('POST', `/jobs/${seg(id)}/rerun`, {})
      await readLines(res, (doc) => {
        setRerun((lines) => [...lines.slice(-20), JSON.stringify(doc)])
        // the new job's record comes with its plan: follow it live from there, as any running job
        const event = doc as { event?: string; job?: { id?: string } }
        if (event.event === 'planned' && event.job?.id !== undefined) navigate('runs', { job: event.job.id })
      })
    } catch (e) {
      setRerunError(e)
    }
  }
  const selected = job?.nodes?.find((n) => n.id === node)
  return (
    <section class="card job-detail" aria-labelledby="job-title" data-job={id} data-status={job?.status}>
      <h2 id="job-title">
        Job <span class="mono">{id}</span> {job && <span class={`badge ${job.status}`}>{job.status}</span>}
      </h2>
      <ErrorBox error={error} />
      {job && (
        <>
          <dl class="facts">
            <dt>Kind</dt>
            <dd>
              {job.kind}
              {job.project !== undefined && ` of ${job.project}`}
            </dd>
            <dt>Target</dt>
            <dd>
              <a href={href('history', { ref: job.target })}>{job.target}</a>
            </dd>
            <dt>Started</dt>
            <dd>{time(job.startedAt)}</dd>
            <dt>Duration</dt>
            <dd>{duration(job.startedAt, job.finishedAt, now)}</dd>
            {job.mergeCommit && (
              <>
                <dt>Landed as</dt>
                <dd>
                  <a class="mono" href={href('history', { ref: job.target, commit: job.mergeCommit })}>
                    {short(job.mergeCommit)}
                  </a>
                </dd>
              </>
            )}
          </dl>
          {job.error && <p class="error">{`${job.error.code} ${job.error.message}`}</p>}
          {job.nodes && job.nodes.length > 0 && (
            <>
              <JobGraph nodes={job.nodes} now={now} />
              <GridTable label="Nodes" columns={['Node', 'Status', 'Duration', 'Rows', 'Files read', 'Log']}>
                {job.nodes.map((n) => (
                  <tr key={n.id}>
                    <th scope="row">{n.id}</th>
                    <td>
                      <span class={`badge ${n.status}`}>{n.status}</span>
                    </td>
                    <td class="num">{duration(n.startedAt, n.finishedAt, now)}</td>
                    <td class="num">{n.rows ?? ''}</td>
                    <td class="num">{n.scan ? `${n.scan.filesKept} of ${n.scan.filesTotal}` : ''}</td>
                    <td>
                      <button
                        type="button"
                        class="secondary"
                        onClick={() => setNode(n.id === node ? null : n.id)}
                      >
                        {n.id === node ? 'Hide' : 'Show'} log<span class="sr-only"> of {n.id}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </GridTable>
            </>
          )}
          {selected && (
            <>
              <h3>Log of {selected.id}</h3>
              {selected.error && <p class="error">{selected.error}</p>}
              <Scroll label={`Log of ${selected.id}`} class="log-box">
                <pre class="log-text">{nodeLog(log, selected).join('\n') || '(no lines)'}</pre>
              </Scroll>
            </>
          )}
          <details>
            <summary>Whole log</summary>
            <Scroll label="Whole log" class="log-box">
              <pre class="log-text">{log}</pre>
            </Scroll>
          </details>
          {job.kind === 'run' && job.status !== 'running' && (
            <div class="row-form">
              <button type="button" onClick={doRerun}>
                Rerun
              </button>
            </div>
          )}
          {rerun.length > 0 && (
            <Scroll label="Rerun progress" class="log-box">
              <pre class="log-text">{rerun.join('\n')}</pre>
            </Scroll>
          )}
          <ErrorBox error={rerunError} />
        </>
      )}
    </section>
  )
}

/** Jobs (runs, imports, queries) with status and timings; a run's DAG, live; logs per node; rerun. */
export function Runs({ params }: { params: URLSearchParams }) {
  const selected = params.get('job')
  const [jobs, setJobs] = useState<JobRecord[] | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [now, setNow] = useState(Date.now())
  const stopped = useRef(false)
  const load = useCallback((): void => {
    api<{ jobs: JobRecord[] }>('GET', '/jobs')
      .then((r) => {
        if (stopped.current) return
        setJobs(r.jobs)
        setNow(Date.now())
        setError(null)
      })
      .catch(setError)
  }, [])
  useEffect(() => {
    stopped.current = false
    load()
    const t = setInterval(load, 1000)
    return () => {
      stopped.current = true
      clearInterval(t)
    }
  }, [load])
  return (
    <>
      <h1>Runs and jobs</h1>
      <ErrorBox error={error} />
      {selected && <JobDetail key={selected} id={selected} onStatus={load} />}
      {jobs && (
        <GridTable label="Jobs" columns={['Job', 'Kind', 'Status', 'Target', 'Started', 'Duration']}>
          {jobs.map((j) => (
            <tr key={j.id} data-job={j.id} class={j.id === selected ? 'selected' : ''}>
              <th scope="row">
                <a class="mono" href={href('runs', { job: j.id })}>
                  {j.id}
                </a>
              </th>
              <td>{j.kind === 'run' && j.project !== undefined ? `run ${j.project}` : j.kind}</td>
              <td>
                <span class={`badge ${j.status}`}>{j.status}</span>
              </td>
              <td>{j.target}</td>
              <td>{time(j.startedAt)}</td>
              <td class="num">{duration(j.startedAt, j.finishedAt, now)}</td>
            </tr>
          ))}
        </GridTable>
      )}
    </>
  )
}
