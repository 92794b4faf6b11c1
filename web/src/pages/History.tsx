import { Fragment } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { api } from '../api'
import { CommitGraph } from '../components/CommitGraph'
import { ErrorBox } from '../components/ErrorBox'
import { RefField } from '../components/RefField'
import { Scroll } from '../components/Scroll'
import { short, time } from '../format'
import { href, navigate } from '../route'
import type { Commit, RefDiff, RevertResult } from '../types'
import { ChangeList } from './ChangeList'

function CommitDetail({
  commit,
  branch,
  onReverted,
}: {
  commit: Commit
  branch: string
  onReverted: () => void
}) {
  const [diff, setDiff] = useState<RefDiff | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [on, setOn] = useState(branch)
  const [asking, setAsking] = useState(false)
  const [reverted, setReverted] = useState<RevertResult | null>(null)
  const parent = commit.parents[0]
  useEffect(() => {
    setDiff(null)
    setError(null)
    setReverted(null)
    setAsking(false)
    if (parent === undefined) return
    api<RefDiff>('GET', '/diff', undefined, { ref: `@${commit.hash}`, against: `@${parent}`, two_way: true })
      .then(setDiff)
      .catch(setError)
  }, [commit.hash, parent])
  const jobId = commit.properties['tarn.job_id']
  const revert = async (): Promise<void> => {
    setError(null)
    try {
      setReverted(await api<RevertResult>('POST', '/revert', { commit: commit.hash, on }))
      setAsking(false)
      onReverted()
    } catch (e) {
      setError(e)
    }
  }
  return (
    <section class="card commit-detail" aria-labelledby="commit-title" data-commit={commit.hash}>
      <h2 id="commit-title">
        Commit <span class="mono">{short(commit.hash)}</span>
      </h2>
      <p class="message">{commit.message}</p>
      <dl class="facts">
        <dt>Author</dt>
        <dd>{commit.author}</dd>
        <dt>Time</dt>
        <dd>{time(commit.timestamp)}</dd>
        <dt>Parents</dt>
        <dd>
          {commit.parents.map((p) => (
            <a key={p} class="mono parent" href={href('history', { ref: `@${p}`, commit: p })}>
              {short(p)}{' '}
            </a>
          ))}
        </dd>
        {jobId !== undefined && (
          <>
            <dt>Job</dt>
            <dd>
              <a href={href('runs', { job: jobId })}>{jobId}</a>
            </dd>
          </>
        )}
        {Object.entries(commit.properties)
          .filter(([k]) => k !== 'tarn.job_id')
          .map(([k, v]) => (
            <Fragment key={k}>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </Fragment>
          ))}
      </dl>
      <h3>Changes against the first parent</h3>
      {parent === undefined ? (
        <p class="muted">The root commit.</p>
      ) : (
        diff && <ChangeList changes={diff.tableChanges} />
      )}
      <div class="row-form">
        <span class="field">
          <label for="revert-on">Revert on branch</label>
          <input id="revert-on" value={on} onInput={(e) => setOn(e.currentTarget.value)} />
        </span>
        {asking ? (
          <span class="confirm">
            A revert adds a new commit on {on} that undoes this one
            {commit.parents.length > 1 ? ' (a merge: every table it brought in is restored)' : ''}.
            <button type="button" class="danger" onClick={revert}>
              Yes, revert
            </button>
            <button type="button" class="secondary" onClick={() => setAsking(false)}>
              Cancel
            </button>
          </span>
        ) : (
          <button type="button" class="secondary" onClick={() => setAsking(true)}>
            Revert…
          </button>
        )}
      </div>
      {reverted && (
        <p role="status">
          Reverted with commit <span class="mono">{short(reverted.commit.hash)}</span> (
          {reverted.tables.join(', ')})
          {reverted.warning !== undefined && <strong class="warn"> {reverted.warning}</strong>}
        </p>
      )}
      <ErrorBox error={error} />
    </section>
  )
}

/** History of a ref: the commit graph with merge edges, and a commit's detail with its diff, job and revert. */
export function History({ params }: { params: URLSearchParams }) {
  const ref = params.get('ref') ?? 'main'
  const selected = params.get('commit')
  const [commits, setCommits] = useState<Commit[] | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [tick, setTick] = useState(0)
  useEffect(() => {
    setError(null)
    api<{ commits: Commit[] }>('GET', '/log', undefined, { ref, n: 200 })
      .then((r) => setCommits(r.commits))
      .catch((e) => {
        setCommits(null)
        setError(e)
      })
  }, [ref, tick])
  const commit = commits?.find((c) => c.hash === selected)
  const branch = ref.replace(/^@.*$/, '').replace(/[~^*@].*$/, '') || 'main'
  return (
    <>
      <h1>History</h1>
      <div class="row-form">
        <RefField id="history-ref" value={ref} onCommit={(r) => navigate('history', { ref: r })} />
      </div>
      <ErrorBox error={error} />
      <div class="split">
        {commits && (
          <Scroll label="Commit log" class="log">
            <div class="log-inner">
              <CommitGraph commits={commits} />
              <ol class="commits" aria-label={`Commits of ${ref}`}>
                {commits.map((c) => (
                  <li key={c.hash} class={c.hash === selected ? 'selected' : ''}>
                    <a
                      href={href('history', { ref, commit: c.hash })}
                      aria-current={c.hash === selected ? 'true' : undefined}
                      data-hash={c.hash}
                    >
                      <span class="mono">{short(c.hash)}</span> <span class="clip">{c.message}</span>
                      {c.parents.length > 1 && <span class="badge">merge</span>}
                    </a>
                  </li>
                ))}
              </ol>
            </div>
          </Scroll>
        )}
        {commit && <CommitDetail commit={commit} branch={branch} onReverted={() => setTick((t) => t + 1)} />}
      </div>
    </>
  )
}
