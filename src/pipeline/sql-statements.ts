/**
 * One statement of a SQL text: its first keyword (upper case) and the character offset where it starts.
 */
export interface SqlStatementStart {
  readonly keyword: string
  readonly offset: number
}

/**
 * Where each statement of a SQL text starts and its first keyword, splitting on `;` outside strings, quoted names
 * and comments. Only for messages (the line of the second statement of a model, the kind of a statement DuckDB
 * will not serialize); DuckDB's parser decides what the text means.
 */
export function sqlStatementStarts(sql: string): SqlStatementStart[] {
  const out: SqlStatementStart[] = []
  let start: number | null = null
  let i = 0
  const begin = (at: number): void => {
    if (start !== null) return
    start = at
    const m = /^[A-Za-z_]+/.exec(sql.slice(at, at + 32))
    out.push({ keyword: (m?.[0] ?? sql.charAt(at)).toUpperCase(), offset: at })
  }
  while (i < sql.length) {
    const c = sql.charAt(i)
    if (c === '-' && sql.charAt(i + 1) === '-') {
      const end = sql.indexOf('\n', i)
      i = end < 0 ? sql.length : end + 1
    } else if (c === '/' && sql.charAt(i + 1) === '*') {
      const end = sql.indexOf('*/', i + 2)
      i = end < 0 ? sql.length : end + 2
    } else if (c === "'" || c === '"') {
      begin(i)
      let j = i + 1
      while (j < sql.length) {
        if (sql.charAt(j) === c) {
          if (sql.charAt(j + 1) === c) j += 2
          else break
        } else j++
      }
      i = j + 1
    } else if (c === ';') {
      start = null
      i++
    } else if (/\s/.test(c)) i++
    else {
      begin(i)
      i++
    }
  }
  return out
}

/**
 * A one-statement SQL text without what may follow its statement: trailing semicolons, whitespace and comments, so
 * the text can be wrapped (`COPY (...) TO`, a subquery). Strings, quoted names and comments inside are kept as they
 * are.
 *
 * @example
 * ```ts
 * sqlBody('SELECT 1; -- done\n') // 'SELECT 1'
 * ```
 */
export function sqlBody(sql: string): string {
  let end = 0
  let i = 0
  while (i < sql.length) {
    const c = sql.charAt(i)
    if (c === '-' && sql.charAt(i + 1) === '-') {
      const next = sql.indexOf('\n', i)
      i = next < 0 ? sql.length : next + 1
    } else if (c === '/' && sql.charAt(i + 1) === '*') {
      const next = sql.indexOf('*/', i + 2)
      i = next < 0 ? sql.length : next + 2
    } else if (c === "'" || c === '"') {
      let j = i + 1
      while (j < sql.length) {
        if (sql.charAt(j) === c) {
          if (sql.charAt(j + 1) === c) j += 2
          else break
        } else j++
      }
      i = j + 1
      end = Math.min(i, sql.length)
    } else if (c === ';' || /\s/.test(c)) i++
    else {
      i++
      end = i
    }
  }
  return sql.slice(0, end)
}
