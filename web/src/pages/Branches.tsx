import { useCallback, useEffect, useState } from 'preact/hooks'
import { api, seg, takeFirstAnswer } from '../api'
import { ErrorBox } from '../components/ErrorBox'
import { GridTable } from '../components/GridTable'
import { forgetRefNames, RefField } from '../components/RefField'
import { age, short } from '../format'
import { href } from '../route'
import type { Commit, MergeResult, RefDiff, RefInfo, RefWithCommit } from '../types'
import { useAction } from '../use-action'
import { ChangeList } from './ChangeList'

interface Listing {
  readonly branches: readonly RefInfo[]
  readonly tags: readonly RefInfo[]
  readonly protectedNames: readonly string[]
}

async function load(): Promise<Listing> {
  const [b, t, p] = await Promise.all([
    api<{ branches: RefInfo[] }>('GET', '/branches'),
    api<{ tags: RefInfo[] }>('GET', '/tags'),
    api<{ branches: string[] }>('GET', '/protected-branches'),
  ])
  return { branches: b.branches, tags: t.tags, protectedNames: p.branches }
}

/**
 * The listing and head commits the server wrote into the page, when it did (a server open without keys): the table
 * shows in the page's first render. `null` when any list is missing; heads it lacks are read as usual.
 */
function firstListing(): { listing: Listing; commits: Map<string, Commit> } | null {
  const b = takeFirstAnswer<{ branches: RefInfo[] }>('/branches')
  const t = takeFirstAnswer<{ tags: RefInfo[] }>('/tags')
  const p = takeFirstAnswer<{ branches: string[] }>('/protected-branches')
  if (!b || !t || !p) return null
  const commits = new Map<string, Commit>()
  for (const r of b.branches) {
    const head = takeFirstAnswer<{ branch: RefWithCommit }>(`/branches/${seg(r.name)}`)?.branch
    if (head) commits.set(head.head, head.commit)
  }
  return { listing: { branches: b.branches, tags: t.tags, protectedNames: p.branches }, commits }
}

/** Each branch's head commit (author, time, message), read after the list shows. */
async function heads(branches: readonly RefInfo[]): Promise<Map<string, Commit>> {
  const found = await Promise.all(
    branches.map(async (r) => {
      const b = (await api<{ branch: RefWithCommit }>('GET', `/branches/${seg(r.name)}`)).branch
      return [b.head, b.commit] as const
    }),
  )
  return new Map(found)
}

function CreateForm({ onDone }: { onDone: () => void }) {
  const [kind, setKind] = useState<'branch' | 'tag'>('branch')
  const [name, setName] = useState('')
  const [from, setFrom] = useState('main')
  const { busy, error, run } = useAction()
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    await run(async () => {
      await api('POST', kind === 'branch' ? '/branches' : '/tags', { name, from })
      setName('')
      onDone()
    })
  }
  return (
    <form class="card row-form" onSubmit={submit} aria-label="Create a branch or tag">
      <span class="field">
        <label for="create-kind">Kind</label>
        <select
          id="create-kind"
          value={kind}
          onChange={(e) => setKind(e.currentTarget.value as 'branch' | 'tag')}
        >
          <option value="branch">branch</option>
          <option value="tag">tag</option>
        </select>
      </span>
      <span class="field">
        <label for="create-name">Name</label>
        <input id="create-name" value={name} required onInput={(e) => setName(e.currentTarget.value)} />
      </span>
      <RefField id="create-from" label="From" value={from} onCommit={setFrom} />
      <button type="submit" disabled={busy}>
        Create
      </button>
      <ErrorBox error={error} />
    </form>
  )
}

function MergePanel({
  source,
  branches,
  onDone,
  onClose,
}: {
  source: string
  branches: readonly string[]
  onDone: () => void
  onClose: () => void
}) {
  const [into, setInto] = useState(branches.find((b) => b !== source && b === 'main') ?? branches[0] ?? '')
  const [preview, setPreview] = useState<{ merge: MergeResult; diff: RefDiff } | null>(null)
  const [result, setResult] = useState<MergeResult | null>(null)
  const { busy, error, run } = useAction()
  const doPreview = (): Promise<void> => {
    setPreview(null)
    setResult(null)
    return run(async () => {
      const [merge, diff] = await Promise.all([
        api<MergeResult>('POST', `/branches/${seg(source)}/merge`, { into, dry_run: true }),
        api<RefDiff>('GET', '/diff', undefined, { ref: source, against: into }),
      ])
      setPreview({ merge, diff })
    })
  }
  const confirm = (): Promise<void> =>
    run(async () => {
      setResult(await api<MergeResult>('POST', `/branches/${seg(source)}/merge`, { into }))
      setPreview(null)
      onDone()
    })
  return (
    <section class="card" aria-labelledby="merge-title">
      <h2 id="merge-title">Merge {source}</h2>
      <div class="row-form">
        <span class="field">
          <label for="merge-into">Into</label>
          <select
            id="merge-into"
            value={into}
            onChange={(e) => {
              setInto(e.currentTarget.value)
              setPreview(null)
            }}
          >
            {branches
              .filter((b) => b !== source)
              .map((b) => (
                <option key={b} value={b}>
                  {b}
                </option>
              ))}
          </select>
        </span>
        <button type="button" onClick={doPreview} disabled={busy || into === ''}>
          Preview merge
        </button>
        <button type="button" class="secondary" onClick={onClose}>
          Close
        </button>
      </div>
      {preview && (
        <div class="merge-preview" data-kind={preview.merge.kind}>
          <p>
            Merging <strong>{source}</strong> into <strong>{into}</strong> would be a{' '}
            <strong>{preview.merge.kind}</strong>
            {preview.merge.changes.tables.length > 0 && (
              <> bringing {preview.merge.changes.tables.join(', ')}</>
            )}
            .
          </p>
          {preview.merge.conflicts.length > 0 && (
            <ul class="conflicts" aria-label="Conflicts">
              {preview.merge.conflicts.map((c) => (
                <li key={c.name}>
                  <strong>{c.name}</strong>: {c.reason}
                </li>
              ))}
            </ul>
          )}
          <ChangeList changes={preview.diff.tableChanges} />
          <button
            type="button"
            onClick={confirm}
            disabled={busy || preview.merge.kind === 'conflict' || preview.merge.kind === 'up-to-date'}
          >
            Confirm merge
          </button>
        </div>
      )}
      {result && (
        <p role="status">
          {result.kind}: {into} {short(result.target.before)} → {short(result.target.after)}
        </p>
      )}
      <ErrorBox error={error} />
    </section>
  )
}

function DeleteButton({ target, sealed, onDone }: { target: RefInfo; sealed: boolean; onDone: () => void }) {
  const [asking, setAsking] = useState(false)
  const [force, setForce] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const del = async (): Promise<void> => {
    setError(null)
    try {
      if (target.kind === 'tag') await api('DELETE', `/tags/${seg(target.name)}`)
      else
        await api('DELETE', `/branches/${seg(target.name)}`, undefined, { force: force ? true : undefined })
      setAsking(false)
      onDone()
    } catch (e) {
      setError(e)
    }
  }
  if (!asking) {
    return (
      <>
        <button type="button" class="secondary" onClick={() => setAsking(true)}>
          Delete<span class="sr-only"> {target.name}</span>
        </button>
        <ErrorBox error={error} />
      </>
    )
  }
  return (
    <span class="confirm">
      Delete {target.kind} {target.name}?
      {sealed && (
        <label>
          <input type="checkbox" checked={force} onChange={(e) => setForce(e.currentTarget.checked)} /> force
          (sealed run branch)
        </label>
      )}
      <button type="button" class="danger" onClick={del}>
        Yes, delete<span class="sr-only"> {target.name}</span>
      </button>
      <button type="button" class="secondary" onClick={() => setAsking(false)}>
        Cancel
      </button>
      <ErrorBox error={error} />
    </span>
  )
}

/** Branches and tags: heads, authors, ages; create, delete, merge with a preview. */
export function Branches() {
  const [first] = useState(firstListing)
  const [listing, setListing] = useState<Listing | null>(first?.listing ?? null)
  const [commits, setCommits] = useState<Map<string, Commit>>(first?.commits ?? new Map())
  const [error, setError] = useState<unknown>(null)
  const [merging, setMerging] = useState<string | null>(null)
  const refresh = useCallback(() => {
    forgetRefNames()
    load()
      .then((l) => {
        setListing(l)
        setError(null)
        return heads(l.branches).then(setCommits)
      })
      .catch(setError)
  }, [])
  useEffect(() => {
    const complete = first?.listing.branches.every((b) => first.commits.has(b.head))
    if (!complete) refresh()
  }, [])
  return (
    <>
      <h1>Branches and tags</h1>
      <CreateForm onDone={refresh} />
      <ErrorBox error={error} />
      {merging && listing && (
        <MergePanel
          source={merging}
          branches={listing.branches.map((b) => b.name)}
          onDone={refresh}
          onClose={() => setMerging(null)}
        />
      )}
      {listing && (
        <>
          <h2>Branches</h2>
          <GridTable label="Branches" columns={['Branch', 'Head', 'Message', 'Author', 'Age', 'Actions']}>
            {listing.branches.map((b) => {
              const isProtected = listing.protectedNames.includes(b.name)
              return (
                <tr key={b.name} data-branch={b.name}>
                  <th scope="row">
                    {b.name} {isProtected && <span class="badge">protected</span>}
                    {b.sealed && <span class="badge warn">sealed</span>}
                  </th>
                  <td>
                    <a class="mono" href={href('history', { ref: b.name, commit: b.head })}>
                      {short(b.head)}
                    </a>
                  </td>
                  <td>
                    <span class="clip cell">{commits.get(b.head)?.message ?? '…'}</span>
                  </td>
                  <td>{commits.get(b.head)?.author ?? '…'}</td>
                  <td>{age(commits.get(b.head)?.timestamp ?? b.createdAt)}</td>
                  <td>
                    <div class="actions">
                      <button type="button" onClick={() => setMerging(b.name)}>
                        Merge<span class="sr-only"> {b.name}</span>
                      </button>
                      <DeleteButton target={b} sealed={b.sealed} onDone={refresh} />
                    </div>
                  </td>
                </tr>
              )
            })}
          </GridTable>
          <h2>Tags</h2>
          {listing.tags.length === 0 ? (
            <p class="muted">No tags.</p>
          ) : (
            <GridTable label="Tags" columns={['Tag', 'Commit', 'Age', 'Actions']}>
              {listing.tags.map((t) => (
                <tr key={t.name}>
                  <th scope="row">{t.name}</th>
                  <td>
                    <a class="mono" href={href('history', { ref: t.name, commit: t.head })}>
                      {short(t.head)}
                    </a>
                  </td>
                  <td>{age(t.createdAt)}</td>
                  <td>
                    <div class="actions">
                      <DeleteButton target={t} sealed={false} onDone={refresh} />
                    </div>
                  </td>
                </tr>
              ))}
            </GridTable>
          )}
        </>
      )}
    </>
  )
}
