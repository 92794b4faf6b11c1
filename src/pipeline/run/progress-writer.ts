/**
 * Saves a running job's record while it changes, at most once per `delayMs` and one write at a time, so readers of
 * the record (the server's job events, the web UI's live DAG, `tarn job get` in another shell) see nodes start and
 * finish without a write per change. `settle()` stops it and waits for a write in flight, so the final record the
 * run saves afterwards is never overwritten by an older one.
 */
export function progressWriter(
  write: () => Promise<void>,
  delayMs = 250,
): { changed(): void; settle(): Promise<void> } {
  let timer: ReturnType<typeof setTimeout> | undefined
  let chain: Promise<void> = Promise.resolve()
  let stopped = false
  return {
    changed(): void {
      if (stopped || timer !== undefined) return
      timer = setTimeout(() => {
        timer = undefined
        if (stopped) return
        // a lost progress write only delays what readers see; the run goes on
        chain = chain.then(write).catch(() => undefined)
      }, delayMs)
    },
    async settle(): Promise<void> {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      await chain
    },
  }
}
