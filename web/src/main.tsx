import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { type ApiError, apiKey, onKeyNeeded, setApiKey } from './api'
import { ErrorBox } from './components/ErrorBox'
import { Branches } from './pages/Branches'
import { History } from './pages/History'
import { Query } from './pages/Query'
import { Runs } from './pages/Runs'
import { Tables } from './pages/Tables'
import { href, useRoute } from './route'
import './style.css'

const PAGES = [
  { page: 'branches', title: 'Branches' },
  { page: 'history', title: 'History' },
  { page: 'tables', title: 'Tables' },
  { page: 'query', title: 'Query' },
  { page: 'runs', title: 'Runs' },
] as const

/** The API key form: the key stays in this tab's sessionStorage only, and goes out as `Authorization: Bearer`. */
function KeyForm({ reason, onSaved }: { reason: ApiError; onSaved: () => void }) {
  const [key, setKey] = useState('')
  return (
    <form
      class="card key-form"
      aria-label="API key"
      onSubmit={(e) => {
        e.preventDefault()
        setApiKey(key.trim())
        onSaved()
      }}
    >
      <p>This server needs an API key. It is kept in this browser tab only (session storage).</p>
      <ErrorBox error={reason} />
      <label for="api-key">API key</label>
      <input
        id="api-key"
        type="password"
        autocomplete="off"
        value={key}
        onInput={(e) => setKey(e.currentTarget.value)}
      />
      <button type="submit">Use key</button>
    </form>
  )
}

function App() {
  const route = useRoute()
  const [needKey, setNeedKey] = useState<ApiError | null>(null)
  const [generation, setGeneration] = useState(0)
  useEffect(
    () =>
      onKeyNeeded((e) => {
        setNeedKey(e)
      }),
    [],
  )
  const title = PAGES.find((p) => p.page === route.page)?.title ?? 'Branches'
  useEffect(() => {
    document.title = `${title} · tarn`
  }, [title])
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">tarn</span>
        <nav aria-label="Pages">
          {PAGES.map((p) => (
            <a key={p.page} href={href(p.page)} aria-current={route.page === p.page ? 'page' : undefined}>
              {p.title}
            </a>
          ))}
        </nav>
        {apiKey() !== null && (
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setApiKey(null)
              setGeneration((g) => g + 1)
            }}
          >
            Forget key
          </button>
        )}
      </header>
      <main id="main" key={generation}>
        {needKey && (
          <KeyForm
            reason={needKey}
            onSaved={() => {
              setNeedKey(null)
              setGeneration((g) => g + 1)
            }}
          />
        )}
        {route.page === 'history' ? (
          <History params={route.params} />
        ) : route.page === 'tables' ? (
          <Tables params={route.params} />
        ) : route.page === 'query' ? (
          <Query params={route.params} />
        ) : route.page === 'runs' ? (
          <Runs params={route.params} />
        ) : (
          <Branches />
        )}
      </main>
    </>
  )
}

const root = document.getElementById('app')
if (root) render(<App />, root)
