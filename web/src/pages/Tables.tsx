import { useEffect, useState } from 'preact/hooks'
import { api, call } from '../api'
import { DataGrid } from '../components/DataGrid'
import { ErrorBox } from '../components/ErrorBox'
import { GridTable } from '../components/GridTable'
import { RefField } from '../components/RefField'
import { bytes, cell } from '../format'
import { href, navigate } from '../route'
import type { Row, TableDetails, TableEntry } from '../types'

const PAGE = 50

/** A partition field as in `--partitioned-by`: `day(pickup_ts)`, `region`. */
function specText(f: unknown): string {
  const o = (typeof f === 'object' && f !== null ? f : {}) as Record<string, unknown>
  if (typeof o.sourceColumn !== 'string') return cell(f)
  return o.transform === 'identity' || o.transform === undefined
    ? o.sourceColumn
    : `${String(o.transform)}(${o.sourceColumn})`
}

/** A quoted SQL identifier: names from the table list, never concatenated raw. */
function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

function Preview({ entry, refName }: { entry: TableEntry; refName: string }) {
  const [page, setPage] = useState(0)
  const [rows, setRows] = useState<Row[] | null>(null)
  const [error, setError] = useState<unknown>(null)
  useEffect(() => setPage(0), [entry.table, refName])
  useEffect(() => {
    setError(null)
    const sql = `SELECT * FROM ${ident(entry.namespace)}.${ident(entry.name)} LIMIT ${PAGE + 1} OFFSET ${page * PAGE}`
    call('POST', '/query', { sql, ref: refName }, { format: 'json' })
      .then((r) => r.json() as Promise<Row[]>)
      .then(setRows)
      .catch(setError)
  }, [entry.table, refName, page])
  return (
    <section aria-labelledby="preview-title">
      <h3 id="preview-title">Rows</h3>
      <ErrorBox error={error} />
      {rows && <DataGrid rows={rows.slice(0, PAGE)} caption={`Rows of ${entry.table}`} />}
      <div class="row-form">
        <button type="button" disabled={page === 0} onClick={() => setPage((p) => p - 1)}>
          Previous rows
        </button>
        <span>
          rows {page * PAGE + 1}–{page * PAGE + Math.min(PAGE, rows?.length ?? 0)}
        </span>
        <button type="button" disabled={(rows?.length ?? 0) <= PAGE} onClick={() => setPage((p) => p + 1)}>
          Next rows
        </button>
      </div>
    </section>
  )
}

function Detail({ entry, refName }: { entry: TableEntry; refName: string }) {
  const [t, setT] = useState<TableDetails | null>(null)
  const [error, setError] = useState<unknown>(null)
  useEffect(() => {
    setT(null)
    setError(null)
    api<{ table: TableDetails }>('GET', `/tables/${encodeURIComponent(entry.table)}`, undefined, {
      ref: refName,
    })
      .then((r) => setT(r.table))
      .catch(setError)
  }, [entry.table, refName])
  return (
    <section class="card table-detail" aria-labelledby="table-title">
      <h2 id="table-title">{entry.table}</h2>
      <ErrorBox error={error} />
      {t && (
        <>
          <p>
            {t.recordCount} rows in {t.dataFiles} data files ({bytes(t.sizeBytes)}), {t.deleteFiles} delete
            files.
          </p>
          <h3>Schema</h3>
          <GridTable label={`Schema of ${entry.table}`} columns={['Field id', 'Name', 'Type', 'Required']}>
            {t.schema.map((f) => (
              <tr key={f.id}>
                <td class="num">{f.id}</td>
                <th scope="row">{f.name}</th>
                <td class="mono">{cell(f.type)}</td>
                <td>{f.required ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </GridTable>
          <h3>Partition spec</h3>
          <p class="mono">
            {t.partitionSpec.length === 0 ? 'unpartitioned' : t.partitionSpec.map(specText).join(', ')}
          </p>
          <h3>Snapshots</h3>
          <GridTable
            label={`Snapshots of ${entry.table}`}
            columns={['Snapshot', 'Time', 'Operation', 'Rows added', 'Total rows']}
          >
            {t.snapshots.map((s) => (
              <tr key={s.snapshotId}>
                <td class="mono">{s.snapshotId}</td>
                <td>{s.timestamp}</td>
                <td>{s.operation}</td>
                <td class="num">{s.summary['added-records'] ?? ''}</td>
                <td class="num">{s.summary['total-records'] ?? ''}</td>
              </tr>
            ))}
          </GridTable>
          <Preview entry={entry} refName={refName} />
        </>
      )}
    </section>
  )
}

/** Namespaces and tables at any ref: schema with field ids, partition spec, snapshots, size, paged rows. */
export function Tables({ params }: { params: URLSearchParams }) {
  const ref = params.get('ref') ?? 'main'
  const selected = params.get('table')
  const [tables, setTables] = useState<TableEntry[] | null>(null)
  const [error, setError] = useState<unknown>(null)
  useEffect(() => {
    setError(null)
    api<{ tables: TableEntry[] }>('GET', '/tables', undefined, { ref })
      .then((r) => setTables(r.tables))
      .catch((e) => {
        setTables(null)
        setError(e)
      })
  }, [ref])
  const namespaces = [...new Set((tables ?? []).map((t) => t.namespace))]
  const entry = tables?.find((t) => t.table === selected)
  return (
    <>
      <h1>Tables</h1>
      <div class="row-form">
        <RefField
          id="tables-ref"
          value={ref}
          onCommit={(r) => navigate('tables', { ref: r, table: selected ?? undefined })}
        />
      </div>
      <ErrorBox error={error} />
      <div class="split">
        {tables && (
          <nav class="table-list" aria-label="Tables by namespace">
            {tables.length === 0 && <p class="muted">No tables at {ref}.</p>}
            {namespaces.map((ns) => (
              <div key={ns}>
                <h2 class="ns">{ns}</h2>
                <ul>
                  {tables
                    .filter((t) => t.namespace === ns)
                    .map((t) => (
                      <li key={t.table}>
                        <a
                          href={href('tables', { ref, table: t.table })}
                          aria-current={t.table === selected ? 'true' : undefined}
                        >
                          {t.name}
                        </a>
                      </li>
                    ))}
                </ul>
              </div>
            ))}
          </nav>
        )}
        {entry && <Detail entry={entry} refName={ref} />}
      </div>
    </>
  )
}
