import type { ComponentChildren } from 'preact'

/**
 * A region that scrolls on its own (wide tables, the DAG, logs). It takes keyboard focus so it can be scrolled
 * without a mouse (WCAG's scrollable-region-focusable), and is named for screen readers.
 */
export function Scroll({
  label,
  class: extra,
  children,
}: {
  label: string
  class?: string
  children: ComponentChildren
}) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be focusable to scroll by keyboard
    <section class={extra ? `scroll ${extra}` : 'scroll'} aria-label={label} tabIndex={0}>
      {children}
    </section>
  )
}
