import { type Located, type RawModelOptions, resolveModelOptions } from './model-options.js'
import { applyParams, checkParamRefs, type ParamEnv } from './param-env.js'
import { splitPartitionList } from './partition-fields.js'
import type { ColumnUse, ExpectationDef, InputDef, ModelDef } from './project.js'
import { projectError } from './project-error.js'
import { findParams } from './sql-params.js'
import { lineAtByte, type SqlJsonObject, type SqlParser, walkSql } from './sql-parser.js'
import { sqlBody, sqlStatementStarts } from './sql-statements.js'

/**
 * The `-- tarn: key=value` header of a SQL model.
 */
export interface SqlHeader {
  readonly name?: Located<string>
  /** `-- tarn: expectation=true`: the file is an expectation whose query returns the failing rows. */
  readonly expectation?: Located<string>
  readonly options: RawModelOptions
}

/**
 * A table reference of a SQL model's query (CTE names excluded).
 */
export interface SqlTableRef {
  readonly namespace: string | null
  readonly name: string
  readonly line: number
}

/**
 * What DuckDB's parser says a query reads.
 */
export interface SqlAnalysis {
  readonly tables: readonly SqlTableRef[]
  /** Per table reference (`name` or `namespace.name`, lower case) read once, the WHERE applied right on it. */
  readonly wheres: Readonly<Record<string, { readonly filter: string; readonly columns: readonly string[] }>>
  readonly columnUse: ColumnUse
}

/** Table functions a model may call: they compute rows and read no file, setting or network. */
const SAFE_TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest'])
const WHAT_MODELS_READ =
  'a model reads lake tables and other models only, under the same lock-down as tarn query (load files with tarn table create/import)'

const HEADER = /^\s*--\s*tarn:\s*(.*)$/i
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/
const KEYS: Readonly<Record<string, string>> = {
  materialize: 'materialize',
  materialization: 'materialize',
  partitionedby: 'partitionedBy',
  overwritefilter: 'overwriteFilter',
  name: 'name',
  tags: 'tags',
  namespace: 'namespace',
  expectation: 'expectation',
}

/**
 * Parses the header lines (`-- tarn: key=value`) at the top of a SQL model: `materialize`, `partitionedBy`
 * (comma-separated), `overwriteFilter`, `name`, `tags` (comma-separated) and `namespace`.
 */
export function parseSqlHeader(text: string, file: string): SqlHeader {
  const lines = text.split('\n')
  const seen = new Set<string>()
  const out: Record<string, Located<string> | Located<readonly string[]>> = {}
  let inHeader = true
  lines.forEach((raw, i) => {
    const line = i + 1
    const m = HEADER.exec(raw)
    if (!m) {
      const t = raw.trim()
      if (t !== '' && !t.startsWith('--')) inHeader = false
      return
    }
    if (!inHeader)
      throw projectError('PROJECT_INVALID', file, line, '`-- tarn:` header lines go before the query')
    const body = (m[1] ?? '').trim()
    const eq = body.indexOf('=')
    if (eq <= 0)
      throw projectError(
        'PROJECT_INVALID',
        file,
        line,
        `expected -- tarn: key=value, got ${JSON.stringify(body)}`,
      )
    const rawKey = body.slice(0, eq).trim()
    const key = KEYS[rawKey.toLowerCase().replaceAll('_', '')]
    if (!key)
      throw projectError(
        'PROJECT_INVALID',
        file,
        line,
        `unknown header key ${rawKey} (use materialize, partitionedBy, overwriteFilter, name, tags, namespace, expectation)`,
      )
    if (seen.has(key)) throw projectError('PROJECT_INVALID', file, line, `header key ${key} is given twice`)
    seen.add(key)
    const value = body.slice(eq + 1).trim()
    if (key === 'partitionedBy') out[key] = { value: splitPartitionList(value), line }
    else if (key === 'tags')
      out[key] = {
        value: value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        line,
      }
    else out[key] = { value, line }
  })
  const { name, expectation, ...options } = out
  return {
    ...(name ? { name: name as Located<string> } : {}),
    ...(expectation ? { expectation: expectation as Located<string> } : {}),
    options: options as RawModelOptions,
  }
}

/**
 * Parses a query with DuckDB's parser (never running it) and lists the tables it reads — `BASE_TABLE` references
 * that are not CTE names in scope — with their lines, and the columns it names.
 */
export async function analyzeSql(
  parser: SqlParser,
  sql: string,
  file: string,
  model: string,
): Promise<SqlAnalysis> {
  if (sql.replace(/--[^\n]*/g, '').trim() === '')
    throw projectError('PROJECT_INVALID', file, 1, `model ${model}: the file holds no query`, { model })
  const r = await parser.parse(sql)
  const starts = sqlStatementStarts(sql)
  const lineOf = (offset: number): number => lineAtByte(sql, Buffer.byteLength(sql.slice(0, offset), 'utf8'))
  if (r.error && r.notSelect) {
    const bad = starts.find((st) => st.keyword !== 'SELECT' && st.keyword !== 'WITH' && st.keyword !== 'FROM')
    const line = bad ? lineOf(bad.offset) : 1
    const found = bad ? `${bad.keyword} statement` : 'a statement that is not a SELECT'
    throw projectError(
      'MODEL_NOT_ALLOWED',
      file,
      line,
      `model ${model}: a SQL model holds exactly one SELECT statement, found ${found} (${WHAT_MODELS_READ})`,
      { model, ...(bad ? { statement: bad.keyword } : {}) },
    )
  }
  if (r.error) {
    const line = r.position === null ? 1 : lineAtByte(sql, r.position)
    throw projectError('PROJECT_INVALID', file, line, `model ${model}: ${r.message}`, { model })
  }
  if (r.statements.length !== 1) {
    const second = starts.length === r.statements.length ? starts[1] : undefined
    throw projectError(
      'PROJECT_INVALID',
      file,
      second ? lineOf(second.offset) : 1,
      `model ${model}: a SQL model holds exactly one SELECT statement (found ${r.statements.length} statements)`,
      { model },
    )
  }
  walkSql(r.statements[0] as SqlJsonObject, (node) => {
    const fn = node.function
    if (node.type !== 'TABLE_FUNCTION' || fn === null || typeof fn !== 'object' || Array.isArray(fn)) return
    const name = String(fn.function_name ?? '').toLowerCase()
    if (SAFE_TABLE_FUNCTIONS.has(name)) return
    const loc = Number(fn.query_location ?? node.query_location)
    throw projectError(
      'MODEL_NOT_ALLOWED',
      file,
      Number.isFinite(loc) && loc < 2 ** 32 ? lineAtByte(sql, loc) : 1,
      `model ${model}: table function ${name}() is not allowed: ${WHAT_MODELS_READ}`,
      { model, function: name },
    )
  })
  const tables: SqlTableRef[] = []
  const names = new Set<string>()
  let star = false
  const candidates: { key: string; where: SqlJsonObject }[] = []
  walkSql(r.statements[0] as SqlJsonObject, (node, ctes) => {
    const from = node.from_table
    if (
      node.type === 'SELECT_NODE' &&
      from !== null &&
      typeof from === 'object' &&
      !Array.isArray(from) &&
      from.type === 'BASE_TABLE' &&
      (from.sample === null || from.sample === undefined) &&
      typeof from.table_name === 'string' &&
      node.where_clause !== null &&
      typeof node.where_clause === 'object' &&
      !Array.isArray(node.where_clause)
    ) {
      const schema = typeof from.schema_name === 'string' && from.schema_name !== '' ? from.schema_name : null
      if (schema !== null || !ctes.has(from.table_name.toLowerCase()))
        candidates.push({ key: refKey(schema, from.table_name), where: node.where_clause })
    }
    if (node.type === 'BASE_TABLE' && typeof node.table_name === 'string') {
      const schema = typeof node.schema_name === 'string' && node.schema_name !== '' ? node.schema_name : null
      const catalog = typeof node.catalog_name === 'string' ? node.catalog_name : ''
      const loc = Number(node.query_location)
      const line = Number.isFinite(loc) && loc < 2 ** 32 ? lineAtByte(sql, loc) : 1
      if (catalog !== '')
        throw projectError(
          'PROJECT_INVALID',
          file,
          line,
          `model ${model}: ${catalog}.${schema}.${node.table_name}: use table or namespace.table`,
          { model },
        )
      if (schema === null && ctes.has(node.table_name.toLowerCase())) return
      if (!IDENT.test(node.table_name) || (schema !== null && !IDENT.test(schema)))
        throw projectError(
          'MODEL_NOT_ALLOWED',
          file,
          line,
          `model ${model}: ${JSON.stringify(node.table_name)} is not a table name (reading files is not allowed: ${WHAT_MODELS_READ})`,
          { model, table: node.table_name },
        )
      tables.push({ namespace: schema, name: node.table_name, line })
    } else if (node.class === 'STAR') star = true
    else if (node.class === 'COLUMN_REF' && Array.isArray(node.column_names)) {
      const last = node.column_names[node.column_names.length - 1]
      if (typeof last === 'string') names.add(last)
    }
  })
  const count = new Map<string, number>()
  for (const t of tables) {
    const k = refKey(t.namespace, t.name)
    count.set(k, (count.get(k) ?? 0) + 1)
  }
  const wheres: Record<string, { filter: string; columns: readonly string[] }> = {}
  for (const c of candidates) {
    if (count.get(c.key) !== 1 || wheres[c.key]) continue
    let pushable = true
    const columns = new Set<string>()
    walkSql(c.where, (n) => {
      if (n.class === 'SUBQUERY' || n.class === 'WINDOW' || n.class === 'PARAMETER') pushable = false
      if (n.class === 'COLUMN_REF' && Array.isArray(n.column_names)) {
        const last = n.column_names[n.column_names.length - 1]
        if (typeof last === 'string') columns.add(last)
      }
    })
    if (!pushable || columns.size === 0) continue
    try {
      wheres[c.key] = Object.freeze({
        filter: await parser.expressionSql(c.where),
        columns: Object.freeze([...columns]),
      })
    } catch {
      // Not every expression round-trips; the query still applies its WHERE itself.
    }
  }
  return {
    tables,
    wheres: Object.freeze(wheres),
    columnUse: Object.freeze({ star, names: Object.freeze([...names].sort()) }),
  }
}

function refKey(namespace: string | null, name: string): string {
  return (namespace ? `${namespace}.${name}` : name).toLowerCase()
}

/**
 * Loads one `.sql` model: header, parameters (checked, then substituted), and the tables its query reads.
 */
export async function loadSqlModel(
  parser: SqlParser,
  env: ParamEnv,
  file: string,
  text: string,
  defaultNamespace: string,
): Promise<ModelDef> {
  const header = parseSqlHeader(text, file)
  const base =
    file
      .split('/')
      .pop()
      ?.replace(/\.sql$/i, '') ?? file
  const name = header.name?.value ?? base
  if (!IDENT.test(name))
    throw projectError(
      'PROJECT_INVALID',
      file,
      header.name?.line ?? 1,
      `invalid model name ${JSON.stringify(name)}: use a letter or _ followed by letters, digits or _ (or -- tarn: name=...)`,
      { model: name },
    )
  const refs = findParams(text)
  checkParamRefs(env, refs, file, { model: name })
  const sql = applyParams(env, text)
  const options = await resolveModelOptions(parser, env, file, name, defaultNamespace, header.options)
  const analysis = await analyzeSql(parser, sql, file, name)
  const seen = new Map<string, string>()
  const inputs: InputDef[] = []
  for (const t of analysis.tables) {
    const table = t.namespace ? `${t.namespace}.${t.name}` : t.name
    const other = seen.get(table.toLowerCase())
    if (other !== undefined && other !== table) {
      // DuckDB resolves both spellings to one relation: tables that differ only in case cannot both be read here
      throw projectError(
        'AMBIGUOUS_TABLE',
        file,
        t.line,
        `model ${name} names both ${other} and ${table}, which differ only in letter case and read as one table; use one spelling`,
        { model: name, tables: [other, table] },
      )
    }
    if (other !== undefined) continue
    seen.set(table.toLowerCase(), table)
    inputs.push(
      Object.freeze({
        alias: table,
        table,
        columns: null,
        filter: null,
        filterColumns: [],
        line: t.line,
        where: analysis.wheres[table.toLowerCase()] ?? null,
      }),
    )
  }
  return Object.freeze({
    kind: 'sql' as const,
    name,
    file,
    line: header.name?.line ?? 1,
    namespace: options.namespace,
    materialize: options.materialize,
    partitionedBy: options.partitionedBy,
    overwriteFilter: options.overwriteFilter,
    overwriteFilterColumns: options.overwriteFilterColumns,
    overwriteFilterLine: options.overwriteFilterLine,
    tags: options.tags,
    packages: options.packages,
    memory: null,
    timeout: null,
    inputs: Object.freeze(inputs),
    // wrapped by the run (COPY, a function's input query): a trailing semicolon or comment would break out of it
    sql: sqlBody(sql),
    columnUse: analysis.columnUse,
    params: Object.freeze([...new Set([...refs.map((r) => r.name), ...options.params])]),
  })
}

/**
 * True when a `.sql` file is an expectation (`-- tarn: expectation=true`); another value of the key is an error.
 */
export function isSqlExpectation(text: string, file: string): boolean {
  const e = parseSqlHeader(text, file).expectation
  if (!e) return false
  if (e.value !== 'true' && e.value !== 'false')
    throw projectError(
      'PROJECT_INVALID',
      file,
      e.line,
      `expectation takes true or false, not ${JSON.stringify(e.value)}`,
    )
  return e.value === 'true'
}

/**
 * Loads a SQL expectation: a `.sql` file headed `-- tarn: expectation=true` whose query returns the failing rows
 * (none passes; otherwise the run fails with their count and a sample). It materialises nothing.
 */
export async function loadSqlExpectation(
  parser: SqlParser,
  env: ParamEnv,
  file: string,
  text: string,
  defaultNamespace: string,
): Promise<ExpectationDef> {
  const header = parseSqlHeader(text, file)
  for (const [key, v] of Object.entries(header.options)) {
    if (key === 'tags' || v === undefined) continue
    throw projectError(
      'PROJECT_INVALID',
      file,
      (v as Located<unknown>).line,
      `${key} does not apply to an expectation: its query returns the failing rows and writes nothing`,
    )
  }
  const m = await loadSqlModel(parser, env, file, text, defaultNamespace)
  return Object.freeze({
    name: m.name,
    file: m.file,
    line: m.line,
    inputs: m.inputs,
    tags: m.tags,
    description: null,
    params: m.params,
    sql: m.sql as string,
  })
}
