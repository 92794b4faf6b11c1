import { useEffect, useState } from 'preact/hooks'
import { api } from '../api'
import type { RefInfo } from '../types'

let names: Promise<string[]> | undefined

/** Branch and tag names, read once and shared by every ref field until {@link forgetRefNames}. */
export function refNames(): Promise<string[]> {
  names ??= Promise.all([
    api<{ branches: RefInfo[] }>('GET', '/branches'),
    api<{ tags: RefInfo[] }>('GET', '/tags'),
  ]).then(([b, t]) => [...b.branches, ...t.tags].map((r) => r.name))
  names.catch(() => {
    names = undefined
  })
  return names
}

/** Called after a branch or tag is created, deleted or moved. */
export function forgetRefNames(): void {
  names = undefined
}

/**
 * A labelled text field for any ref (branch, tag, `@hash`, `main~1`, `main*2026-01-01`), suggesting the branches and
 * tags once focused; `onCommit` fires on Enter or when the field loses focus.
 */
export function RefField({
  id,
  value,
  onCommit,
  label = 'Ref',
}: {
  id: string
  value: string
  onCommit: (ref: string) => void
  label?: string
}) {
  const [names, setNames] = useState<string[]>([])
  const [text, setText] = useState(value)
  useEffect(() => setText(value), [value])
  // the suggestions load when the field is first used, not with the page: a first load asks for no more than it shows
  const suggest = (): void => {
    if (names.length > 0) return
    refNames()
      .then(setNames)
      .catch(() => setNames([]))
  }
  return (
    <span class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        list={`${id}-refs`}
        value={text}
        onFocus={suggest}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') onCommit(text.trim())
        }}
        onBlur={() => {
          if (text.trim() !== value) onCommit(text.trim())
        }}
      />
      <datalist id={`${id}-refs`}>
        {names.map((n) => (
          <option key={n} value={n} />
        ))}
      </datalist>
    </span>
  )
}
