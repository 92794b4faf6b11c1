import { useEffect, useState } from 'preact/hooks'

/** The page and its parameters, from the location's hash: `#/history?ref=main&commit=ab12…`. */
export interface Route {
  readonly page: string
  readonly params: URLSearchParams
}

function current(): Route {
  const hash = location.hash.replace(/^#\/?/, '')
  const q = hash.indexOf('?')
  const page = (q < 0 ? hash : hash.slice(0, q)) || 'branches'
  return { page, params: new URLSearchParams(q < 0 ? '' : hash.slice(q + 1)) }
}

/** The hash link of a page with parameters (undefined ones left out). */
export function href(page: string, params: Record<string, string | undefined> = {}): string {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') p.set(k, v)
  const qs = p.toString()
  return `#/${page}${qs ? `?${qs}` : ''}`
}

export function navigate(page: string, params: Record<string, string | undefined> = {}): void {
  location.hash = href(page, params)
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current)
  useEffect(() => {
    const update = (): void => setRoute(current())
    addEventListener('hashchange', update)
    return () => removeEventListener('hashchange', update)
  }, [])
  return route
}
