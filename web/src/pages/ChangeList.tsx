import { GridTable } from '../components/GridTable'
import type { TableChange } from '../types'

function names(list: readonly unknown[]): string {
  return list
    .map((f) => {
      if (typeof f === 'object' && f !== null) {
        const o = f as Record<string, unknown>
        if (typeof o.name === 'string') return o.from !== undefined ? `${String(o.from)}→${o.name}` : o.name
        return JSON.stringify(o)
      }
      return String(f)
    })
    .join(', ')
}

/** What changed per table: added, removed or changed, schema changes, rows and files added and removed. */
export function ChangeList({ changes }: { changes: readonly TableChange[] }) {
  if (changes.length === 0) return <p class="muted">No table changes.</p>
  return (
    <GridTable
      label="Table changes"
      columns={['Table', 'Change', 'Schema', 'Rows +/−', 'Files +/−']}
      class="changes"
    >
      {changes.map((c) => {
        const schema = Object.entries(c.schema)
          .filter(([, v]) => Array.isArray(v) && v.length > 0)
          .map(([k, v]) => `${k}: ${names(v)}`)
        if (c.partitionSpec.changed) schema.push('partition spec changed')
        return (
          <tr key={c.table} data-table={c.table}>
            <th scope="row">{c.table}</th>
            <td>
              <span class={`badge ${c.change}`}>{c.change}</span>
            </td>
            <td>{schema.join('; ')}</td>
            <td class="num">
              +{c.records.added} / −{c.records.removed}
            </td>
            <td class="num">
              +{c.dataFiles.added} / −{c.dataFiles.removed}
            </td>
          </tr>
        )
      })}
    </GridTable>
  )
}
