import {
  DuckDBArrayValue,
  type DuckDBDateValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  type DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  type DuckDBType,
  DuckDBTypeId,
  DuckDBUnionValue,
  type DuckDBValue,
} from '@duckdb/node-api'

const DATE_INFINITY = 2 ** 31 - 1
const TIMESTAMP_INFINITY = 2n ** 63n - 1n

type Timestamp =
  | DuckDBTimestampValue
  | DuckDBTimestampTZValue
  | DuckDBTimestampMillisecondsValue
  | DuckDBTimestampNanosecondsValue
  | DuckDBTimestampSecondsValue

function rawTicks(v: Timestamp): bigint {
  if (v instanceof DuckDBTimestampMillisecondsValue) return v.millis
  if (v instanceof DuckDBTimestampNanosecondsValue) return v.nanos
  if (v instanceof DuckDBTimestampSecondsValue) return v.seconds
  return v.micros
}

function infinityText(ticks: bigint): string | undefined {
  if (ticks === TIMESTAMP_INFINITY) return 'infinity'
  if (ticks === -TIMESTAMP_INFINITY) return '-infinity'
  return undefined
}

/**
 * A DOUBLE or FLOAT as DuckDB prints it: the shortest digits that read back to the same value (of the value's own
 * width), in positional form with at least one fractional digit for exponents from -4 to 15, else as `1e+20` /
 * `1e-07`; `inf`, `-inf`, `nan`.
 */
export function floatText(x: number, single: boolean): string {
  if (Number.isNaN(x)) return 'nan'
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf'
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0'
  let exp = x.toExponential()
  if (single) {
    for (let digits = 0; digits <= 8; digits++) {
      const candidate = x.toExponential(digits)
      if (Math.fround(Number(candidate)) === x) {
        exp = candidate
        break
      }
    }
  }
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(exp)
  if (!m) return String(x)
  const sign = m[1] ?? ''
  const digits = `${m[2] ?? ''}${m[3] ?? ''}`.replace(/0+$/, '') || '0'
  const e = Number(m[4])
  if (e < -4 || e >= 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    const abs = Math.abs(e)
    return `${sign}${mantissa}e${e < 0 ? '-' : '+'}${abs < 10 ? `0${abs}` : abs}`
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`
  const whole = digits.slice(0, e + 1).padEnd(e + 1, '0')
  const frac = digits.slice(e + 1)
  return `${sign}${whole}.${frac === '' ? '0' : frac}`
}

/** Types whose values DuckDB quotes inside lists, structs and maps when their text needs it. */
const STRING_LIKE = new Set<DuckDBTypeId>([
  DuckDBTypeId.VARCHAR,
  DuckDBTypeId.ENUM,
  DuckDBTypeId.BLOB,
  DuckDBTypeId.DATE,
  DuckDBTypeId.TIME,
  DuckDBTypeId.TIME_NS,
  DuckDBTypeId.TIME_TZ,
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
  DuckDBTypeId.TIMESTAMP_TZ,
  DuckDBTypeId.UUID,
  DuckDBTypeId.INTERVAL,
  DuckDBTypeId.BIT,
])

const SPECIAL = /[[\]{}(),'":=]/

function quoted(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

function nestedText(v: DuckDBValue, t: DuckDBType): string {
  if (v === null) return 'NULL'
  const s = valueText(v, t)
  if (!STRING_LIKE.has(t.typeId)) return s
  const needs = s === '' || /^\s|\s$/.test(s) || s.toUpperCase() === 'NULL' || SPECIAL.test(s)
  return needs ? quoted(s) : s
}

function structEntries(v: DuckDBStructValue, t: DuckDBType): [string, DuckDBValue, DuckDBType][] {
  if (t.typeId !== DuckDBTypeId.STRUCT) return []
  return t.entryNames.map((n, i) => [n, v.entries[n] ?? null, t.entryTypes[i] as DuckDBType])
}

function unionMember(v: DuckDBUnionValue, t: DuckDBType): DuckDBType | undefined {
  if (t.typeId !== DuckDBTypeId.UNION) return undefined
  const i = t.memberTags.indexOf(v.tag)
  return i < 0 ? undefined : t.memberTypes[i]
}

/**
 * A value as DuckDB's `CAST(value AS VARCHAR)` spells it, which is what DuckDB's own shell prints: numbers with
 * their exact digits, temporal values in DuckDB's forms (TIMESTAMPTZ in UTC, as the sandbox's session time zone),
 * BLOBs with `\xNN` escapes, lists as `[1, 2]`, structs as `{'a': 1}`, maps as `{k=v}`, and nested strings quoted
 * only where DuckDB quotes them. NULL is `NULL`.
 */
export function valueText(v: DuckDBValue, t: DuckDBType): string {
  if (v === null) return 'NULL'
  switch (t.typeId) {
    case DuckDBTypeId.FLOAT:
      return floatText(v as number, true)
    case DuckDBTypeId.DOUBLE:
      return floatText(v as number, false)
    case DuckDBTypeId.DATE: {
      const days = (v as DuckDBDateValue).days
      if (days === DATE_INFINITY) return 'infinity'
      if (days === -DATE_INFINITY) return '-infinity'
      return String(v)
    }
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS: {
      const ts = v as Timestamp
      return infinityText(rawTicks(ts)) ?? String(v)
    }
    case DuckDBTypeId.TIMESTAMP_TZ: {
      const micros = (v as DuckDBTimestampTZValue).micros
      return infinityText(micros) ?? `${new DuckDBTimestampValue(micros).toString()}+00`
    }
    case DuckDBTypeId.LIST: {
      const items = v instanceof DuckDBListValue ? v.items : []
      return `[${items.map((x) => nestedText(x, t.valueType)).join(', ')}]`
    }
    case DuckDBTypeId.ARRAY: {
      // DuckDB does not quote the strings of a fixed-size array
      const items = v instanceof DuckDBArrayValue ? v.items : []
      return `[${items.map((x) => valueText(x, t.valueType)).join(', ')}]`
    }
    case DuckDBTypeId.STRUCT: {
      if (!(v instanceof DuckDBStructValue)) return String(v)
      const entries = structEntries(v, t)
      if (entries.length > 0 && entries.every(([n]) => n === '')) {
        return `(${entries.map(([, x, xt]) => nestedText(x, xt)).join(', ')})`
      }
      return `{${entries.map(([n, x, xt]) => `${quoted(n)}: ${nestedText(x, xt)}`).join(', ')}}`
    }
    case DuckDBTypeId.MAP: {
      if (!(v instanceof DuckDBMapValue)) return String(v)
      return `{${v.entries.map((e) => `${nestedText(e.key, t.keyType)}=${nestedText(e.value, t.valueType)}`).join(', ')}}`
    }
    case DuckDBTypeId.UNION: {
      if (!(v instanceof DuckDBUnionValue)) return String(v)
      const member = unionMember(v, t)
      return member ? valueText(v.value, member) : String(v.value)
    }
    default:
      return String(v)
  }
}

const NUMERIC = new Set<DuckDBTypeId>([
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.UHUGEINT,
  DuckDBTypeId.DECIMAL,
  DuckDBTypeId.BIGNUM,
])

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/

/**
 * A value as JSON text: integers of every width and decimals as JSON numbers with their exact digits, floats with
 * DuckDB's shortest digits (`"inf"`, `"-inf"`, `"nan"` as strings), booleans, lists and fixed arrays as arrays,
 * structs as objects, maps as objects keyed by the keys' text, unions as `{"tag": value}` (as DuckDB's `to_json`),
 * and every other type as a string of its DuckDB text.
 */
export function valueJson(v: DuckDBValue, t: DuckDBType): string {
  if (v === null) return 'null'
  if (NUMERIC.has(t.typeId)) {
    const digits = String(v)
    return JSON_NUMBER.test(digits) ? digits : JSON.stringify(digits)
  }
  switch (t.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return v === true ? 'true' : 'false'
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE: {
      const s = floatText(v as number, t.typeId === DuckDBTypeId.FLOAT)
      return Number.isFinite(v as number) ? s : JSON.stringify(s)
    }
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const items = v instanceof DuckDBListValue || v instanceof DuckDBArrayValue ? v.items : []
      return `[${items.map((x) => valueJson(x, t.valueType)).join(',')}]`
    }
    case DuckDBTypeId.STRUCT: {
      if (!(v instanceof DuckDBStructValue)) break
      return `{${structEntries(v, t)
        .map(([n, x, xt]) => `${JSON.stringify(n)}:${valueJson(x, xt)}`)
        .join(',')}}`
    }
    case DuckDBTypeId.MAP: {
      if (!(v instanceof DuckDBMapValue)) break
      return `{${v.entries
        .map((e) => `${JSON.stringify(valueText(e.key, t.keyType))}:${valueJson(e.value, t.valueType)}`)
        .join(',')}}`
    }
    case DuckDBTypeId.UNION: {
      if (!(v instanceof DuckDBUnionValue)) break
      const member = unionMember(v, t)
      const inner = member ? valueJson(v.value, member) : JSON.stringify(String(v.value))
      return `{${JSON.stringify(v.tag)}:${inner}}`
    }
    default:
      break
  }
  return JSON.stringify(valueText(v, t))
}

/**
 * A column type as DuckDB names it (`INTEGER[]`, `STRUCT(a INTEGER, b VARCHAR)`, `DECIMAL(10,2)`, `TIMESTAMP WITH
 * TIME ZONE`, `MAP(VARCHAR, INTEGER)`).
 */
export function typeText(t: DuckDBType): string {
  return t.toString().replace(/"([A-Za-z_][A-Za-z0-9_]*)"/g, '$1')
}

/**
 * One field of CSV (RFC 4180 quoting when the text holds a quote, comma or line break, or has surrounding spaces);
 * NULL is an empty field.
 */
export function csvField(text: string | null): string {
  if (text === null) return ''
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text
}
