import { TarnError } from '../util/errors.js'

/**
 * What an error message may mention that the user never wrote, and what to say instead: the private view catalogs
 * (`tarn_v3.main.orders` -> `orders`) and the local paths of data files (-> the table that reads them).
 */
export interface HiddenNames {
  /** Local data file paths by the table they belong to. */
  readonly files?: ReadonlyMap<string, string>
}

const CATALOG = /"?tarn_v\d+"?\.(?:"?main"?\.)?/g
const LINE = /^LINE (\d+): (.*)$/

/**
 * The one-line message of a DuckDB error, as the CLI prints it: the error's own lines joined (`Binder Error: ...
 * Candidate bindings: ...`), DuckDB's `LINE n:` excerpt and caret replaced by `(line n, column c)` when the excerpt
 * is the user's SQL and dropped when it is tarn's internal SQL, view catalogs and file paths replaced by table names.
 */
export function oneLineDuckdbMessage(message: string, sql: string, hidden: HiddenNames = {}): string {
  const lines = message.split('\n')
  const kept: string[] = []
  let where = ''
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    const m = LINE.exec(line)
    if (m) {
      const excerpt = m[2] ?? ''
      const caret = lines[i + 1] ?? ''
      i++
      const fromUser = sql.includes(excerpt.replace(/^\.\.\./, '').replace(/\.\.\.$/, ''))
      if (fromUser) {
        const at = caret.indexOf('^')
        const column = at - (line.length - excerpt.length)
        where =
          at >= 0 && column >= 0 && !excerpt.startsWith('...')
            ? ` (line ${m[1]}, column ${column + 1})`
            : ` (line ${m[1]})`
      }
      continue
    }
    if (line.trim() !== '') kept.push(line.trim())
  }
  let text = kept.join(' ').replace(CATALOG, '')
  for (const [path, table] of hidden.files ?? []) text = text.split(path).join(`<${table}>`)
  return `${text}${where}`
}

/**
 * The `SQL_ERROR` for a DuckDB error while running a user's query: a one-line message (see
 * {@link oneLineDuckdbMessage}) and, in the context, the SQL and DuckDB's full text when it says more.
 */
export function duckdbQueryError(e: unknown, sql: string, hidden: HiddenNames = {}): TarnError {
  const raw = e instanceof Error ? e.message : String(e)
  const message = oneLineDuckdbMessage(raw, sql, hidden)
  const internal = /read_parquet|CREATE (OR REPLACE )?VIEW|tarn_v\d+/.test(raw)
  const detail = raw.includes('\n') && !internal ? { detail: raw } : {}
  return new TarnError('SQL_ERROR', message, { sql, ...detail }, { cause: e })
}
