/**
 * DuckDB's message without the `LINE n:` excerpt it appends, which quotes the SQL tarn wraps around the user's
 * (views over scratch files, COPY): the user's own SQL is in the error's context instead.
 */
export function duckdbReason(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e)
  return (message.split(/\n\s*\nLINE \d+:|\nLINE \d+:/)[0] ?? message).trim().replace(/\s*\n\s*/g, ' ')
}
