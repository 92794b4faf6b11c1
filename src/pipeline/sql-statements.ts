/**
 * One statement of a SQL text: its first keyword (upper case) and the character offset where it starts.
 */
export interface SqlStatementStart {
  readonly keyword: string
  readonly offset: number
}

/**
 * The significant pieces of a SQL text in order, skipping whitespace and comments: a quoted string or name as one
 * piece (doubled quotes inside it kept), any other character as a piece of its own.
 */
function* sqlPieces(
  sql: string,
): Generator<{ readonly at: number; readonly end: number; readonly char: string }> {
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
      const end = Math.min(j + 1, sql.length)
      yield { at: i, end, char: c }
      i = end
    } else if (/\s/.test(c)) i++
    else {
      yield { at: i, end: i + 1, char: c }
      i++
    }
  }
}

/**
 * Where each statement of a SQL text starts and its first keyword, splitting on `;` outside strings, quoted names
 * and comments. Only for messages (the line of the second statement of a model, the kind of a statement DuckDB
 * will not serialize); DuckDB's parser decides what the text means.
 */
export function sqlStatementStarts(sql: string): SqlStatementStart[] {
  const out: SqlStatementStart[] = []
  let inStatement = false
  for (const p of sqlPieces(sql)) {
    if (p.char === ';') inStatement = false
    else if (!inStatement) {
      inStatement = true
      const m = /^[A-Za-z_]+/.exec(sql.slice(p.at, p.at + 32))
      out.push({ keyword: (m?.[0] ?? p.char).toUpperCase(), offset: p.at })
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
  for (const p of sqlPieces(sql)) if (p.char !== ';') end = p.end
  return sql.slice(0, end)
}
