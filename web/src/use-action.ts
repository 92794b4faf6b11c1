import { useState } from 'preact/hooks'

/** What {@link useAction} gives a form: whether its action is under way, the last one's error, and how to start one. */
export interface Action {
  readonly busy: boolean
  /** The error the last action threw (the server's ApiError, shown by ErrorBox), null once another starts. */
  readonly error: unknown
  readonly setError: (error: unknown) => void
  /** Runs `work` with `busy` set and the previous error cleared; an error it throws lands in `error`. */
  readonly run: (work: () => Promise<void>) => Promise<void>
}

/** The busy flag and error of a control's action (create, merge, query), so each form states only its work. */
export function useAction(): Action {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const run = async (work: () => Promise<void>): Promise<void> => {
    setBusy(true)
    setError(null)
    try {
      await work()
    } catch (e) {
      setError(e)
    } finally {
      setBusy(false)
    }
  }
  return { busy, error, setError, run }
}
