/**
 * Removes parentheses that wrap a whole SQL expression: `((a > 1) AND b)` → `(a > 1) AND b`.
 */
export function stripOuterParens(sql: string): string {
  let s = sql.trim()
  while (s.startsWith('(') && s.endsWith(')') && closingParen(s, 0) === s.length - 1)
    s = s.slice(1, -1).trim()
  return s
}

function closingParen(s: string, open: number): number {
  let depth = 0
  let quote: string | null = null
  for (let i = open; i < s.length; i++) {
    const c = s[i] as string
    if (quote) {
      if (c === quote) quote = null
    } else if (c === "'" || c === '"') quote = c
    else if (c === '(') depth++
    else if (c === ')') {
      depth--
      if (depth === 0) return i
    }
  }
  return -1
}

/**
 * Splits a SQL boolean expression into its top-level `AND` terms (outside quotes and parentheses), each with outer
 * parentheses removed and whitespace collapsed, so that equal terms compare equal.
 */
export function conjuncts(sql: string): string[] {
  const s = stripOuterParens(sql)
  const out: string[] = []
  let depth = 0
  let quote: string | null = null
  let start = 0
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string
    if (quote) {
      if (c === quote) quote = null
    } else if (c === "'" || c === '"') quote = c
    else if (c === '(') depth++
    else if (c === ')') depth--
    else if (depth === 0 && /^\sAND\s/i.test(s.slice(i, i + 5))) {
      out.push(s.slice(start, i))
      start = i + 5
      i += 4
    }
  }
  out.push(s.slice(start))
  return out.map((t) => stripOuterParens(t).replace(/\s+/g, ' ')).filter((t) => t.length > 0)
}

/**
 * The filter of a scan shared by several readers: `null` when one reads unfiltered, else the disjunction of their
 * filters, leaving out a filter that implies another one (all of the other's `AND` terms are among its own).
 */
export function mergeFilters(filters: readonly (string | null)[]): string | null {
  if (filters.length === 0 || filters.some((f) => f === null)) return null
  const terms = new Map<string, { text: string; terms: Set<string> }>()
  for (const f of filters as string[]) {
    const t = conjuncts(f)
    const key = [...t].sort().join(' AND ')
    if (!terms.has(key)) terms.set(key, { text: stripOuterParens(f), terms: new Set(t) })
  }
  const all = [...terms.values()]
  const kept = all.filter(
    (f) =>
      !all.some((g) => g !== f && g.terms.size < f.terms.size && [...g.terms].every((t) => f.terms.has(t))),
  )
  if (kept.length === 1) return (kept[0] as { text: string }).text
  return kept.map((f) => `(${f.text})`).join(' OR ')
}
