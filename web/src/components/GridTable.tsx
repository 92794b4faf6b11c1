import type { ComponentChildren } from 'preact'
import { Scroll } from './Scroll'

/** A table in the app's grid style inside its own labelled scrolling region: column headings, then the caller's rows. */
export function GridTable({
  label,
  columns,
  class: extra,
  caption,
  children,
}: {
  label: string
  columns: readonly string[]
  class?: string
  /** For screen readers only. */
  caption?: string
  children: ComponentChildren
}) {
  return (
    <Scroll label={label}>
      <table class={extra ? `grid ${extra}` : 'grid'}>
        {caption !== undefined && <caption class="sr-only">{caption}</caption>}
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </Scroll>
  )
}
