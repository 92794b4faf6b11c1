import { ApiError } from '../api'

/** A failed call as the server described it: its code and one-line message, announced to screen readers. */
export function ErrorBox({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null
  const code = error instanceof ApiError ? error.code : 'ERROR'
  const message = error instanceof Error ? error.message : String(error)
  return (
    <p class="error" role="alert" data-code={code}>
      <strong>{code}</strong> {message}
    </p>
  )
}
