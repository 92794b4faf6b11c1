import { useEffect, useState } from 'preact/hooks'
import { api, call } from '../api'
import { DataGrid } from '../components/DataGrid'
import { ErrorBox } from '../components/ErrorBox'
import { RefField } from '../components/RefField'
import { short } from '../format'
import { navigate } from '../route'
import type { QueryPlan, Row } from '../types'
import { useAction } from '../use-action'

interface Outcome {
  readonly rows: Row[]
  readonly plan: QueryPlan
  readonly ms: number
}

/** SQL on any ref: results in a grid, the scan plan (files kept of total), and the result as CSV. */
export function Query({ params }: { params: URLSearchParams }) {
  const ref = params.get('ref') ?? 'main'
  const [sql, setSql] = useState(
    params.get('sql') ?? 'SELECT table_schema, table_name FROM information_schema.tables',
  )
  const [outcome, setOutcome] = useState<Outcome | null>(null)
  const action = useAction()
  const { busy, error } = action
  // a result belongs to the ref it was read at
  useEffect(() => {
    setOutcome(null)
    action.setError(null)
  }, [ref])
  const run = (): Promise<void> =>
    action.run(async () => {
      const started = performance.now()
      const { plan } = await api<{ plan: QueryPlan }>('POST', '/explain', { sql, ref })
      const rows = (await (await call('POST', '/query', { sql, ref }, { format: 'json' })).json()) as Row[]
      setOutcome({ rows, plan, ms: Math.round(performance.now() - started) })
    })
  const download = (): Promise<void> =>
    action.run(async () => {
      const blob = await (await call('POST', '/query', { sql, ref }, { format: 'csv' })).blob()
      const a = document.createElement('a')
      a.href = URL.createObjectURL(blob)
      a.download = 'result.csv'
      a.click()
      setTimeout(() => URL.revokeObjectURL(a.href), 1000)
    })
  return (
    <>
      <h1>Query</h1>
      <form
        class="card"
        aria-label="SQL query"
        onSubmit={(e) => {
          e.preventDefault()
          void run()
        }}
      >
        <div class="row-form">
          <RefField id="query-ref" value={ref} onCommit={(r) => navigate('query', { ref: r })} />
        </div>
        <label for="sql">SQL (Ctrl+Enter runs it)</label>
        <textarea
          id="sql"
          rows={6}
          spellcheck={false}
          value={sql}
          onInput={(e) => setSql(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault()
              void run()
            }
          }}
        />
        <div class="row-form">
          <button type="submit" disabled={busy}>
            Run
          </button>
          <button type="button" class="secondary" onClick={download} disabled={busy}>
            Download CSV
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {outcome && (
        <>
          <p role="status" class="result-summary">
            <span data-rows={outcome.rows.length}>{outcome.rows.length} rows</span> at {outcome.plan.ref}{' '}
            (commit <span class="mono">{short(outcome.plan.commit)}</span>) in {outcome.ms} ms
          </p>
          <DataGrid rows={outcome.rows} caption="Query result" />
          <h2>Scan plan</h2>
          {outcome.plan.tables.length === 0 ? (
            <p class="muted">No lake tables read.</p>
          ) : (
            <table class="grid" aria-label="Scan plan">
              <thead>
                <tr>
                  <th scope="col">Table</th>
                  <th scope="col">Files kept</th>
                  <th scope="col">Rows to read</th>
                  <th scope="col">Columns</th>
                </tr>
              </thead>
              <tbody>
                {outcome.plan.tables.map((t) => (
                  <tr key={t.table}>
                    <th scope="row">{t.table}</th>
                    <td class="num">
                      {t.filesKept} of {t.filesTotal}
                    </td>
                    <td class="num">{t.rowsToRead}</td>
                    <td>{t.columns.length === 0 ? 'all' : t.columns.join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </>
  )
}
