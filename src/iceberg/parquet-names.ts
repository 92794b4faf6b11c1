/**
 * The physical Parquet column name Iceberg writers use for a field name (Avro-compatible: letters, digits and `_`
 * kept; a leading digit prefixed with `_`; every other character written as `_x<HEX>`), e.g. Java and Spark write
 * "Breed Name" as "Breed_x20Name". Readers map columns by field id, so this only matters for compatibility.
 */
export function parquetColumnName(name: string): string {
  let out = ''
  let i = 0
  for (const ch of name) {
    const letter = /^[A-Za-z]$/.test(ch)
    const digit = /^[0-9]$/.test(ch)
    if (letter || ch === '_' || (digit && i > 0)) out += ch
    else if (digit) out += `_${ch}`
    else out += `_x${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase()}`
    i++
  }
  return out
}
