import { cell } from '../format'
import type { Row } from '../types'
import { Scroll } from './Scroll'

/** Rows as a table with one column per key of the first row. */
export function DataGrid({ rows, caption }: { rows: readonly Row[]; caption: string }) {
  const first = rows[0]
  if (first === undefined) return <p class="muted">No rows.</p>
  const names = Object.keys(first)
  return (
    <Scroll label={caption}>
      <table class="grid">
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            {names.map((n) => (
              <th scope="col" key={n}>
                {n}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {names.map((n) => (
                <td key={n}>{cell(r[n])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </Scroll>
  )
}
