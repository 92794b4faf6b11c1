import { cell } from '../format'
import type { Row } from '../types'
import { GridTable } from './GridTable'

/** Rows as a table with one column per key of the first row. */
export function DataGrid({ rows, caption }: { rows: readonly Row[]; caption: string }) {
  const first = rows[0]
  if (first === undefined) return <p class="muted">No rows.</p>
  const names = Object.keys(first)
  return (
    <GridTable label={caption} columns={names} caption={caption}>
      {rows.map((r, i) => (
        <tr key={i}>
          {names.map((n) => (
            <td key={n}>{cell(r[n])}</td>
          ))}
        </tr>
      ))}
    </GridTable>
  )
}
